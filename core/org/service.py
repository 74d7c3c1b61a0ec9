"""Departments, grids and the point → grid → street → district lookup."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from shapely.geometry import shape
from tortoise import timezone
from tortoise.functions import Count, Max
from tortoise.transactions import in_transaction

from core.audit.service import Actor, record, record_change
from core.errors import Conflict, NotFound, ValidationFailed, field_error
from core.geo import CoordSystem, GridHit, GridIndex, GridShape, to_wgs84
from core.org.models import Department, DepartmentKind, Grid, GridAssignment

# Another process may import grids: look at the table at most this often.
_RECHECK_S = 30.0


@dataclass(frozen=True)
class Place:
    """Where a point is: its grid, street and community, in WGS-84."""

    lon: float
    lat: float
    grid_id: int | None
    grid_code: str | None
    street_id: int | None
    community_id: int | None


class GridCache:
    """The in-memory spatial index of all grids, rebuilt when the table changes."""

    def __init__(self) -> None:
        self._index = GridIndex([])
        self._version: tuple[int, str] | None = None
        self._checked = 0.0
        self._lock = asyncio.Lock()
        self._owners: dict[int, tuple[int, int | None]] = {}

    async def refresh(self, *, force: bool = False) -> None:
        """Rebuild the index if the grid table changed since the last build."""
        async with self._lock:
            row = (
                # Retiring a grid saves it: updated_at moves, and so does the version.
                await Grid.annotate(n=Count("id"), last=Max("updated_at"))
                .first()
                .values("n", "last")
            )
            version = (int(row["n"] or 0), str(row["last"])) if row else (0, "")
            if force or version != self._version:
                grids = await Grid.filter(retired_at=None).values(
                    "id", "code", "geometry", "street_id", "community_id"
                )
                shapes = [GridShape(g["id"], g["code"], shape(g["geometry"])) for g in grids]
                self._index = await asyncio.to_thread(GridIndex, shapes)
                self._owners = {g["id"]: (g["street_id"], g["community_id"]) for g in grids}
                self._version = version
            self._checked = time.monotonic()

    async def locate(self, lon: float, lat: float, crs: CoordSystem = CoordSystem.WGS84) -> Place:
        """Find the grid of a point given in any supported coordinate system."""
        if time.monotonic() - self._checked > _RECHECK_S:
            await self.refresh()
        wlon, wlat = to_wgs84(lon, lat, crs)
        hit: GridHit | None = self._index.locate(wlon, wlat)
        if hit is None and time.monotonic() - self._checked > 1.0:
            await self.refresh()  # grids imported meanwhile by another process count at once
            hit = self._index.locate(wlon, wlat)
        if hit is None:
            return Place(wlon, wlat, None, None, None, None)
        street_id, community_id = self._owners[hit.grid_id]
        return Place(wlon, wlat, hit.grid_id, hit.code, street_id, community_id)

    def __len__(self) -> int:
        return len(self._index)


async def district(*, code: str, name: str) -> Department:
    """Return the district node of this city, creating it on first use."""
    node, _ = await Department.get_or_create(
        code=code, defaults={"name": name, "kind": DepartmentKind.DISTRICT}
    )
    return node


async def assign_inspector(*, staff_id: int, grid_codes: list[str]) -> int:
    """Give an inspector these grids; return how many assignments are new."""
    grids = await Grid.filter(code__in=grid_codes, retired_at=None).values_list("id", "code")
    missing = sorted(set(grid_codes) - {c for _, c in grids})
    if missing:
        raise ValidationFailed(
            f"unknown grids {missing}", message=f"网格不存在：{'、'.join(missing)}"
        )
    new = 0
    for grid_id, _ in grids:
        _, was_created = await GridAssignment.get_or_create(staff_id=staff_id, grid_id=grid_id)
        new += was_created
    return new


async def department_tree() -> list[dict[str, Any]]:
    """Return all departments as nested dicts, roots first."""
    rows = await (
        Department.all()
        .order_by("id")
        .values(
            "id", "code", "name", "kind", "parent_id", "contact_name", "contact_phone", "retired_at"
        )
    )
    for r in rows:
        r["retired"] = r.pop("retired_at") is not None
    nodes = {r["id"]: {**r, "children": []} for r in rows}
    roots: list[dict[str, Any]] = []
    for node in nodes.values():
        parent = nodes.get(node["parent_id"])
        (parent["children"] if parent else roots).append(node)
    return roots


# Which kind of node may hang under which (None: a root). 市 → 区 → 街道 → 社区, and 专业部门
# (at the city or in a district) with their sub-departments and 作业单位.
PARENT_KINDS: dict[DepartmentKind, set[DepartmentKind | None]] = {
    DepartmentKind.DISTRICT: {None, DepartmentKind.DISTRICT},
    DepartmentKind.STREET: {DepartmentKind.DISTRICT},
    DepartmentKind.COMMUNITY: {DepartmentKind.STREET},
    DepartmentKind.DEPARTMENT: {None, DepartmentKind.DISTRICT, DepartmentKind.DEPARTMENT},
    DepartmentKind.UNIT: {DepartmentKind.DEPARTMENT, DepartmentKind.UNIT},
}
KIND_NAMES = {
    DepartmentKind.DISTRICT: "区",
    DepartmentKind.STREET: "街道",
    DepartmentKind.COMMUNITY: "社区",
    DepartmentKind.DEPARTMENT: "专业部门",
    DepartmentKind.UNIT: "作业单位",
}


def department_record(dep: Department) -> dict[str, Any]:
    """What the audit log keeps of a department."""
    return {
        "code": dep.code,
        "name": dep.name,
        "kind": str(dep.kind),
        "parent_id": dep.parent_id,
        "contact_name": dep.contact_name,
        "contact_phone": dep.contact_phone,
        "retired": dep.retired_at is not None,
    }


async def _check_parent(
    kind: DepartmentKind, parent: Department | None, moving: int | None
) -> None:
    allowed = PARENT_KINDS[kind]
    if (parent.kind if parent else None) not in allowed:
        under = KIND_NAMES[parent.kind] if parent else "顶层"
        raise field_error(
            "parent_id",
            f"{kind} under {parent.kind if parent else 'root'}",
            f"{KIND_NAMES[kind]}不能设在{under}之下",
            code="bad_parent",
        )
    if parent is not None and parent.retired_at is not None:
        raise field_error(
            "parent_id", f"parent {parent.code} retired", "上级部门已撤销", code="bad_parent"
        )
    node = parent
    while node is not None and moving is not None:  # no node under itself
        if node.id == moving:
            raise field_error("parent_id", "a cycle", "不能移到自己的下级之下", code="bad_parent")
        node = await Department.get_or_none(id=node.parent_id) if node.parent_id else None


async def _parent(parent_id: int | None) -> Department | None:
    """The parent a body names: an unknown one is a bad field, not a missing page."""
    if parent_id is None:
        return None
    parent = await Department.get_or_none(id=parent_id)
    if parent is None:
        raise field_error(
            "parent_id", f"no department {parent_id}", "上级部门不存在", code="bad_parent"
        )
    return parent


async def get_department(department_id: int) -> Department:
    """Load a department or raise NotFound."""
    dep = await Department.get_or_none(id=department_id)
    if dep is None:
        raise NotFound(f"department {department_id}", message="未找到该部门")
    return dep


async def create_department(
    *,
    code: str,
    name: str,
    kind: DepartmentKind,
    parent_id: int | None,
    contact_name: str | None = None,
    contact_phone: str | None = None,
    actor: Actor,
) -> Department:
    """Add a node to the tree; its code is new and never changes."""
    if await Department.filter(code=code).exists():
        raise Conflict(f"department {code} exists", code="code_taken", message="部门编码已存在")
    parent = await _parent(parent_id)
    await _check_parent(kind, parent, None)
    async with in_transaction():
        return await add_department(
            actor=actor,
            code=code,
            name=name,
            kind=kind,
            parent=parent,
            contact_name=contact_name,
            contact_phone=contact_phone,
        )


async def add_department(*, actor: Actor, **fields: Any) -> Department:
    """Write a new node and its audit row (the caller checked it and holds the transaction)."""
    dep = await Department.create(**fields)
    await record(
        actor=actor,
        action="department.create",
        target="department",
        target_id=dep.id,
        after=department_record(dep),
    )
    return dep


async def update_department(
    department_id: int, *, changes: dict[str, Any], actor: Actor
) -> Department:
    """Rename, move (`parent_id`) or change the contacts of a department."""
    dep = await get_department(department_id)
    before = department_record(dep)
    if "parent_id" in changes and changes["parent_id"] != dep.parent_id:
        pid = changes["parent_id"]
        await _check_parent(dep.kind, await _parent(pid), dep.id)
    async with in_transaction():
        for key, value in changes.items():
            setattr(dep, key, value)
        await dep.save()
        after = department_record(dep)
        moved = after["parent_id"] != before["parent_id"]
        await record_change(
            actor=actor,
            action="department.move" if moved else "department.update",
            target="department",
            target_id=dep.id,
            before=before,
            after=after,
        )
    return dep


async def retire_department(department_id: int, *, actor: Actor) -> Department:
    """Retire a department: its history stays, it gets no new cases, nothing hangs under it."""
    dep = await get_department(department_id)
    if dep.retired_at is not None:
        return dep
    if await Department.filter(parent_id=dep.id, retired_at=None).exists():
        raise Conflict(
            f"department {dep.code} has live children",
            code="department_has_children",
            message="该部门下还有未撤销的下级，请先撤销或移走",
        )
    async with in_transaction():
        dep.retired_at = timezone.now()
        await dep.save(update_fields=["retired_at"])
        await record(
            actor=actor,
            action="department.retire",
            target="department",
            target_id=dep.id,
            before={"retired": False},
            after={"retired": True},
        )
    return dep
