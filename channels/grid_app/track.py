"""GPS tracks: points stored as the phone sent them (a re-sent batch adds nothing), and read
back for audit with every gap, jump and inaccurate fix marked, never dropped."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from channels.grid_app.config import GridAppConfig
from channels.grid_app.const import PointFlag
from channels.grid_app.models import TrackPoint
from channels.grid_app.schemas import PointIn, PointOut, TrackAnswer, TrackOut
from core import rows
from core.geo import distance_m, to_wgs84
from core.timeutil import LOCAL_TZ

_COLUMNS: Final = ("staff_id", "at", "lon", "lat", "accuracy_m", "speed_mps", "received_at")
# Rows per INSERT: 7 parameters each stays far below SQLite's and asyncpg's limits.
_CHUNK: Final = 1000


@lru_cache(maxsize=64)
def _insert(rows_n: int) -> str:
    width = len(_COLUMNS)
    tuples = ",".join(
        "(" + ",".join(f"${r * width + c + 1}" for c in range(width)) + ")" for r in range(rows_n)
    )
    names = ",".join(f'"{c}"' for c in _COLUMNS)
    # Column names are ours; every value is a parameter.
    return (
        f'INSERT INTO "field_track_point" ({names}) VALUES {tuples} '  # noqa: S608
        'ON CONFLICT ("staff_id", "at") DO NOTHING RETURNING "id"'
    )


async def store(staff_id: int, points: Sequence[PointIn], *, now: dt.datetime) -> TrackAnswer:
    """Keep these fixes of one phone; those it sent before (same instant) count as duplicates."""
    seen: dict[dt.datetime, PointIn] = {}
    for p in points:  # the same instant twice in one batch: the first is the fix
        seen.setdefault(p.at.astimezone(dt.UTC), p)
    stored = 0
    received = rows.param(TrackPoint, "received_at", now.astimezone(dt.UTC))
    ordered = sorted(seen.items())
    for start in range(0, len(ordered), _CHUNK):
        chunk = ordered[start : start + _CHUNK]
        values: list[object] = []
        for at, p in chunk:
            lon, lat = to_wgs84(p.lon, p.lat, p.crs)
            values += [
                staff_id,
                rows.param(TrackPoint, "at", at),
                lon,
                lat,
                p.accuracy_m,
                p.speed_mps,
                received,
            ]
        stored += len(await rows.write(TrackPoint, _insert(len(chunk)), values))
    return TrackAnswer(stored=stored, duplicates=len(points) - stored)


@dataclass(frozen=True)
class Fix:
    """A stored point with what the audit says of it."""

    point: TrackPoint
    flags: tuple[PointFlag, ...]


def judged(points: Sequence[TrackPoint], config: GridAppConfig) -> list[Fix]:
    """Mark each point (in time order) against the one before it."""
    out: list[Fix] = []
    before: TrackPoint | None = None
    fastest = config.max_speed_kmh / 3.6
    for p in points:
        flags: list[PointFlag] = []
        if p.accuracy_m is not None and p.accuracy_m > config.coverage_accuracy_m:
            flags.append(PointFlag.INACCURATE)
        if before is not None:
            gap = (p.at - before.at).total_seconds()
            if gap > config.track_gap_s:
                flags.append(PointFlag.GAP)
            far = distance_m(before.lon, before.lat, p.lon, p.lat)
            # Within a few metres is GPS noise whatever the time between (two fixes a second
            # apart 20 m apart are noise, not a sprint).
            if far > 30 and far / max(gap, 1.0) > fastest:
                flags.append(PointFlag.JUMP)
        out.append(Fix(p, tuple(flags)))
        before = p
    return out


def day_range(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """The local day as aware UTC instants [start, end)."""
    start = dt.datetime.combine(day, dt.time(), tzinfo=LOCAL_TZ)
    return start.astimezone(dt.UTC), (start + dt.timedelta(days=1)).astimezone(dt.UTC)


async def day_points(staff_id: int, day: dt.date) -> list[TrackPoint]:
    """One phone's points of a local day, in time order."""
    start, end = day_range(day)
    return await TrackPoint.filter(staff_id=staff_id, at__gte=start, at__lt=end).order_by("at")


def walked_m(fixes: Sequence[Fix]) -> float:
    """Metres along the track, leaving out what a jump, a gap or a bad fix spans."""
    total = 0.0
    for a, b in itertools.pairwise(fixes):
        if b.flags or PointFlag.INACCURATE in a.flags:
            continue
        total += distance_m(a.point.lon, a.point.lat, b.point.lon, b.point.lat)
    return total


async def audit(staff_id: int, day: dt.date, config: GridAppConfig) -> TrackOut:
    """The day's track of one phone with every mark."""
    fixes = judged(await day_points(staff_id, day), config)
    return TrackOut(
        staff_id=staff_id,
        date=day,
        points=[
            PointOut(
                at=f.point.at,
                lon=f.point.lon,
                lat=f.point.lat,
                accuracy_m=f.point.accuracy_m,
                speed_mps=f.point.speed_mps,
                flags=[x.value for x in f.flags],
            )
            for f in fixes
        ],
        walked_m=round(walked_m(fixes), 1),
        gaps=sum(PointFlag.GAP in f.flags for f in fixes),
        jumps=sum(PointFlag.JUMP in f.flags for f in fixes),
    )
