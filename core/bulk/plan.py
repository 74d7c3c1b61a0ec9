"""What an import would do, row by row, before it does anything."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Verdict(StrEnum):
    CREATE = "新增"
    UPDATE = "修改"
    SAME = "不变"
    RETIRE = "停用"
    REFUSE = "拒绝"


@dataclass(frozen=True)
class Line:
    """One row's fate: what it names, and what changes or why it is refused."""

    number: int  # 0: not in the file (a grid a replacing import retires)
    verdict: Verdict
    key: str
    detail: str = ""
    values: dict[str, Any] = field(default_factory=dict)  # what the row writes


@dataclass
class Plan:
    """Every row of a file, in the file's order."""

    kind: str
    lines: list[Line] = field(default_factory=list)
    unit: str = "行"  # how the file counts its items: 行, or 个要素 for a map file
    notes: list[str] = field(default_factory=list)  # a line each after the counts

    def add(self, number: int, verdict: Verdict, key: str, detail: str = "", **values: Any) -> None:
        self.lines.append(Line(number, verdict, key, detail, values))

    def refuse(self, number: int, key: str, why: str) -> None:
        self.add(number, Verdict.REFUSE, key, why)

    @property
    def refused(self) -> list[Line]:
        return [line for line in self.lines if line.verdict is Verdict.REFUSE]

    def writes(self) -> list[Line]:
        wrote = {Verdict.CREATE, Verdict.UPDATE, Verdict.RETIRE}
        return [line for line in self.lines if line.verdict in wrote]

    def report(self) -> list[str]:
        """The lines a person reads: one per row, then the counts."""
        out = [
            (f"第{line.number}{self.unit}" if line.number else "文件外")
            + f"  {line.verdict}  {line.key}"
            + (f"  {line.detail}" if line.detail else "")
            for line in self.lines
        ]
        counts = {v: sum(1 for line in self.lines if line.verdict is v) for v in Verdict}
        shown = {v: n for v, n in counts.items() if n or v is not Verdict.RETIRE}
        out.append("，".join(f"{v} {n}" for v, n in shown.items()))
        return out + self.notes


def diff(before: dict[str, Any], after: dict[str, Any], names: dict[str, str]) -> str:
    """`名称：环卫处 → 环卫局；…` for the fields that change."""
    parts = [
        f"{names.get(k, k)}：{_shown(before.get(k))} → {_shown(v)}"
        for k, v in after.items()
        if before.get(k) != v
    ]
    return "；".join(parts)


def _shown(value: Any) -> str:
    if isinstance(value, list | tuple):
        return "、".join(map(str, value)) or "（空）"
    return str(value) if value not in (None, "") else "（空）"
