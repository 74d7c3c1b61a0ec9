"""A plausible demo city: one district, streets, communities, grids, departments and staff."""

from __future__ import annotations

import importlib
import math
import secrets
from typing import Final

from shapely.geometry import box

from core.audit.service import Actor
from core.auth.accounts import create_staff
from core.auth.const import ROLE_NAMES, Role
from core.auth.models import Staff
from core.auth.service import new_password_hash
from core.bulk import grids
from core.bulk.gridfiles import GridFeature, GridFile, Numbered
from core.config import Settings
from core.org.models import Department, DepartmentKind, Grid
from core.org.service import assign_inspector, district

STREETS: Final = ("湖滨街道", "清波街道", "小营街道", "长庆街道")
COMMUNITIES_PER_STREET: Final = 2
GRIDS_PER_COMMUNITY: Final = 4
CELL_M: Final = 400.0  # a grid cell is about 400 m × 400 m, a typical 单元网格 size
# The departments that own the common categories, with the demo handler's username.
DEPARTMENTS: Final = (
    ("HW", "环卫", "handler_hw"),
    ("SZ", "市政", "handler_sz"),
    ("YL", "园林", "handler_yl"),
    ("CG", "城管执法", "handler_cg"),
    ("JJ", "交警", "handler_jj"),
    ("GS", "供水", "handler_gs"),
    ("PS", "排水", "handler_ps"),
    ("RQ", "燃气", "handler_rq"),
)
CENTRE_STAFF: Final = (
    ("admin", "系统管理员", Role.ADMIN),
    ("acceptor", "受理员小王", Role.ACCEPTOR),
    ("shift_lead", "值班长老李", Role.SHIFT_LEAD),
    ("dispatcher", "派遣员小张", Role.DISPATCHER),
    ("agent", "话务员小陈", Role.AGENT),
)


def demo_grids(settings: Settings) -> list[GridFeature]:
    """Tile square grids around the city centre: street by street, community by community."""
    lon0, lat0 = settings.profile.center
    dlat = CELL_M / 111_320.0
    dlon = CELL_M / (111_320.0 * math.cos(math.radians(lat0)))
    per_street = COMMUNITIES_PER_STREET * GRIDS_PER_COMMUNITY
    features = []
    for s, street in enumerate(STREETS):
        for c in range(COMMUNITIES_PER_STREET):
            community = f"{street[:2]}第{c + 1}社区"
            for g in range(GRIDS_PER_COMMUNITY):
                i = s * per_street + c * GRIDS_PER_COMMUNITY + g
                col, row = i % 8 - 4, i // 8 - 2  # an 8 × 4 block centred on the centre
                # Neighbours compute a shared edge from the same expression: no slivers.
                west, east = lon0 + col * dlon, lon0 + (col + 1) * dlon
                south, north = lat0 + row * dlat, lat0 + (row + 1) * dlat
                # 15 digits: 6 行政区划 + 3 street + 3 community + 3 grid (GB/T 47678.3 layout)
                code = f"{settings.profile.code}{s + 1:03d}{c + 1:03d}{g + 1:03d}"
                features.append(
                    GridFeature(
                        code=code,
                        name=f"{community}{g + 1}号网格",
                        street=street,
                        community=community,
                        polygon=box(west, south, east, north),
                    )
                )
    return features


async def seed_demo(settings: Settings) -> list[tuple[str, str, str]]:
    """Seed the demo city (idempotent); give every demo account a fresh password to print."""
    top = await district(code=settings.profile.code, name=f"{settings.profile.name}示范区")
    features = demo_grids(settings)
    numbered = [Numbered(i, f.code, f) for i, f in enumerate(features, 1)]
    await grids.apply(
        GridFile("个要素", numbered),
        top=top.code,
        top_name=top.name,
        replace=False,
        actor=Actor.cli(),
    )
    departments: dict[int, str] = {}
    accounts: list[tuple[str, str, list[str], int | None]] = [
        (u, n, [r.value], None) for u, n, r in CENTRE_STAFF
    ]
    for code, name, username in DEPARTMENTS:
        dep, _ = await Department.get_or_create(
            code=code,
            defaults={"name": f"区{name}", "kind": DepartmentKind.DEPARTMENT, "parent": top},
        )
        accounts.append((username, f"{name}处置员", [Role.HANDLER.value], dep.id))
        departments[dep.id] = name
    for s, street in enumerate(STREETS):
        accounts.append((f"inspector{s + 1}", f"{street}监督员", [Role.INSPECTOR.value], None))
    logins = []
    for username, name, roles, dep_id in accounts:
        password = secrets.token_urlsafe(9)
        await _upsert(username, name, roles, dep_id, password)
        role = "、".join(ROLE_NAMES[Role(r)] for r in roles)
        logins.append((username, password, f"{role}（{departments[dep_id]}）" if dep_id else role))
    for s in range(len(STREETS)):
        prefix = f"{settings.profile.code}{s + 1:03d}"
        codes = await Grid.filter(code__startswith=prefix).values_list("code", flat=True)
        staff = await Staff.get(username=f"inspector{s + 1}")
        await assign_inspector(staff_id=staff.id, grid_codes=[str(c) for c in codes])
    return logins


async def seed_extras(settings: Settings) -> dict[str, int]:
    """Run the enabled packages' demo seeders (demo cases…); return what each added."""
    from core.packages import demo_seeders

    added = {}
    for module in demo_seeders(settings):
        added[module] = int(await importlib.import_module(module).seed(settings))
    return added


async def _upsert(
    username: str, name: str, roles: list[str], dep_id: int | None, password: str
) -> None:
    staff = await Staff.get_or_none(username=username)
    if staff is None:
        await create_staff(
            username=username,
            password=password,
            display_name=name,
            roles=roles,
            department_id=dep_id,
        )
        return
    await Staff.filter(id=staff.id).update(
        password_hash=await new_password_hash(password),
        is_active=True,
    )


def print_demo(url: str, logins: list[tuple[str, str, str]], settings: Settings) -> None:
    """Print the URL and the demo logins."""
    print(f"\ncityloop demo city: {settings.profile.name} ({settings.profile.code})")
    print(f"  database: {settings.database_url}")
    print(f"  open:     {url}/readyz   {url}/api/openapi.json")
    print(
        f"  log in:   curl -X POST {url}/api/v1/auth/login "
        '-H \'Content-Type: application/json\' -d \'{"username":"dispatcher","password":"…"}\''
    )
    print("  demo accounts (passwords are new on every start):")
    for username, password, role in logins:
        print(f"    {username:<12} {password:<14} {role}")
    from core.packages import enabled

    for package in enabled(settings):
        if package.demo_hint:
            print(f"  {package.name}: {package.demo_hint}")
    print()
