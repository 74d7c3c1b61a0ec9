"""How much of a grid was walked on a day: the inspectors' tracks widened by what a walk
covers either side (20 m by default) against the grid's polygon."""

from __future__ import annotations

import datetime as dt
from typing import Any

from core.timeutil import to_local
from tests.cases.helpers import City, shifted
from tests.channels.grid_app.conftest import Phone, now


def _line(start: dt.datetime, west: dict[str, float], metres: int, north_m: float) -> list[Any]:
    """A walk east along a line of the grid, a fix every 10 m at 1 m/s."""
    return [
        {
            "at": (start + dt.timedelta(seconds=10 * i)).isoformat(),
            **shifted(**west, east_m=10 * i, north_m=north_m),
            "accuracy_m": 5,
        }
        for i in range(metres // 10 + 1)
    ]


async def _grid_corner(city: City) -> tuple[dict[str, float], float]:
    """The south-west corner of street 1's first grid, and its side in metres (400)."""
    ring = (await city.grid(1)).geometry["coordinates"][0]
    return {"lon": min(p[0] for p in ring), "lat": min(p[1] for p in ring)}, 400.0


async def test_a_walk_across_the_grid_covers_its_strip(inspector: Phone) -> None:
    city = inspector.city
    corner, side = await _grid_corner(city)
    start = now() - dt.timedelta(hours=1)
    walk = _line(start, corner, 400, north_m=200)  # along the middle, west to east
    r = await city.client.post(
        "/api/v1/field/track", json={"points": walk}, headers=await inspector.headers()
    )
    assert r.status == 200
    day = to_local(start).date().isoformat()
    grid = (await city.grid(1)).id
    status, out = await inspector.get("/api/v1/field/coverage", date=day, grid_id=grid)
    assert status == 200, out
    (one,) = out["grids"]
    # A 40 m strip across a 400 m square: a tenth (the strip's round ends stick out).
    assert abs(one["area_m2"] - side * side) / (side * side) < 0.01
    assert 0.095 < one["ratio"] < 0.105, one
    assert one["staff_ids"] == [await city.staff_id("inspector1")]


async def test_a_jump_covers_nothing_and_a_second_walk_adds(inspector: Phone) -> None:
    city = inspector.city
    corner, _ = await _grid_corner(city)
    start = now() - dt.timedelta(hours=2)
    first = _line(start, corner, 400, north_m=100)
    # 2 s after the walk's end the phone is across the grid (a jump, not a walk); a quarter
    # of an hour later it walks the second line (the silence between is a gap).
    end = start + dt.timedelta(seconds=402)
    jump = {"at": end.isoformat(), **shifted(**corner, east_m=10, north_m=390)}
    later = start + dt.timedelta(minutes=15)
    second = _line(later, corner, 400, north_m=300)
    r = await city.client.post(
        "/api/v1/field/track",
        json={"points": [*first, jump, *second]},
        headers=await inspector.headers(),
    )
    assert r.status == 200
    status, out = await inspector.get(
        "/api/v1/field/coverage", date=to_local(start).date().isoformat()
    )
    assert status == 200
    mine = {g["grid_id"]: g for g in out["grids"]}
    assert 0.195 < mine[(await city.grid(1)).id]["ratio"] < 0.21  # two strips, no diagonal


async def test_an_inspector_sees_only_their_grids_coverage(inspector: Phone) -> None:
    city = inspector.city
    theirs = (await city.grid(2)).id  # street 2: inspector2's
    status, err = await inspector.get(
        "/api/v1/field/coverage", date=now().date().isoformat(), grid_id=theirs
    )
    assert (status, err["code"]) == (403, "not_your_grid")
    status, out = await Phone(city, "dispatcher").get(
        "/api/v1/field/coverage", date=now().date().isoformat(), grid_id=theirs
    )
    assert status == 200 and out["grids"][0]["ratio"] == 0
