"""`cityloop import departments`: the organisation tree from a spreadsheet."""

from __future__ import annotations

import re
from typing import Any, Final

from tortoise.transactions import in_transaction

from core.audit.service import Actor, record_change
from core.bulk.plan import Plan, Verdict, diff
from core.bulk.tables import Column, Row
from core.org.models import Department, DepartmentKind
from core.org.service import KIND_NAMES, PARENT_KINDS, add_department, department_record

COLUMNS: Final = (
    Column("code", "编码", True, "部门或区域的编码（字母、数字、_ . -，最长32位），导入后不变"),
    Column("name", "名称", True, "如 环卫处、八大关街道"),
    Column("kind", "类型", True, "区、街道、社区、专业部门、作业单位 之一"),
    Column(
        "parent", "上级编码", False, "街道填所属区，社区填所属街道，作业单位填所属部门；顶层留空"
    ),
    Column("contact_name", "联系人", False, "如 值班室"),
    Column("contact_phone", "联系电话", False, "办公电话，如 0532-88880000"),
)
NAMES: Final = {c.field: c.header for c in COLUMNS} | {"parent_id": "上级"}
_KINDS: Final = {name: kind for kind, name in KIND_NAMES.items()} | {
    "镇": DepartmentKind.STREET,
    "村": DepartmentKind.COMMUNITY,
    "部门": DepartmentKind.DEPARTMENT,
    "单位": DepartmentKind.UNIT,
    **{k.value: k for k in DepartmentKind},
}
_CODE = re.compile(r"^[0-9A-Za-z_.-]{1,32}$")
_PHONE = re.compile(r"^[\d+\-]{3,20}$")


def _problem(cells: dict[str, str]) -> str | None:
    if not _CODE.match(cells.get("code", "")):
        return "编码不正确（字母、数字、_ . -，最长32位）"
    if not cells.get("name") or len(cells["name"]) > 64:
        return "名称必填，最长64字"
    if cells.get("kind") not in _KINDS:
        return f"类型不正确：{cells.get('kind') or '（空）'}"
    if cells.get("contact_phone") and not _PHONE.match(cells["contact_phone"]):
        return "联系电话不正确"
    if len(cells.get("contact_name", "")) > 32:
        return "联系人最长32字"
    return None


async def plan(rows: list[Row]) -> Plan:
    """What importing these rows would do (nothing is written). A column in the file is the
    truth for its rows (an empty cell clears); a column left out keeps what is stored."""
    out = Plan("departments")
    existing = {d.code: d for d in await Department.all()}
    by_id = {d.id: d.code for d in existing.values()}
    was_parent = {c: by_id.get(d.parent_id) if d.parent_id else None for c, d in existing.items()}
    kinds = {code: d.kind for code, d in existing.items()}
    parents = dict(was_parent)
    seen: dict[str, int] = {}
    valid: list[tuple[Row, dict[str, Any]]] = []
    for row in rows:
        code = row.cells.get("code", "")
        why = _problem(row.cells)
        if why is None and code in seen:
            why = f"编码与第{seen[code]}行重复"
        if why:
            out.refuse(row.number, code or "（无编码）", why)
            continue
        seen[code] = row.number
        values = _values(row.cells, existing.get(code), was_parent.get(code))
        kinds[code], parents[code] = values["kind"], values["parent"]
        valid.append((row, values))
    for row, values in valid:
        code = row.cells["code"]
        why = _tree_problem(code, values, kinds, parents, existing)
        if why:
            out.refuse(row.number, code, why)
            continue
        label = f"{code} {values['name']}"
        dep = existing.get(code)
        if dep is None:
            out.add(row.number, Verdict.CREATE, label, **values)
            continue
        stored = {
            "name": dep.name,
            "kind": dep.kind,
            "parent": was_parent.get(code),
            "contact_name": dep.contact_name,
            "contact_phone": dep.contact_phone,
        }
        text = diff(stored, values, NAMES)
        out.add(row.number, Verdict.UPDATE if text else Verdict.SAME, label, text, **values)
    out.lines.sort(key=lambda line: line.number)
    return out


def _values(cells: dict[str, str], dep: Department | None, parent: str | None) -> dict[str, Any]:
    def given(key: str, stored: str | None) -> str | None:
        return (cells[key] or None) if key in cells else stored

    return {
        "name": cells["name"],
        "kind": _KINDS[cells["kind"]],
        "parent": given("parent", parent),
        "contact_name": given("contact_name", dep.contact_name if dep else None),
        "contact_phone": given("contact_phone", dep.contact_phone if dep else None),
    }


def _tree_problem(
    code: str,
    values: dict[str, Any],
    kinds: dict[str, DepartmentKind],
    parents: dict[str, str | None],
    existing: dict[str, Department],
) -> str | None:
    parent = values["parent"]
    if parent is not None and parent not in kinds:
        return f"上级编码 {parent} 不存在"
    if code in existing and existing[code].kind != values["kind"]:
        return f"类型不能从{KIND_NAMES[existing[code].kind]}改为{KIND_NAMES[values['kind']]}"
    if (kinds[parent] if parent else None) not in PARENT_KINDS[values["kind"]]:
        under = KIND_NAMES[kinds[parent]] if parent else "顶层"
        return f"{KIND_NAMES[values['kind']]}不能设在{under}之下"
    if parent in existing and existing[parent].retired_at is not None:
        return f"上级 {parent} 已撤销"
    node, steps = parent, 0
    while node is not None and steps <= len(parents):
        if node == code:
            return "上级关系成环"
        node, steps = parents.get(node), steps + 1
    return None


async def apply(rows: list[Row], *, actor: Actor) -> Plan:
    """Plan again inside one transaction and write it; a refusal writes nothing."""
    async with in_transaction():
        done = await plan(rows)
        if done.refused:
            return done
        pending = {line.key.split(" ", 1)[0]: line for line in done.writes()}
        while pending:
            ids = dict(await Department.all().values_list("code", "id"))
            ready = [
                c
                for c, line in pending.items()
                if not line.values["parent"] or line.values["parent"] in ids
            ]
            if not ready:  # the plan checked every parent: this cannot happen
                raise RuntimeError(f"no parent for {sorted(pending)}")
            for code in ready:
                await _write(code, pending.pop(code).values, ids, actor)
    return done


async def _write(code: str, values: dict[str, Any], ids: dict[str, int], actor: Actor) -> None:
    fields = {k: v for k, v in values.items() if k != "parent"}
    fields["parent_id"] = ids.get(values["parent"]) if values["parent"] else None
    dep = await Department.get_or_none(code=code)
    if dep is None:
        await add_department(actor=actor, code=code, **fields)
        return
    before = department_record(dep)
    fields.pop("kind")
    for key, value in fields.items():
        setattr(dep, key, value)
    await dep.save()
    await record_change(
        actor=actor,
        action="department.update",
        target="department",
        target_id=dep.id,
        before=before,
        after=department_record(dep),
    )
