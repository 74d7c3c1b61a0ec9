"""A grid with open cases stays on the map (cases/usage.py, through the package surface)."""

from __future__ import annotations

from shapely.geometry import shape

from core.audit.service import Actor
from core.bulk import grids
from core.bulk.gridfiles import GridFeature, GridFile, Numbered
from core.org.models import Grid
from tests.cases.helpers import City, registered_case


async def _all_but(city: City, code: str) -> GridFile:
    """The demo map with one grid left out, as a replacing import would read it."""
    rows = await Grid.exclude(code=code).select_related("street", "community").order_by("code")
    features = [
        GridFeature(
            g.code,
            g.name,
            g.street.name,
            g.community.name if g.community else None,
            shape(g.geometry),
        )
        for g in rows
    ]
    return GridFile("个要素", [Numbered(i, f.code, f) for i, f in enumerate(features, 1)])


async def test_a_grid_with_an_open_case_is_not_retired(city: City) -> None:
    cid = await registered_case(city, street=2)
    grid = await city.grid(2)
    top = city.settings.profile.code
    file = await _all_but(city, grid.code)

    plan = await grids.plan(file, top=top, replace=True)
    assert [line.detail for line in plan.refused] == ["网格内还有 1 件未结案件，不能停用"]
    assert plan.refused[0].key == f"{grid.code} {grid.name}"
    done = await grids.apply(file, top=top, top_name="", replace=True, actor=Actor.cli())
    assert done.refused and (await Grid.get(id=grid.id)).retired_at is None

    await city.ok(cid, "cancel", "shift_lead", note="重复上报")  # 作废: no longer open
    done = await grids.apply(file, top=top, top_name="", replace=True, actor=Actor.cli())
    assert not done.refused
    assert (await Grid.get(id=grid.id)).retired_at is not None
