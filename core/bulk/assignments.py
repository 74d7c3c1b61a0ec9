"""`cityloop import grid-assignments`: which inspector walks which grid, and who is 主责.

For every inspector the file names, the file is the whole list of their grids (a re-import
of the same file changes nothing); inspectors it does not name keep theirs.
"""

from __future__ import annotations

from typing import Final

from tortoise.transactions import in_transaction

from core.audit.service import Actor
from core.auth.accounts import set_grids
from core.auth.const import Role
from core.auth.models import Staff
from core.bulk.plan import Plan, Verdict, diff
from core.bulk.tables import Column, Row
from core.org.models import Grid, GridAssignment

COLUMNS: Final = (
    Column("username", "用户名", True, "监督员的登录名"),
    Column("grid", "网格编码", True, "15位单元网格编码"),
    Column("primary", "主责", False, "是/否：该网格的主责监督员（每个网格至多一人）"),
)
_YES: Final = {"是", "y", "yes", "1", "true", "主责", "√"}
_NO: Final = {"", "否", "n", "no", "0", "false"}


def _flag(text: str) -> bool | None:
    value = text.strip().casefold()
    return True if value in _YES else False if value in _NO else None


async def plan(rows: list[Row]) -> Plan:
    """What importing these rows would do (nothing is written)."""
    out = Plan("grid-assignments")
    staff = {s.username: s for s in await Staff.all()}
    grids = dict(await Grid.filter(retired_at=None).values_list("code", "id"))
    wanted: dict[str, dict[str, bool]] = {}
    primary_of: dict[str, tuple[str, int]] = {}
    first_row: dict[str, int] = {}
    for row in rows:
        username, code = row.cells.get("username", ""), row.cells.get("grid", "")
        flag = _flag(row.cells.get("primary", ""))
        person = staff.get(username)
        why = None
        if person is None:
            why = f"用户 {username or '（空）'} 不存在（请先导入员工）"
        elif Role.INSPECTOR not in person.roles:
            why = f"{username} 不是监督员"
        elif code not in grids:
            why = f"网格编码 {code or '（空）'} 不存在或已停用"
        elif flag is None:
            why = f"主责应填 是 或 否：{row.cells.get('primary')}"
        elif code in wanted.get(username, {}):
            why = f"与第{first_row[username + code]}行重复"
        elif flag and code in primary_of and primary_of[code][0] != username:
            why = f"网格 {code} 的主责已在第{primary_of[code][1]}行给了 {primary_of[code][0]}"
        if why:
            out.refuse(row.number, f"{username} {code}".strip(), why)
            continue
        wanted.setdefault(username, {})[code] = bool(flag)
        first_row[username + code] = row.number
        if flag:
            primary_of[code] = (username, row.number)
    await _judge(out, wanted, staff, first_row)
    out.lines.sort(key=lambda line: line.number)
    return out


async def _judge(
    out: Plan, wanted: dict[str, dict[str, bool]], staff: dict[str, Staff], rows: dict[str, int]
) -> None:
    for username, grids in wanted.items():
        stored = await _stored(staff[username].id)
        number = min(rows[username + code] for code in grids)
        if stored == grids:
            out.add(number, Verdict.SAME, username, f"{len(grids)} 个网格")
            continue
        text = diff(
            {"grids": _listed(stored)}, {"grids": _listed(grids)}, {"grids": "网格（*为主责）"}
        )
        out.add(number, Verdict.UPDATE, username, text, grids=grids)


def _listed(grids: dict[str, bool]) -> list[str]:
    return [code + ("*" if flag else "") for code, flag in sorted(grids.items())]


async def apply(rows: list[Row], *, actor: Actor) -> Plan:
    """Write the plan in one transaction; a refusal writes nothing."""
    async with in_transaction():
        done = await plan(rows)
        if done.refused:
            return done
        for line in done.writes():
            person = await Staff.get(username=line.key)
            grids: dict[str, bool] = line.values["grids"]
            # The API's own write: 主责 taken from another inspector is on their record too.
            await set_grids(
                person.id,
                grid_codes=sorted(grids),
                primary=[code for code, flag in grids.items() if flag],
                actor=actor,
            )
    return done


async def _stored(staff_id: int) -> dict[str, bool]:
    pairs = await GridAssignment.filter(staff_id=staff_id).values_list("grid__code", "is_primary")
    return {str(code): bool(flag) for code, flag in pairs}
