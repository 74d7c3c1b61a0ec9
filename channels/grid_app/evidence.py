"""What a report's photos say about it: read on the server from their EXIF (capture time and
GPS, kept on the upload by core.media), compared with the report and the inspector's grids.
A doubt is a flag the centre sees on the case; no photo is refused for it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from shapely.geometry import Point, shape
from shapely.geometry.base import BaseGeometry

from channels.grid_app.config import GridAppConfig
from channels.grid_app.const import Flag
from core.geo import distance_m, local_metres
from core.media.models import MediaObject
from core.org.models import Grid


@dataclass(frozen=True)
class Doubt:
    """One flag on one photo (or on the report, media_id None)."""

    code: Flag
    message: str
    media_id: int | None = None

    def as_extra(self) -> dict[str, Any]:
        """The entry of IntakeDraft.extras["flags"] (what the case shows)."""
        return {"code": self.code.value, "message": self.message, "media_id": self.media_id}


def outside_by(grids: Sequence[BaseGeometry], lon: float, lat: float) -> float:
    """How far (metres) a WGS-84 point lies outside all of these grids (0: inside one)."""
    point = Point(lon, lat)
    if any(g.covers(point) for g in grids):
        return 0.0
    origin = Point(0, 0)
    return float(min(local_metres(g, lon, lat).distance(origin) for g in grids))


async def grid_shapes(grid_ids: Iterable[int]) -> list[BaseGeometry]:
    """The polygons of these grids (WGS-84)."""
    rows = await Grid.filter(id__in=sorted(set(grid_ids))).values_list("geometry", flat=True)
    return [shape(g) for g in rows]


def check_photo(
    media: MediaObject,
    *,
    point: tuple[float, float],
    reported_at: dt.datetime,
    grids: Sequence[BaseGeometry],
    config: GridAppConfig,
) -> list[Doubt]:
    """The doubts about one photo of a report made at `point` (WGS-84) at `reported_at`."""
    doubts: list[Doubt] = []
    has_gps = media.gps_lon is not None and media.gps_lat is not None
    if media.taken_at is None and not has_gps:
        return [Doubt(Flag.NO_EXIF, "照片没有拍摄时间和位置信息（EXIF），无法核验", media.id)]
    if media.taken_at is None:
        doubts.append(Doubt(Flag.NO_EXIF, "照片没有拍摄时间（EXIF），无法核验时效", media.id))
    else:
        age = (reported_at - media.taken_at).total_seconds()
        limit_h = config.photo_max_age_h
        if age > limit_h * 3600:
            doubts.append(
                Doubt(
                    Flag.STALE,
                    f"照片拍摄于上报前 {_hours(age)}，超过规定的 {_hours(limit_h * 3600)}",
                    media.id,
                )
            )
        elif -age > config.clock_skew_s:
            doubts.append(
                Doubt(
                    Flag.FUTURE,
                    f"照片拍摄时间晚于上报时间 {round(-age / 60)} 分钟，手机时间可能不准",
                    media.id,
                )
            )
    if not has_gps:
        doubts.append(Doubt(Flag.NO_EXIF, "照片没有拍摄位置（EXIF GPS），无法核验地点", media.id))
        return doubts
    lon, lat = float(media.gps_lon), float(media.gps_lat)  # type: ignore[arg-type]
    if grids:
        outside = outside_by(grids, lon, lat)
        if outside > config.grid_tolerance_m:
            doubts.append(
                Doubt(
                    Flag.OUTSIDE_GRID,
                    f"照片拍摄位置在您负责的网格之外约 {outside:.0f} 米",
                    media.id,
                )
            )
    apart = distance_m(lon, lat, point[0], point[1])
    tolerance = config.gps_tolerance_m
    if apart > tolerance:
        doubts.append(
            Doubt(
                Flag.GPS_MISMATCH,
                f"照片拍摄位置与上报位置相距约 {apart:.0f} 米（允许 {tolerance:.0f} 米）",
                media.id,
            )
        )
    return doubts


def _hours(seconds: float) -> str:
    if seconds < 3600:
        return f"{round(seconds / 60)} 分钟"
    return f"{seconds / 3600:.1f} 小时".replace(".0 小时", " 小时")
