"""Grids and departments: the import-grids command, point lookup over HTTP, the demo city."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from shapely.geometry import shape

from core.auth.const import Role
from core.auth.models import Staff
from core.auth.service import issue_token
from core.cli import main
from core.config import Settings
from core.db import database
from core.demo import seed_demo
from core.geo import CoordSystem, from_wgs84, gcj02_to_wgs84
from core.org.models import Department, DepartmentKind, Grid
from core.web.keys import GRIDS, SETTINGS

LOCATE = "/api/v1/geo/locate"
# Two 0.01° squares side by side: A to the west of B, sharing the edge lon = 120.11.
WEST, EAST, SOUTH, NORTH = 120.10, 120.12, 30.20, 30.21
MIDDLE = 120.11


# --- import-grids (the command line) -------------------------------------------------------------


def _square(code: str, name: str, west: float, east: float) -> dict[str, Any]:
    ring = [[west, SOUTH], [east, SOUTH], [east, NORTH], [west, NORTH], [west, SOUTH]]
    return {
        "type": "Feature",
        "properties": {"code": code, "name": name, "street": "测试街道", "community": "测试社区"},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }


def _write(path: Path, *features: dict[str, Any]) -> str:
    collection = {"type": "FeatureCollection", "features": list(features)}
    path.write_text(json.dumps(collection, ensure_ascii=False), encoding="utf-8")
    return str(path)


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Point the command line at this test's database."""
    monkeypatch.setenv("CITYLOOP_DATABASE_URL", settings.database_url)
    return settings


def _stored(settings: Settings) -> tuple[dict[str, dict[str, Any]], list[tuple[str, str]]]:
    async def read() -> tuple[dict[str, dict[str, Any]], list[tuple[str, str]]]:
        async with database(settings):
            grids = await Grid.all().values("code", "name", "geometry")
            areas = await Department.filter(
                kind__in=[DepartmentKind.STREET, DepartmentKind.COMMUNITY]
            ).values_list("kind", "name")
        return {g["code"]: g for g in grids}, sorted((str(k), str(n)) for k, n in areas)

    return asyncio.run(read())


def test_import_grids_creates_then_updates(
    cli_env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "grids.geojson"
    a, b = (
        _square("330100901001001", "一号网格", WEST, MIDDLE),
        _square("330100901001002", "二号网格", MIDDLE, EAST),
    )
    assert main(["import-grids", _write(path, a, b)]) == 0
    said = capsys.readouterr().out.splitlines()
    assert said[-2:] == ["新增 2，修改 0，不变 0，拒绝 0", "已写入 2 项（审计日志已记录）。"]

    a["properties"]["name"] = "一号网格（调整后）"
    assert main(["import-grids", _write(path, a, b)]) == 0
    said = capsys.readouterr().out.splitlines()
    assert said[0].split("  ")[1:] == [
        "修改",
        "330100901001001 一号网格（调整后）",
        "网格名称：一号网格 → 一号网格（调整后）",
    ]
    assert said[-2] == "新增 0，修改 1，不变 1，拒绝 0"

    grids, areas = _stored(cli_env)
    assert set(grids) == {"330100901001001", "330100901001002"}
    assert grids["330100901001001"]["name"] == "一号网格（调整后）"
    assert shape(grids["330100901001002"]["geometry"]).bounds == (MIDDLE, SOUTH, EAST, NORTH)
    assert areas == [("community", "测试社区"), ("street", "测试街道")]


def test_import_grids_converts_gcj02_to_wgs84(
    cli_env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path / "gcj.geojson", _square("330100901001001", "一号网格", WEST, MIDDLE))
    assert main(["import-grids", path, "--crs", "gcj02"]) == 0
    assert "新增 1" in capsys.readouterr().out
    grids, _ = _stored(cli_env)
    corner = shape(grids["330100901001001"]["geometry"]).exterior.coords[0]
    expected = gcj02_to_wgs84(WEST, SOUTH)
    assert corner == pytest.approx(expected, abs=1e-9)
    assert corner != pytest.approx((WEST, SOUTH), abs=1e-4)  # the shift is hundreds of metres


def test_import_grids_refuses_a_bad_code_and_names_the_feature(
    cli_env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = _square("330100901001002", "二号网格", MIDDLE, EAST)
    path = _write(tmp_path / "bad.geojson", _square("33010090100100", "短编码", WEST, MIDDLE), good)
    assert main(["import-grids", path]) == 2
    captured = capsys.readouterr()
    assert captured.out.splitlines()[0] == (
        "第1个要素  拒绝  33010090100100  网格编码 33010090100100 长度为 14 位，应为 15 位"
    )
    assert "有 1 项被拒绝：未写入任何内容" in captured.err
    assert _stored(cli_env) == ({}, [])  # nothing half-imported, the good one neither


def test_import_grids_names_a_missing_file(
    cli_env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import-grids", str(tmp_path / "missing.geojson")]) == 1
    err = capsys.readouterr().err
    assert "文件不存在" in err
    assert "missing.geojson" in err


# --- point lookup and the department tree (HTTP) -------------------------------------------------


@pytest.fixture
async def demo(client: TestClient[Any, Any]) -> dict[str, str]:
    """Seed the demo city into the running app; return username → password."""
    logins = await seed_demo(client.app[SETTINGS])
    await client.app[GRIDS].refresh(force=True)
    return {username: password for username, password, _ in logins}


async def _headers(client: TestClient[Any, Any], demo: dict[str, str], username: str) -> Any:
    resp = await client.post(
        "/api/v1/auth/login", json={"username": username, "password": demo[username]}
    )
    assert resp.status == 200, await resp.text()
    return {"Authorization": f"Bearer {(await resp.json())['token']}"}


async def _grids(client: TestClient[Any, Any], headers: Any) -> dict[str, dict[str, Any]]:
    resp = await client.get("/api/v1/grids", headers=headers)
    assert resp.status == 200
    return {f["properties"]["code"]: f for f in (await resp.json())["features"]}


async def _locate(client: TestClient[Any, Any], headers: Any, **query: Any) -> dict[str, Any]:
    resp = await client.get(LOCATE, params={k: str(v) for k, v in query.items()}, headers=headers)
    assert resp.status == 200, await resp.text()
    body: dict[str, Any] = await resp.json()
    return body


async def test_point_inside_a_grid_is_located(
    client: TestClient[Any, Any], demo: dict[str, str]
) -> None:
    headers = await _headers(client, demo, "dispatcher")
    grids = await _grids(client, headers)
    assert len(grids) == 32
    feature = grids["330100002001003"]
    centre = shape(feature["geometry"]).centroid
    body = await _locate(client, headers, lon=centre.x, lat=centre.y)
    assert body["inside"] is True
    assert body["grid_code"] == "330100002001003"
    assert body["grid_id"] == feature["id"]
    assert body["street_id"] == feature["properties"]["street_id"]
    assert body["community_id"] == feature["properties"]["community_id"]
    street = await Department.get(id=body["street_id"])
    assert (street.name, street.kind) == ("清波街道", DepartmentKind.STREET)


async def test_point_on_a_shared_edge_goes_to_the_smaller_code(
    client: TestClient[Any, Any], demo: dict[str, str]
) -> None:
    headers = await _headers(client, demo, "dispatcher")
    grids = await _grids(client, headers)
    # 330100001001001 lies directly south of 330100002001001 (first and second row of the block).
    south = shape(grids["330100001001001"]["geometry"]).bounds
    north = shape(grids["330100002001001"]["geometry"]).bounds
    assert south[3] == north[1]
    on_edge = {"lon": (south[0] + south[2]) / 2, "lat": south[3]}
    body = await _locate(client, headers, **on_edge)
    assert body["grid_code"] == "330100001001001"
    # The same point pushed a hair north is in the northern grid only.
    body = await _locate(client, headers, lon=on_edge["lon"], lat=south[3] + 1e-6)
    assert body["grid_code"] == "330100002001001"


async def test_point_far_away_is_outside(
    client: TestClient[Any, Any], demo: dict[str, str]
) -> None:
    headers = await _headers(client, demo, "dispatcher")
    body = await _locate(client, headers, lon=116.3975, lat=39.9087)  # Beijing
    assert body["inside"] is False
    assert body["message"] == "该位置不在任何单元网格内"
    assert (body["grid_id"], body["grid_code"], body["street_id"]) == (None, None, None)


async def test_gcj02_point_lands_in_the_same_grid(
    client: TestClient[Any, Any], demo: dict[str, str]
) -> None:
    headers = await _headers(client, demo, "inspector3")
    grids = await _grids(client, headers)
    centre = shape(grids["330100003002004"]["geometry"]).centroid
    glon, glat = from_wgs84(centre.x, centre.y, CoordSystem.GCJ02)
    body = await _locate(client, headers, lon=glon, lat=glat, crs="gcj02")
    assert body["grid_code"] == "330100003002004"
    assert (body["lon"], body["lat"]) == pytest.approx((centre.x, centre.y), abs=1e-7)
    # Read as WGS-84 the shifted point is hundreds of metres off, in another grid.
    raw = await _locate(client, headers, lon=glon, lat=glat)
    assert raw["grid_code"] != "330100003002004"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"lon": "abc", "lat": "30.27"}, "lon"),
        ({"lon": "200", "lat": "30.27"}, "lon"),
        ({"lon": "120.15"}, "lat"),
        ({"lon": "120.15", "lat": "30.27", "crs": "mars"}, "crs"),
    ],
)
async def test_bad_locate_query_is_422_naming_the_field(
    client: TestClient[Any, Any], query: dict[str, str], field: str
) -> None:
    staff = await Staff.create(username="x", display_name="x", password_hash="-", roles=["agent"])
    token, _ = await issue_token(staff=staff, ttl=dt.timedelta(hours=1))
    headers = {"Authorization": f"Bearer {token}"}
    resp = await client.get(LOCATE, params=query, headers=headers)
    assert resp.status == 422
    body = await resp.json()
    assert body["code"] == "validation_error"
    assert [f["field"] for f in body["fields"]] == [field]


async def test_locate_needs_a_login(client: TestClient[Any, Any]) -> None:
    resp = await client.get(LOCATE, params={"lon": "120.15", "lat": "30.27"})
    assert resp.status == 401


async def test_department_tree(client: TestClient[Any, Any], demo: dict[str, str]) -> None:
    headers = await _headers(client, demo, "handler_hw")
    resp = await client.get("/api/v1/departments", headers=headers)
    assert resp.status == 200
    roots = (await resp.json())["items"]
    assert len(roots) == 1
    district = roots[0]
    assert (district["kind"], district["parent_id"]) == ("district", None)
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for child in district["children"]:
        assert child["parent_id"] == district["id"]
        by_kind.setdefault(child["kind"], []).append(child)
    assert set(by_kind) == {"street", "department"}
    assert {s["name"] for s in by_kind["street"]} == {
        "湖滨街道",
        "清波街道",
        "小营街道",
        "长庆街道",
    }
    for street in by_kind["street"]:
        assert [c["kind"] for c in street["children"]] == ["community", "community"]
    names = {d["name"] for d in by_kind["department"]}
    assert names == {
        f"区{n}" for n in ("环卫", "市政", "园林", "城管执法", "交警", "供水", "排水", "燃气")
    }


async def test_inspector_sees_its_grids(client: TestClient[Any, Any], demo: dict[str, str]) -> None:
    headers = await _headers(client, demo, "inspector1")
    resp = await client.get("/api/v1/auth/me", headers=headers)
    assert resp.status == 200
    me = await resp.json()
    grids = await _grids(client, headers)
    street1 = sorted(f["id"] for code, f in grids.items() if code.startswith("330100001"))
    assert len(street1) == 8
    assert me["grid_ids"] == street1
    assert me["roles"] == ["inspector"]


# --- the demo city -------------------------------------------------------------------------------


async def test_seeding_twice_changes_nothing_but_passwords(settings: Settings, db: None) -> None:
    first = await seed_demo(settings)
    counts = (await Grid.all().count(), await Department.all().count(), await Staff.all().count())
    second = await seed_demo(settings)
    assert await Grid.all().count() == 32
    assert (await Grid.all().count(), await Department.all().count()) == counts[:2]
    usernames = [str(u) for u in await Staff.all().values_list("username", flat=True)]
    assert sorted(usernames) == sorted(u for u, _, _ in second)
    assert len(usernames) == counts[2] == len(set(usernames))
    assert [u for u, _, _ in first] == [u for u, _, _ in second]
    assert all(p1 != p2 for (_, p1, _), (_, p2, _) in zip(first, second, strict=True))


async def test_every_role_has_a_demo_account(settings: Settings, db: None) -> None:
    await seed_demo(settings)
    held = {role for roles in await Staff.all().values_list("roles", flat=True) for role in roles}
    assert set(Role) <= held
    handlers = await Staff.filter(username__startswith="handler_").count()
    assert handlers == await Staff.filter(department_id__isnull=False).count() == 8
