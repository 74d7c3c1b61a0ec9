"""`cityloop import staff`: accounts from a spreadsheet; new ones get one-time passwords."""

from __future__ import annotations

import re
from typing import Any, Final

from tortoise.transactions import in_transaction

from core.audit.service import Actor, record, record_change
from core.auth.accounts import one_time_password, staff_record
from core.auth.const import ROLE_NAMES, Role
from core.auth.models import Staff
from core.auth.service import new_password_hash
from core.bulk.plan import Plan, Verdict, diff
from core.bulk.tables import Column, Row
from core.org.models import Department

COLUMNS: Final = (
    Column("username", "用户名", True, "登录名：字母、数字、_ . -，3-64位"),
    Column("display_name", "姓名", True, "如 王小明"),
    Column("roles", "角色", True, "、".join(ROLE_NAMES.values()) + "；多个用顿号或逗号分开"),
    Column("department", "部门编码", False, "处置人员必填：所属部门的编码"),
    Column("phone", "手机号", False, "11位手机号"),
)
NAMES: Final = {c.field: c.header for c in COLUMNS}
_ROLES: Final = {name: role for role, name in ROLE_NAMES.items()} | {r.value: r for r in Role}
_USERNAME = re.compile(r"^[A-Za-z0-9_.-]{3,64}$")
_PHONE = re.compile(r"^\+?\d{5,19}$")
_SPLIT = re.compile(r"[、,，;；\s]+")


def _roles(text: str) -> list[str] | str:
    names = [n for n in _SPLIT.split(text) if n]
    unknown = [n for n in names if n not in _ROLES]
    if unknown or not names:
        return f"角色不正确：{'、'.join(unknown) or '（空）'}"
    return sorted({_ROLES[n].value for n in names})


def _zh(roles: list[str]) -> list[str]:
    return [ROLE_NAMES[Role(r)] for r in roles]


def _problem(cells: dict[str, str], departments: dict[str, tuple[int, bool]]) -> str | None:
    if not _USERNAME.match(cells.get("username", "")):
        return "用户名不正确（字母、数字、_ . -，3-64位）"
    if not cells.get("display_name") or len(cells["display_name"]) > 64:
        return "姓名必填，最长64字"
    roles = _roles(cells.get("roles", ""))
    if isinstance(roles, str):
        return roles
    code = cells.get("department", "")
    if code and code not in departments:
        return f"部门编码 {code} 不存在（请先导入部门）"
    if code and departments[code][1]:
        return f"部门 {code} 已撤销"
    if Role.HANDLER in roles and not code:
        return "处置人员必须填写部门编码"
    if cells.get("phone") and not _PHONE.match(cells["phone"]):
        return "手机号不正确"
    return None


async def plan(rows: list[Row]) -> Plan:
    """What importing these rows would do (nothing is written)."""
    out = Plan("staff")
    rows_of = await Department.all().values_list("code", "id", "retired_at")
    departments = {str(c): (int(str(i)), r is not None) for c, i, r in rows_of}
    codes = {i: c for c, (i, _) in departments.items()}
    existing = {s.username: s for s in await Staff.all()}
    seen: dict[str, int] = {}
    for row in rows:
        c = row.cells
        username = c.get("username", "")
        why = _problem(c, departments)
        if why is None and username.casefold() in seen:
            why = f"用户名与第{seen[username.casefold()]}行重复"
        if why:
            out.refuse(row.number, username or "（无用户名）", why)
            continue
        seen[username.casefold()] = row.number
        staff = existing.get(username)
        values: dict[str, Any] = {
            "display_name": c["display_name"],
            "roles": _roles(c["roles"]),
            "department": c.get("department") or None,
            "phone": c.get("phone") or None,
        }
        if staff is None:
            out.add(row.number, Verdict.CREATE, f"{username} {values['display_name']}", **values)
            continue
        if "department" not in c:
            values["department"] = codes.get(staff.department_id) if staff.department_id else None
        if "phone" not in c:
            values["phone"] = staff.phone
        stored: dict[str, Any] = {
            "display_name": staff.display_name,
            "roles": sorted(staff.roles),
            "department": codes.get(staff.department_id) if staff.department_id else None,
            "phone": staff.phone,
        }
        shown = {"roles": _zh(values["roles"])}
        text = diff(stored | {"roles": _zh(stored["roles"])}, values | shown, NAMES)
        verdict = Verdict.UPDATE if text else Verdict.SAME
        out.add(row.number, verdict, f"{username} {values['display_name']}", text, **values)
    return out


async def apply(rows: list[Row], *, actor: Actor) -> tuple[Plan, dict[str, str]]:
    """Write the plan in one transaction; return it and the one-time password of each new
    account (shown once, to be handed over; each must be changed at first login)."""
    draft = await plan(rows)
    if draft.refused:
        return draft, {}
    new = [line for line in draft.writes() if line.verdict is Verdict.CREATE]
    passwords = {line.key.split(" ", 1)[0]: one_time_password() for line in new}
    hashes = {u: await new_password_hash(p) for u, p in passwords.items()}  # before the lock
    async with in_transaction():
        done = await plan(rows)  # again, inside: nothing changed meanwhile, or it shows
        if done.refused or [line.key for line in done.writes()] != [
            line.key for line in draft.writes()
        ]:
            return done, {}
        ids = dict(await Department.all().values_list("code", "id"))
        for line in done.writes():
            await _write(line.key.split(" ", 1)[0], line.values, ids, hashes, actor)
    return done, passwords


async def _write(
    username: str, values: dict[str, Any], ids: dict[str, int], hashes: dict[str, str], actor: Actor
) -> None:
    fields = {k: v for k, v in values.items() if k != "department"}
    fields["department_id"] = ids[values["department"]] if values["department"] else None
    staff = await Staff.get_or_none(username=username)
    if staff is None:
        staff = await Staff.create(
            username=username, password_hash=hashes[username], must_change_password=True, **fields
        )
        await record(
            actor=actor,
            action="staff.create",
            target="staff",
            target_id=staff.id,
            after=staff_record(staff),
        )
        return
    before = staff_record(staff)
    for key, value in fields.items():
        setattr(staff, key, value)
    await staff.save()
    await record_change(
        actor=actor,
        action="staff.update",
        target="staff",
        target_id=staff.id,
        before=before,
        after=staff_record(staff),
    )
