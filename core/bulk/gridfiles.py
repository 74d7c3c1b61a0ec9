"""Reading a file of 单元网格 into validated WGS-84 features, one refusal per bad feature.

Three formats, by the file's name: GeoJSON (`.geojson`, `.json`), a table with the polygon as
WKT (`.csv` or `.xlsx`, the template's Chinese headers), and an ESRI Shapefile (`.shp` beside
its `.dbf`/`.shx`, or all of them in a `.zip`), read with pyshp. Properties are matched by
name, English or Chinese, case aside: `code`/`网格编码`, `name`/`网格名称`, `street`/`所属街道`,
`community`/`所属社区`, and `street_code`/`街道编码`, `community_code`/`社区编码` to name
departments already imported (a Shapefile's field names, cut at 10 characters, match too).
"""

from __future__ import annotations

import json
import re
import struct
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import shapefile
import shapely.wkt
from shapely.errors import ShapelyError
from shapely.geometry import MultiPolygon, Polygon, mapping
from shapely.validation import explain_validity

from core.bulk.tables import Column, read_rows
from core.errors import ValidationFailed
from core.geo import Area, CoordSystem, LonLat, to_wgs84


@dataclass(frozen=True, slots=True)
class GridFeature:
    code: str
    name: str
    street: str | None  # a name; None where street_code (or community_code) says it
    community: str | None
    polygon: Area  # WGS-84 lon/lat, valid
    street_code: str | None = None
    community_code: str | None = None


@dataclass(frozen=True, slots=True)
class Numbered:
    """One feature of a file by its place there: parsed, or refused with why."""

    number: int
    key: str  # its code as written, for the person reading the plan
    feature: GridFeature | None
    problem: str = ""  # for people
    detail: str = ""  # for logs and developers


@dataclass(frozen=True)
class GridFile:
    unit: str  # 行 (a table) or 个要素: how a person counts the file's items
    items: list[Numbered]


TABLE: Final = (
    Column("code", "网格编码", True, "15位单元网格编码（GB/T 47678.3）"),
    Column("name", "网格名称", False, "留空则用编码"),
    Column("street", "所属街道", False, "街道名称；已导入的街道也可填街道编码"),
    Column("community", "所属社区", False, "社区名称"),
    Column("street_code", "街道编码", False, "已导入部门中的街道编码（可代替街道名称）"),
    Column("community_code", "社区编码", False, "已导入部门中的社区编码（可代替社区名称）"),
    Column("wkt", "范围WKT", True, "POLYGON((经度 纬度, …)) 或 MULTIPOLYGON，经纬度"),
)
_ALIASES: Final = {
    "code": ("code", "网格编码", "编码", "grid_code", "gridcode", "bgid"),
    "name": ("name", "网格名称", "名称", "grid_name"),
    "street": ("street", "所属街道", "街道", "street_name"),
    "community": ("community", "所属社区", "社区", "community_name"),
    "street_code": ("street_code", "街道编码"),
    "community_code": ("community_code", "社区编码"),
}
# What pyshp raises on a file it cannot read (a decoding error is a ValueError; a cut-off file
# fails in struct).
_UNREADABLE: Final = (shapefile.ShapefileException, struct.error, OSError, ValueError)
_SRID = re.compile(r"^\s*SRID=(\d+);", re.IGNORECASE)
_GEOGRAPHIC_SRIDS: Final = {"4326", "4490"}  # WGS-84, CGCS2000


class _Invalid(Exception):
    """A problem with one feature, in English for logs and Chinese for people."""

    def __init__(self, detail: str, message: str) -> None:
        super().__init__(detail)
        self.detail = detail
        self.message = message


def _refuse(message: str) -> ValidationFailed:
    return ValidationFailed(message, code="bad_grid_file", message=message)


def read_grid_file(path: Path, crs: CoordSystem = CoordSystem.WGS84) -> GridFile:
    """Every feature of the file, parsed or refused; a file that cannot be read is refused."""
    suffix = path.suffix.lower()
    if not path.is_file():
        raise _refuse(f"文件不存在：{path}")
    if suffix in {".geojson", ".json"}:
        return GridFile("个要素", list(_numbered(enumerate(_geojson(path), 1), crs, "个要素")))
    if suffix in {".csv", ".xlsx"}:
        rows = ((row.number, _wkt_feature(row.cells)) for row in read_rows(path, TABLE))
        return GridFile("行", list(_numbered(rows, crs, "行")))
    if suffix in {".shp", ".zip"}:
        return GridFile("个要素", list(_numbered(enumerate(_shapes(path), 1), crs, "个要素")))
    raise _refuse(
        f"不支持的网格文件：{path.name}（GeoJSON、含 WKT 的 CSV/XLSX、Shapefile .shp 或 .zip）"
    )


def parse_grid_features(
    data: Mapping[str, object], crs: CoordSystem = CoordSystem.WGS84
) -> list[GridFeature]:
    """Parse a GeoJSON FeatureCollection; the first bad feature refuses it all."""
    parsed = []
    for item in _numbered(enumerate(_collection(data), 1), crs, "个要素"):
        if item.feature is None:
            raise ValidationFailed(
                f"features[{item.number - 1}]: {item.detail}",
                message=f"第 {item.number} 个要素：{item.problem}",
                extra={"feature_index": item.number - 1},
            )
        parsed.append(item.feature)
    return parsed


def _numbered(
    raws: Iterable[tuple[int, object]], crs: CoordSystem, unit: str
) -> Iterator[Numbered]:
    first: dict[str, int] = {}
    for number, raw in raws:
        key = _key_of(raw)
        try:
            if isinstance(raw, _Invalid):
                raise raw
            feature = _parse_feature(raw, crs)
            if (earlier := first.get(feature.code)) is not None:
                where = f"features[{earlier - 1}]" if unit == "个要素" else f"row {earlier}"
                raise _Invalid(
                    f"duplicate code {feature.code}, first used by {where}",
                    f"网格编码 {feature.code} 与第 {earlier} {unit}重复",
                )
        except _Invalid as err:
            yield Numbered(number, key, None, err.message, err.detail)
            continue
        first[feature.code] = number
        yield Numbered(number, feature.code, feature)


def _key_of(raw: object) -> str:
    props = raw.get("properties") if isinstance(raw, dict) else None
    code = _prop(props, "code") if isinstance(props, dict) else getattr(raw, "key", None)
    return str(code) if code not in (None, "") else "（无编码）"


def _prop(props: Mapping[str, object], field: str) -> object:
    """A property by any of its names (case aside; a Shapefile's cut at 10 characters)."""
    names = {n.casefold() for a in _ALIASES[field] for n in (a, a[:10])}
    for key, value in props.items():
        if str(key).strip().casefold() in names:
            return value
    return None


# --- GeoJSON ----------------------------------------------------------------------------------


def _geojson(path: Path) -> Iterator[object]:
    try:
        data = json.loads(path.read_bytes().decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError) as err:
        raise _refuse(f"不是有效的 GeoJSON（UTF-8 编码的 JSON）：{err}") from err
    if not isinstance(data, dict):
        raise _refuse("文件不是 GeoJSON FeatureCollection（要素集合）")
    return _collection(data)


def _collection(data: Mapping[str, object]) -> Iterator[object]:
    features = data.get("features")
    if data.get("type") != "FeatureCollection" or not isinstance(features, list):
        raise ValidationFailed(
            "expected a GeoJSON FeatureCollection with a 'features' list",
            code="bad_grid_file",
            message="文件不是 GeoJSON FeatureCollection（要素集合）",
        )
    return iter(features)


# --- a table of WKT ---------------------------------------------------------------------------


class _BadWkt(_Invalid):
    def __init__(self, key: str, detail: str, message: str) -> None:
        super().__init__(detail, message)
        self.key = key


def _wkt_feature(cells: dict[str, str]) -> object:
    text = cells.get("wkt", "")
    key = cells.get("code", "")
    srid = _SRID.match(text)
    if srid and srid.group(1) not in _GEOGRAPHIC_SRIDS:
        return _BadWkt(
            key,
            f"SRID {srid.group(1)} is not geographic",
            f"SRID={srid.group(1)} 不是经纬度坐标（应为 4326 或 4490）",
        )
    try:
        geometry = mapping(shapely.wkt.loads(_SRID.sub("", text)))
    except (ShapelyError, ValueError, TypeError) as err:
        return _BadWkt(key, f"bad WKT: {err}", "范围WKT无法解析，应为 POLYGON((经度 纬度, …))")
    properties = {k: v for k, v in cells.items() if k != "wkt" and v}
    return {"type": "Feature", "properties": properties, "geometry": geometry}


# --- Shapefile --------------------------------------------------------------------------------


def _shapes(path: Path) -> Iterator[object]:
    _check_projection(path)
    try:
        return iter(_read_shapes(path, encoding=None))  # the .cpg's, else UTF-8
    except _UNREADABLE as first:
        try:  # a Chinese GIS's export without a .cpg: GBK
            return iter(_read_shapes(path, encoding="gb18030"))
        except _UNREADABLE:
            raise _refuse(f"无法读取 Shapefile：{first}") from first


def _read_shapes(path: Path, *, encoding: str | None) -> list[object]:
    with shapefile.Reader(path, encoding=encoding) as reader:
        out: list[object] = []
        for item in reader.iterShapeRecords():
            feature = dict(item.__geo_interface__)
            # A DBF number field is typed: a 15-digit code read as a number is exact.
            feature["properties"] = {
                k: str(v) if isinstance(v, int) and not isinstance(v, bool) else v
                for k, v in feature.get("properties", {}).items()
            }
            out.append(feature)
        return out


def _check_projection(path: Path) -> None:
    """Refuse projected coordinates (a .prj with PROJCS): only longitude and latitude."""
    prj = None
    if path.suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(path) as bundle:
                name = next((n for n in bundle.namelist() if n.lower().endswith(".prj")), None)
                prj = bundle.read(name).decode("utf-8", "replace") if name else None
        except zipfile.BadZipFile as err:
            raise _refuse(f"不是有效的 ZIP 文件：{path.name}") from err
    elif (side := path.with_suffix(".prj")).is_file():
        prj = side.read_text("utf-8", "replace")
    if prj and prj.lstrip().upper().startswith("PROJCS"):
        name = prj.split('"')[1] if '"' in prj else "PROJCS"
        raise _refuse(
            f"Shapefile 是投影坐标（{name}）：请先在 GIS 软件中转换为经纬度"
            "（CGCS2000 或 WGS-84）再导入"
        )


# --- one feature ------------------------------------------------------------------------------


def _parse_feature(raw: object, crs: CoordSystem) -> GridFeature:
    if not isinstance(raw, dict) or raw.get("type") != "Feature":
        raise _Invalid("not a GeoJSON Feature", "不是 GeoJSON 要素（Feature）")
    props = raw.get("properties")
    props = props if isinstance(props, dict) else {}
    code = _parse_code(_prop(props, "code"))
    polygon = _parse_geometry(raw.get("geometry"), crs)
    name = _prop(props, "name")
    street_code = _optional(_prop(props, "street_code"), "street_code", "街道编码")
    community_code = _optional(_prop(props, "community_code"), "community_code", "社区编码")
    street = _prop(props, "street")
    community = _prop(props, "community")
    return GridFeature(
        code=code,
        name=_text(code if name in (None, "") else name, "name", "网格名称"),
        street=_optional(street, "street", "所属街道")
        if street_code or community_code
        else _text(street, "street", "所属街道"),
        community=_optional(community, "community", "所属社区")
        if community_code
        else _text(community, "community", "所属社区"),
        polygon=polygon,
        street_code=street_code,
        community_code=community_code,
    )


def _parse_code(code: object) -> str:
    if code is None or code == "":
        raise _Invalid("missing property 'code'", "缺少网格编码（code）")
    if not isinstance(code, str):
        raise _Invalid(
            f"code must be a string of 15 digits, got {type(code).__name__}",
            "网格编码（code）须为 15 位数字组成的文本",
        )
    code = code.strip()
    if len(code) != 15:
        raise _Invalid(
            f"code {code!r} has {len(code)} characters, expected 15 (GB/T 47678.3)",
            f"网格编码 {code} 长度为 {len(code)} 位，应为 15 位",
        )
    # isdigit alone would accept other scripts' digits such as "١".
    if not (code.isascii() and code.isdigit()):
        raise _Invalid(f"code {code!r} must be 15 digits 0-9", f"网格编码 {code} 只能包含数字")
    return code


def _text(value: object, field: str, label: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _Invalid(f"property {field!r} must be a non-empty string", f"缺少{label}（{field}）")
    if len(value.strip()) > 64:
        raise _Invalid(f"property {field!r} is over 64 characters", f"{label}最长64字")
    return value.strip()


def _optional(value: object, field: str, label: str) -> str | None:
    return None if value is None or value == "" else _text(value, field, label)


def _parse_geometry(geometry: object, crs: CoordSystem) -> Area:
    kind = geometry.get("type") if isinstance(geometry, dict) else None
    coords = geometry.get("coordinates") if isinstance(geometry, dict) else None
    if kind == "Polygon":
        polygon = _polygon(coords, crs)
    elif kind == "MultiPolygon":
        if not isinstance(coords, list | tuple) or not coords:
            raise _Invalid("MultiPolygon needs at least one polygon", "多边形坐标为空")
        polygon = MultiPolygon([_polygon(part, crs) for part in coords])
    else:
        raise _Invalid(
            f"geometry is {kind or 'missing'}, expected Polygon or MultiPolygon",
            "网格范围须为多边形（Polygon 或 MultiPolygon）",
        )
    if not polygon.is_valid:
        raise _Invalid(
            f"invalid polygon: {explain_validity(polygon)}",
            "网格多边形无效（如边界自相交），请在 GIS 软件中修复后重新导入",
        )
    return polygon


def _polygon(rings: object, crs: CoordSystem) -> Area:
    if not isinstance(rings, list | tuple) or not rings:
        raise _Invalid("Polygon needs at least one ring", "多边形坐标为空")
    shell, *holes = (_ring(ring, crs) for ring in rings)
    return Polygon(shell, holes)


def _ring(ring: object, crs: CoordSystem) -> list[LonLat]:
    if not isinstance(ring, list | tuple) or len(ring) < 4:
        raise _Invalid(
            "a polygon ring needs at least 4 positions", "多边形的边界至少需要 4 个坐标点"
        )
    return [_position(position, crs) for position in ring]


def _position(position: object, crs: CoordSystem) -> LonLat:
    if not (
        isinstance(position, list | tuple)
        and len(position) >= 2
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in position[:2])
    ):
        raise _Invalid(f"bad position {position!r}", "坐标点格式不正确，应为 [经度, 纬度]")
    lon, lat = float(position[0]), float(position[1])
    # Catches swapped [lat, lon] too: Chinese longitudes are all above 73, so as a latitude
    # they fall out of range.
    if not (-180.0 <= lon <= 180.0 and -90.0 <= lat <= 90.0):
        raise _Invalid(
            f"position {position!r} is not [lon, lat] in degrees",
            "坐标超出经纬度范围，请确认顺序为 [经度, 纬度]",
        )
    return to_wgs84(lon, lat, crs)
