"""Reading 单元网格 files (core/bulk/gridfiles.py): GeoJSON, a table of WKT, a Shapefile."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
import shapefile
from openpyxl import Workbook

from core.bulk.gridfiles import parse_grid_features, read_grid_file
from core.errors import ValidationFailed
from core.geo import CoordSystem, GridHit, GridIndex, GridShape
from tests.core.test_geo import GCOORD_CITIES, RING, SPLIT, WEST, metres, square

# --- GeoJSON parsing --------------------------------------------------------------------------


def feature(code: Any = "110101001001001", geometry: Any = None, **props: Any) -> dict[str, Any]:
    properties = {"code": code, "street": "东华门街道", "community": "多福巷社区", **props}
    if geometry is None:
        geometry = {"type": "Polygon", "coordinates": [as_lists(square(116.0, 39.0, 116.5, 39.5))]}
    return {"type": "Feature", "properties": properties, "geometry": geometry}


def collection(*features: dict[str, Any]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features)}


def as_lists(ring: list[tuple[float, float]]) -> list[list[float]]:
    return [list(p) for p in ring]


def test_parse_happy_path() -> None:
    holed = {
        "type": "Polygon",
        "coordinates": [
            # An altitude in a position is allowed and dropped.
            [[118.0, 39.0, 45.0], *as_lists(square(118.0, 39.0, 118.5, 39.5))[1:]],
            as_lists(square(118.2, 39.2, 118.3, 39.3)),
        ],
    }
    split = {
        "type": "MultiPolygon",
        "coordinates": [
            [as_lists(square(120.0, 39.0, 120.1, 39.1))],
            [as_lists(square(120.2, 39.0, 120.3, 39.1))],
        ],
    }
    parsed = parse_grid_features(
        collection(
            feature(name="故宫东网格", street=" 东华门街道 "),
            feature("110101001002001", holed),
            feature("110101001004001", split),
        )
    )
    assert [f.code for f in parsed] == ["110101001001001", "110101001002001", "110101001004001"]
    assert parsed[0].name == "故宫东网格"
    assert parsed[0].street == "东华门街道"
    assert parsed[1].name == "110101001002001"  # no name: the code stands in
    assert parsed[1].community == "多福巷社区"
    assert parsed[0].polygon.equals(WEST.polygon)
    assert parsed[1].polygon.equals(RING.polygon)
    assert parsed[2].polygon.equals(SPLIT.polygon)
    # The parsed shapes work in the index, holes included.
    index = GridIndex(GridShape(i, f.code, f.polygon) for i, f in enumerate(parsed))
    assert index.locate(118.25, 39.25) is None
    assert index.locate(120.25, 39.05) == GridHit(2, "110101001004001")


def test_parse_converts_gcj02_vertices_to_wgs84() -> None:
    wgs, gcj, _ = GCOORD_CITIES["郑州"]  # a published pair as one vertex
    x, y = gcj
    ring = [[x, y], [x + 0.01, y], [x + 0.01, y + 0.01], [x, y + 0.01], [x, y]]
    geometry = {"type": "Polygon", "coordinates": [ring]}
    [grid] = parse_grid_features(collection(feature(geometry=geometry)), crs=CoordSystem.GCJ02)
    first = grid.polygon.exterior.coords[0]
    assert metres(first, wgs) < 1.0
    [raw] = parse_grid_features(collection(feature(geometry=geometry)))
    assert raw.polygon.exterior.coords[0] == (x, y)  # WGS-84 by default: untouched


def polygon(*rings: list[Any]) -> dict[str, Any]:
    return {"type": "Polygon", "coordinates": list(rings)}


BOWTIE = polygon([[116, 39], [117, 40], [117, 39], [116, 40], [116, 39]])
TOO_SHORT = polygon([[116, 39], [117, 39], [116, 39]])
LAT_LON_SWAPPED = polygon([[lat, lon] for lon, lat in square(116.0, 39.0, 116.5, 39.5)])
TEXT_NUMBER = polygon([["116", 39], [117, 39], [117, 40], [116, 39]])


@pytest.mark.parametrize(
    ("bad", "detail_part"),
    [
        (feature(code=None), "missing property 'code'"),
        (feature("11010100100100"), "has 14 characters, expected 15"),
        (feature("1101010010010011"), "has 16 characters, expected 15"),
        (feature("11010100100100A"), "must be 15 digits"),
        (feature("١١٠١٠١٠٠١٠٠١٠٠١"), "must be 15 digits"),  # Arabic-Indic digits
        (feature(110101001001009), "must be a string"),
        (feature(geometry={"type": "Point", "coordinates": [116, 39]}), "geometry is Point"),
        (feature(geometry={"type": "LineString", "coordinates": []}), "expected Polygon"),
        ({"type": "Feature", "properties": {"code": "110101001001009"}}, "geometry is missing"),
        (feature(geometry=BOWTIE), "Self-intersection"),
        (feature(geometry=TOO_SHORT), "at least 4 positions"),
        (feature(geometry=LAT_LON_SWAPPED), "not [lon, lat]"),
        (feature(geometry=TEXT_NUMBER), "bad position"),
        (feature(geometry=polygon()), "at least one ring"),
        (feature(geometry={"type": "MultiPolygon", "coordinates": []}), "at least one polygon"),
        (feature(geometry=polygon([[116, 39], [True, 39], [117, 40], [116, 39]])), "bad position"),
        (feature(street=""), "'street'"),
        (feature(street="   "), "'street'"),
        (feature(community=None), "'community'"),
        (feature(name=7), "'name'"),
        (feature("110101001001001"), "duplicate code 110101001001001, first used by features[0]"),
        ("not a feature", "not a GeoJSON Feature"),
    ],
)
def test_parse_rejects_bad_feature_naming_its_index(bad: Any, detail_part: str) -> None:
    good = feature("110101001001001")
    with pytest.raises(ValidationFailed) as caught:
        parse_grid_features(collection(good, bad))
    err = caught.value
    assert err.detail.startswith("features[1]: "), err.detail
    assert detail_part in err.detail
    assert err.extra == {"feature_index": 1}
    assert err.message.startswith("第 2 个要素：")


@pytest.mark.parametrize(
    "data",
    [
        {"type": "Feature", "features": []},
        {"type": "FeatureCollection"},
        {"type": "FeatureCollection", "features": {}},
    ],
)
def test_parse_rejects_what_is_not_a_feature_collection(data: dict[str, Any]) -> None:
    with pytest.raises(ValidationFailed, match="FeatureCollection"):
        parse_grid_features(data)


# --- a file of grids, each format -------------------------------------------------------------

CODE_1, CODE_2 = "370202001001001", "370202001001002"
WKT_1 = "POLYGON((120.30 36.06, 120.31 36.06, 120.31 36.07, 120.30 36.07, 120.30 36.06))"


def test_a_geojson_file_reports_each_bad_feature_and_keeps_the_good(tmp_path: Path) -> None:
    path = tmp_path / "grids.geojson"
    data = collection(
        feature(CODE_1, name="一号网格"),
        feature("37020200100100"),
        feature(CODE_1),
        {
            "type": "Feature",
            "properties": {"网格编码": CODE_2, "所属街道": "八大关街道", "所属社区": "太平角社区"},
            "geometry": polygon(as_lists(square(120.0, 36.0, 120.1, 36.1))),
        },
    )
    path.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    read = read_grid_file(path)
    assert read.unit == "个要素"
    assert [(i.number, i.key, i.problem) for i in read.items if i.feature is None] == [
        (2, "37020200100100", "网格编码 37020200100100 长度为 14 位，应为 15 位"),
        (3, CODE_1, f"网格编码 {CODE_1} 与第 1 个要素重复"),
    ]
    good = [i.feature for i in read.items if i.feature]
    assert [(f.code, f.street) for f in good] == [(CODE_1, "东华门街道"), (CODE_2, "八大关街道")]


def test_a_table_of_wkt_is_read_as_excel_writes_it(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["网格编码", "网格名称", "所属街道", "所属社区", "范围WKT"])
    sheet.append([CODE_1, "一号网格", "八大关街道", "太平角社区", WKT_1])
    sheet.append([CODE_2, "", "八大关街道", "太平角社区", "POLYGON((120.31 36.06, 120.32"])
    sheet.append([])
    sheet.append(["370202001001003", "", "八大关街道", "太平角社区", "SRID=4549;" + WKT_1])
    sheet.append(["370202001001004", "", "八大关街道", "太平角社区", "SRID=4490;" + WKT_1])
    path = tmp_path / "grids.xlsx"
    book.save(path)
    read = read_grid_file(path)
    assert read.unit == "行"
    assert [(i.number, i.key, i.problem) for i in read.items if i.feature is None] == [
        (3, CODE_2, "范围WKT无法解析，应为 POLYGON((经度 纬度, …))"),
        (5, "370202001001003", "SRID=4549 不是经纬度坐标（应为 4326 或 4490）"),
    ]
    first = read.items[0].feature
    assert first is not None and first.name == "一号网格"
    assert first.polygon.bounds == (120.30, 36.06, 120.31, 36.07)
    assert read.items[-1].feature is not None  # CGCS2000 is longitude and latitude


def test_a_csv_of_wkt_in_gcj02_is_turned_into_wgs84(tmp_path: Path) -> None:
    wgs, gcj, _ = GCOORD_CITIES["郑州"]
    x, y = gcj
    wkt = f"POLYGON(({x} {y}, {x + 0.01} {y}, {x + 0.01} {y + 0.01}, {x} {y}))"
    path = tmp_path / "grids.csv"
    path.write_bytes(
        ("网格编码,所属街道,所属社区,范围WKT\n" + f'{CODE_1},街道,社区,"{wkt}"\n').encode("gb18030")
    )
    [item] = read_grid_file(path, CoordSystem.GCJ02).items
    assert item.feature is not None
    assert metres(item.feature.polygon.exterior.coords[0], wgs) < 1.0


def _shapefile(folder: Path, *, encoding: str = "utf-8", cpg: bool = True) -> Path:
    path = folder / "grids.shp"
    with shapefile.Writer(str(path.with_suffix("")), shapefile.POLYGON, encoding=encoding) as w:
        w.field("CODE", "N", size=15)  # a number field, as many GIS exports have it
        w.field("名称", "C", size=40)
        w.field("STREET_COD", "C", size=32)  # street_code cut at 10 characters
        w.field("COMMUNITY", "C", size=40)
        ring = [list(p) for p in reversed(square(120.30, 36.06, 120.31, 36.07))]  # clockwise
        w.poly([ring])
        w.record(int(CODE_1), "八大关1号网格", "SN01", "太平角社区")
        w.poly([[list(p) for p in reversed(square(120.31, 36.06, 120.32, 36.07))]])
        w.record(370202001001, "短编码", "SN01", "太平角社区")
    if cpg:
        path.with_suffix(".cpg").write_text(encoding.upper())
    return path


def test_a_shapefile_is_read_with_its_code_page(tmp_path: Path) -> None:
    path = _shapefile(tmp_path, encoding="gbk")
    read = read_grid_file(path)
    first, second = read.items
    assert first.feature is not None
    assert (first.feature.code, first.feature.name) == (CODE_1, "八大关1号网格")
    assert first.feature.street_code == "SN01" and first.feature.street is None
    assert first.feature.polygon.bounds == (120.30, 36.06, 120.31, 36.07)
    assert second.problem == "网格编码 370202001001 长度为 12 位，应为 15 位"


def test_a_zipped_shapefile_in_gbk_without_a_code_page_is_read(tmp_path: Path) -> None:
    _shapefile(tmp_path, encoding="gbk", cpg=False)
    bundle = tmp_path / "grids.zip"
    with zipfile.ZipFile(bundle, "w") as out:
        for part in tmp_path.glob("grids.*"):
            if part.suffix != ".zip":
                out.write(part, part.name)
    first = read_grid_file(bundle).items[0].feature
    assert first is not None and first.name == "八大关1号网格"


def test_a_shapefile_in_projected_coordinates_is_refused_by_name(tmp_path: Path) -> None:
    path = _shapefile(tmp_path)
    path.with_suffix(".prj").write_text(
        'PROJCS["CGCS2000_3_Degree_GK_CM_120E",GEOGCS["GCS_China_Geodetic_Coordinate_System_2000"]]'
    )
    with pytest.raises(ValidationFailed) as caught:
        read_grid_file(path)
    assert caught.value.code == "bad_grid_file"
    assert "投影坐标（CGCS2000_3_Degree_GK_CM_120E）" in caught.value.message


@pytest.mark.parametrize(
    ("name", "content", "said"),
    [
        ("grids.kml", b"<kml/>", "不支持的网格文件：grids.kml"),
        ("grids.geojson", b"{not json", "不是有效的 GeoJSON"),
        ("grids.geojson", b"[]", "不是 GeoJSON FeatureCollection"),
        ("grids.shp", b"not a shapefile", "无法读取 Shapefile"),
        ("grids.zip", b"not a zip", "不是有效的 ZIP 文件"),
    ],
)
def test_a_file_that_cannot_be_read_is_refused_whole(
    tmp_path: Path, name: str, content: bytes, said: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ValidationFailed) as caught:
        read_grid_file(path)
    assert said in caught.value.message


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed, match="文件不存在"):
        read_grid_file(tmp_path / "nothere.geojson")
