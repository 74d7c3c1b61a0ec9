"""Coordinate systems, distances, and point → 单元网格 lookup (grid files: core/org/gridfiles.py).

Every function takes and returns (lon, lat) in that order, as GeoJSON does; several Chinese
libraries use (lat, lon), so check the order when comparing with them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol, TypeAlias, assert_never

import numpy as np
import shapely
import shapely.affinity
from shapely.geometry import MultiPolygon, Point, Polygon

LonLat: TypeAlias = tuple[float, float]
# shapely ships no type information, so to mypy this is Any; the alias documents intent.
Area: TypeAlias = "Polygon | MultiPolygon"


class CoordSystem(StrEnum):
    WGS84 = "wgs84"
    CGCS2000 = "cgcs2000"  # treated as WGS-84: the two agree to well under a metre
    GCJ02 = "gcj02"  # WeChat map pickers, 高德, 腾讯
    BD09 = "bd09"  # 百度


# Krasovsky 1940 ellipsoid, as the published GCJ-02 formula uses it.
_A = 6378245.0
_EE = 0.00669342162296594323
_X_PI = math.pi * 3000.0 / 180.0
# 1e-10 degrees is about 0.01 mm: far below what a round trip needs, still above float noise.
_INVERSE_TOLERANCE_DEG = 1e-10
_INVERSE_MAX_STEPS = 30
_EARTH_MEAN_RADIUS_M = 6371008.8  # IUGG mean radius R1


def out_of_china(lon: float, lat: float) -> bool:
    """Tell whether a point lies outside the rectangle in which GCJ-02 shifts points."""
    # A rectangle approximation of China, as every public implementation uses: it also covers
    # neighbours (Mongolia, parts of Korea, Vietnam...), where shifted points are wrong anyway.
    return not (72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _shift_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320.0 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _shift_lon(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def _gcj02_forward(lon: float, lat: float) -> LonLat:
    dlat = _shift_lat(lon - 105.0, lat - 35.0)
    dlon = _shift_lon(lon - 105.0, lat - 35.0)
    rad_lat = lat / 180.0 * math.pi
    magic = 1.0 - _EE * math.sin(rad_lat) ** 2
    sqrt_magic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrt_magic) * math.pi)
    dlon = (dlon * 180.0) / (_A / sqrt_magic * math.cos(rad_lat) * math.pi)
    return lon + dlon, lat + dlat


def _bd09_forward(lon: float, lat: float) -> LonLat:
    z = math.hypot(lon, lat) + 0.00002 * math.sin(lat * _X_PI)
    theta = math.atan2(lat, lon) + 0.000003 * math.cos(lon * _X_PI)
    return z * math.cos(theta) + 0.0065, z * math.sin(theta) + 0.006


def _invert(forward: Callable[[float, float], LonLat], lon: float, lat: float) -> LonLat:
    # Neither shift has a closed-form inverse. Subtracting the shift once (what most snippets
    # do) leaves errors of up to a metre or two; each further step cuts the error about a
    # thousandfold, because the shift changes slowly with position.
    x, y = lon, lat
    for _ in range(_INVERSE_MAX_STEPS):
        fx, fy = forward(x, y)
        dx, dy = fx - lon, fy - lat
        if abs(dx) < _INVERSE_TOLERANCE_DEG and abs(dy) < _INVERSE_TOLERANCE_DEG:
            break
        x, y = x - dx, y - dy
    return x, y


def wgs84_to_gcj02(lon: float, lat: float) -> LonLat:
    """Convert WGS-84 to GCJ-02; points outside China are returned unchanged."""
    return (lon, lat) if out_of_china(lon, lat) else _gcj02_forward(lon, lat)


def gcj02_to_wgs84(lon: float, lat: float) -> LonLat:
    """Convert GCJ-02 to WGS-84 exactly (iterated); points outside China are unchanged."""
    return (lon, lat) if out_of_china(lon, lat) else _invert(_gcj02_forward, lon, lat)


def gcj02_to_bd09(lon: float, lat: float) -> LonLat:
    """Convert GCJ-02 to BD-09; points outside China are returned unchanged."""
    return (lon, lat) if out_of_china(lon, lat) else _bd09_forward(lon, lat)


def bd09_to_gcj02(lon: float, lat: float) -> LonLat:
    """Convert BD-09 to GCJ-02 exactly (iterated); points outside China are unchanged."""
    return (lon, lat) if out_of_china(lon, lat) else _invert(_bd09_forward, lon, lat)


def wgs84_to_bd09(lon: float, lat: float) -> LonLat:
    """Convert WGS-84 to BD-09; points outside China are returned unchanged."""
    if out_of_china(lon, lat):
        return lon, lat
    return _bd09_forward(*_gcj02_forward(lon, lat))


def bd09_to_wgs84(lon: float, lat: float) -> LonLat:
    """Convert BD-09 to WGS-84 exactly (iterated); points outside China are unchanged."""
    if out_of_china(lon, lat):
        return lon, lat
    return _invert(_gcj02_forward, *_invert(_bd09_forward, lon, lat))


def to_wgs84(lon: float, lat: float, crs: CoordSystem) -> LonLat:
    """Convert a point given in `crs` to WGS-84, the system we store."""
    match crs:
        case CoordSystem.WGS84 | CoordSystem.CGCS2000:
            return lon, lat
        case CoordSystem.GCJ02:
            return gcj02_to_wgs84(lon, lat)
        case CoordSystem.BD09:
            return bd09_to_wgs84(lon, lat)
    assert_never(crs)


def from_wgs84(lon: float, lat: float, crs: CoordSystem) -> LonLat:
    """Convert a stored WGS-84 point to `crs`, for a map that expects it."""
    match crs:
        case CoordSystem.WGS84 | CoordSystem.CGCS2000:
            return lon, lat
        case CoordSystem.GCJ02:
            return wgs84_to_gcj02(lon, lat)
        case CoordSystem.BD09:
            return wgs84_to_bd09(lon, lat)
    assert_never(crs)


def distance_m(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Return the great-circle distance in metres between two WGS-84 points.

    Haversine on a sphere of the mean Earth radius: within about 0.5 % of the ellipsoidal
    (Vincenty) distance, and stable for distances of a few centimetres. Good for "how far is
    this report from that one", not for surveying.
    """
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlmb = math.radians(lon2 - lon1)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * _EARTH_MEAN_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def local_metres(geometry: Any, lon0: float, lat0: float) -> Any:
    """A WGS-84 geometry in metres east and north of (lon0, lat0): an equirectangular view,
    within a fraction of a percent across a city (areas of grids, widths of walks)."""
    kx = math.radians(_EARTH_MEAN_RADIUS_M) * math.cos(math.radians(lat0))
    ky = math.radians(_EARTH_MEAN_RADIUS_M)
    return shapely.transform(geometry, lambda xy: (xy - (lon0, lat0)) * (kx, ky))


class GridRecord(Protocol):
    """What GridIndex needs of a grid: a stored row or a GridShape."""

    @property
    def id(self) -> int: ...
    @property
    def code(self) -> str: ...
    @property
    def polygon(self) -> Area: ...


@dataclass(frozen=True, slots=True)
class GridShape:
    id: int
    code: str
    polygon: Area  # WGS-84 lon/lat


@dataclass(frozen=True, slots=True)
class GridHit:
    grid_id: int
    code: str


class GridIndex:
    """Find the 单元网格 that holds a point; built once, read by many requests."""

    def __init__(self, grids: Iterable[GridRecord]) -> None:
        # Sorted by code, so that among several hits the lowest index is the smallest code.
        ordered = sorted(grids, key=lambda g: g.code)
        self._hits = [GridHit(grid_id=g.id, code=g.code) for g in ordered]
        self._polygons: Any = np.array([g.polygon for g in ordered], dtype=object)
        # Prepared polygons answer `covers` in logarithmic time; shapely keeps the prepared
        # state on the geometry objects themselves.
        shapely.prepare(self._polygons)
        self._tree = shapely.STRtree(self._polygons)

    def __len__(self) -> int:
        return len(self._hits)

    def locate(self, lon: float, lat: float) -> GridHit | None:
        """Return the grid covering a WGS-84 point, or None when it is outside every grid."""
        point = Point(lon, lat)
        candidates = np.sort(self._tree.query(point))
        if candidates.size == 0:
            return None
        # `covers`, not `contains`: a point on an edge or vertex belongs to the grid. On an
        # edge shared by two grids both cover it; the smallest code wins, the first in order.
        covering = candidates[shapely.covers(self._polygons[candidates], point)]
        return self._hits[int(covering[0])] if covering.size else None

    def nearest(self, lon: float, lat: float, max_m: float) -> GridHit | None:
        """Return the grid covering the point or, failing that, the nearest within max_m."""
        if (hit := self.locate(lon, lat)) is not None:
            return hit
        # A box at least max_m wide each way: a degree of latitude is never under 110.5 km.
        shrink = max(math.cos(math.radians(lat)), 0.01)
        dlat = max_m / 110_000.0
        window = shapely.box(lon - dlat / shrink, lat - dlat, lon + dlat / shrink, lat + dlat)
        point = Point(lon, lat)
        best: tuple[float, str, int] | None = None
        for idx in self._tree.query(window):
            # Squeeze longitudes around the point so that degrees are square there; otherwise
            # the closest point in degree space can be up to 10 % too far in the north.
            local = shapely.affinity.scale(self._polygons[idx], shrink, 1.0, origin=(lon, lat))
            near_x, near_y = shapely.shortest_line(local, point).coords[0]
            dist = distance_m(lon, lat, lon + (float(near_x) - lon) / shrink, float(near_y))
            key = (dist, self._hits[idx].code, int(idx))
            if dist <= max_m and (best is None or key < best):
                best = key
        return None if best is None else self._hits[best[2]]
