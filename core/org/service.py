"""Departments, grids and the point → grid → street → district lookup."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from shapely.geometry import mapping, shape
from tortoise.functions import Count, Max
from tortoise.transactions import in_transaction

from core.errors import ValidationFailed
from core.geo import CoordSystem, GridFeature, GridHit, GridIndex, GridShape, to_wgs84
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
                await Grid.annotate(n=Count("id"), last=Max("updated_at"))
                .first()
                .values("n", "last")
            )
            version = (int(row["n"] or 0), str(row["last"])) if row else (0, "")
            if force or version != self._version:
                grids = await Grid.all().values(
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


async def _area(name: str, kind: DepartmentKind, parent: Department) -> Department:
    code = f"{parent.code}/{name}"
    node, _ = await Department.get_or_create(
        code=code, defaults={"name": name, "kind": kind, "parent": parent}
    )
    return node


async def import_grids(features: list[GridFeature], *, top: Department) -> tuple[int, int]:
    """Create or update grids (and their streets and communities); return (created, updated)."""
    created = updated = 0
    async with in_transaction():
        for feature in features:
            street = await _area(feature.street, DepartmentKind.STREET, top)
            community = await _area(feature.community, DepartmentKind.COMMUNITY, street)
            values: dict[str, Any] = {
                "name": feature.name,
                "street": street,
                "community": community,
                "geometry": mapping(feature.polygon),
            }
            _, was_created = await Grid.update_or_create(defaults=values, code=feature.code)
            created += was_created
            updated += not was_created
    return created, updated


async def assign_inspector(*, staff_id: int, grid_codes: list[str]) -> int:
    """Give an inspector these grids; return how many assignments are new."""
    grids = await Grid.filter(code__in=grid_codes).values_list("id", "code")
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
    rows = await Department.all().order_by("id").values("id", "code", "name", "kind", "parent_id")
    nodes = {r["id"]: {**r, "children": []} for r in rows}
    roots: list[dict[str, Any]] = []
    for node in nodes.values():
        parent = nodes.get(node["parent_id"])
        (parent["children"] if parent else roots).append(node)
    return roots
