"""One entry for the three imports: read, plan or apply, print what a person reads."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Final

from core.audit.service import Actor
from core.bulk import assignments, departments, grids, staff
from core.bulk.gridfiles import TABLE, read_grid_file
from core.bulk.plan import Plan
from core.bulk.tables import Column, Row, read_rows
from core.bulk.tables import template as _template
from core.geo import CoordSystem

COLUMNS: Final[dict[str, tuple[Column, ...]]] = {
    "departments": departments.COLUMNS,
    "staff": staff.COLUMNS,
    "grid-assignments": assignments.COLUMNS,
    "grids": TABLE,
}
SHEETS: Final = {
    "departments": "部门",
    "staff": "员工",
    "grid-assignments": "网格分配",
    "grids": "网格",
}


def template(kind: str) -> bytes:
    """The empty XLSX for this kind."""
    return _template(COLUMNS[kind], sheet=SHEETS[kind])


async def run(
    kind: str,
    path: Path,
    *,
    apply: bool,
    crs: CoordSystem = CoordSystem.WGS84,
    replace: bool = False,
) -> int:
    """Import a file (apply) or say what importing it would do; 0, or 2 if rows are refused."""
    from core.auth.service import configure_hasher
    from core.config import load_settings
    from core.db import database

    settings = load_settings()
    if kind == "grids":
        file = read_grid_file(path, crs)
        top, name = settings.profile.code, settings.profile.name
        async with database(settings):
            if apply:
                plan = await grids.apply(
                    file, top=top, top_name=name, replace=replace, actor=Actor.cli()
                )
            else:
                plan = await grids.plan(file, top=top, replace=replace)
        return _said(plan, apply=apply)
    rows = read_rows(path, COLUMNS[kind])
    configure_hasher(time_cost=settings.password_time_cost, memory_kib=settings.password_memory_kib)
    passwords: dict[str, str] = {}
    async with database(settings):
        if not apply:
            plan = await _plan(kind, rows)
        elif kind == "staff":
            plan, passwords = await staff.apply(rows, actor=Actor.cli())
        elif kind == "departments":
            plan = await departments.apply(rows, actor=Actor.cli())
        else:
            plan = await assignments.apply(rows, actor=Actor.cli())
    code = _said(plan, apply=apply)
    if passwords and code == 0:
        print("\n新账号的一次性密码（只显示这一次，请交给本人；首次登录必须修改）：")
        for username, password in passwords.items():
            print(f"  {username:<20} {password}")
    return code


def _said(plan: Plan, *, apply: bool) -> int:
    """Print the plan for a person; 0, or 2 if anything is refused."""
    print("\n".join(plan.report()))
    noun = "行" if plan.unit == "行" else "项"
    if plan.refused:
        refused = len(plan.refused)
        print(f"有 {refused} {noun}被拒绝：未写入任何内容。改正后再导入。", file=sys.stderr)
        return 2
    if not apply:
        print("试运行：未写入任何内容。确认无误后加 --apply 写入。")
        return 0
    print(f"已写入 {len(plan.writes())} {noun}（审计日志已记录）。")
    return 0


async def _plan(kind: str, rows: list[Row]) -> Plan:
    if kind == "departments":
        return await departments.plan(rows)
    if kind == "staff":
        return await staff.plan(rows)
    return await assignments.plan(rows)
