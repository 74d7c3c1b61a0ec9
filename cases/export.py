"""Exporting a case list to CSV (UTF-8 with BOM, for Excel) and XLSX, as people read it.

Times are Asia/Shanghai wall-clock times, sources and departments their Chinese names (the
table itself is core/export.py's).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from cases.const import SOURCE_NAMES, Light, Source
from cases.schemas import CaseOut
from core.export import Cell, cell
from core.export import render as render_table

COLUMNS: Final = (
    ("number", "案件编号"),
    ("status_name", "状态"),
    ("source", "来源"),
    ("category_code", "类别编码"),
    ("category_name", "类别"),
    ("urgency", "立案等级"),
    ("description", "问题描述"),
    ("address", "地址"),
    ("department_id", "处置部门"),
    ("light", "亮灯"),
    ("overdue", "超期"),
    ("report_count", "上报次数"),
    ("deadline_at", "当前时限"),
    ("created_at", "上报时间"),
    ("closed_at", "结案时间"),
)
LIGHTS: Final = {Light.GREEN: "绿", Light.YELLOW: "黄", Light.RED: "红", Light.NONE: ""}


def _value(row: CaseOut, name: str, departments: Mapping[int, str]) -> Cell:
    """One cell as a person reads it: local times, Chinese names, numbers as numbers."""
    value = getattr(row, name)
    if name == "light":
        return LIGHTS[value]
    if name == "overdue":
        return "是" if value else "否"
    if name == "source":
        return SOURCE_NAMES.get(Source(value), str(value))
    if name == "department_id":
        return departments.get(value, "") if value is not None else ""
    return cell(value)


def _rows(rows: list[CaseOut], departments: Mapping[int, str]) -> list[list[Cell]]:
    return [[_value(r, name, departments) for name, _ in COLUMNS] for r in rows]


def render(
    rows: list[CaseOut], fmt: str, *, departments: Mapping[int, str] | None = None
) -> tuple[bytes, str]:
    """Render rows as CSV or XLSX; return the bytes and the content type.

    `departments` maps department ids to their names (the 处置部门 column).
    """
    header = [title for _, title in COLUMNS]
    return render_table(header, _rows(rows, departments or {}), fmt, sheet="案件")
