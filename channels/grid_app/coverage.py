"""How much of a grid its inspectors walked on a day: their tracks (jumps, gaps and bad fixes
left out) widened by what a walk covers either side, against the grid's polygon, in metres
around the grid (a local projection: exact enough across a grid)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import shapely
from shapely.geometry import LineString, Point, shape
from shapely.geometry.base import BaseGeometry

from channels.grid_app.config import GridAppConfig
from channels.grid_app.const import PointFlag
from channels.grid_app.schemas import CoverageOut, GridCoverage
from channels.grid_app.track import Fix, day_points, judged
from core.geo import local_metres
from core.org.models import Grid, GridAssignment

_M_PER_DEG_LAT = 110_574.0  # to pad a box in degrees by metres (a little generously)


def pieces(fixes: Sequence[Fix]) -> list[list[tuple[float, float]]]:
    """The track cut where it cannot be trusted: at a gap, a jump, or an inaccurate fix."""
    runs: list[list[tuple[float, float]]] = []
    run: list[tuple[float, float]] = []
    for f in fixes:
        if PointFlag.INACCURATE in f.flags:
            if run:
                runs.append(run)
            run = []
            continue
        if PointFlag.GAP in f.flags or PointFlag.JUMP in f.flags:
            if run:
                runs.append(run)
            run = []
        run.append((f.point.lon, f.point.lat))
    if run:
        runs.append(run)
    return runs


def covered(
    grid: BaseGeometry, runs: Sequence[Sequence[tuple[float, float]]], width_m: float
) -> tuple[float, float]:
    """(grid area, area walked) in square metres."""
    centre = grid.centroid

    def metres(g: BaseGeometry) -> BaseGeometry:
        return local_metres(g, centre.x, centre.y)

    area = metres(grid)
    walks = [
        metres(LineString(r) if len(r) > 1 else Point(r[0])).buffer(width_m, quad_segs=4)
        for r in runs
        if r
    ]
    if not walks:
        return float(area.area), 0.0
    walked = shapely.union_all(walks).intersection(area)
    return float(area.area), float(walked.area)


async def for_grid(
    grid: Grid, day: dt.date, config: GridAppConfig, staff: list[int]
) -> GridCoverage:
    """The coverage of one grid on one day by these people's tracks."""
    polygon = shape(grid.geometry)
    runs: list[list[tuple[float, float]]] = []
    walked_by = []
    for staff_id in staff:
        mine = pieces(judged(await day_points(staff_id, day), config))
        # Only what comes near the grid is its walk (a whole day's track across the city
        # would cost the union for nothing).
        near = [r for r in mine if _near(polygon, r, config.coverage_width_m)]
        if near:
            walked_by.append(staff_id)
            runs += near
    area, done = covered(polygon, runs, config.coverage_width_m)
    return GridCoverage(
        grid_id=grid.id,
        grid_code=grid.code,
        grid_name=grid.name,
        area_m2=round(area, 1),
        covered_m2=round(done, 1),
        ratio=round(done / area, 4) if area > 0 else 0.0,
        staff_ids=walked_by,
    )


def _near(polygon: BaseGeometry, run: Sequence[tuple[float, float]], width_m: float) -> bool:
    pad = width_m / _M_PER_DEG_LAT * 2
    box = shapely.box(*polygon.bounds).buffer(pad)
    line = LineString(run) if len(run) > 1 else Point(run[0])
    return bool(box.intersects(line))


async def coverage(
    *, day: dt.date, grid_ids: list[int], staff_id: int | None, config: GridAppConfig
) -> CoverageOut:
    """Each grid's coverage by its inspectors (or by one inspector) on a local day."""
    grids = await Grid.filter(id__in=grid_ids).order_by("code")
    out = []
    for grid in grids:
        staff = (
            [staff_id]
            if staff_id is not None
            else [
                int(str(s))
                for s in await GridAssignment.filter(grid_id=grid.id)
                .order_by("id")
                .values_list("staff_id", flat=True)
            ]
        )
        out.append(await for_grid(grid, day, config, staff))
    return CoverageOut(date=day, width_m=config.coverage_width_m, grids=out)
