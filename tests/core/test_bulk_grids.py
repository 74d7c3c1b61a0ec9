"""Importing and re-importing 单元网格 (core/bulk/grids.py): what changes is listed first, the
streets already imported are used, a grid the map leaves out is retired, and a retired grid gets
no new case, no inspector and no point."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from core.audit.models import AuditEntry
from core.audit.service import Actor
from core.auth.accounts import create_staff, set_grids
from core.bulk import grids
from core.bulk.gridfiles import read_grid_file
from core.bulk.plan import Plan
from core.config import Settings
from core.errors import ValidationFailed
from core.org.models import Department, DepartmentKind, Grid, GridAssignment
from core.web.keys import GRIDS
from tests.core.processes import base_env
from tests.core.test_accounts import _admin

G1, G2, G3 = "370202001001001", "370202001001002", "370202001002001"
TOP = "370202"


def _feature(code: str, west: float, **props: str) -> dict[str, Any]:
    ring = [[west, 36.06], [west + 0.01, 36.06], [west + 0.01, 36.07], [west, 36.07], [west, 36.06]]
    properties = {"code": code, "street": "八大关街道", "community": "太平角社区", **props}
    return {
        "type": "Feature",
        "properties": properties,
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }


def _file(folder: Path, *features: dict[str, Any], name: str = "grids.geojson") -> Path:
    path = folder / name
    data = {"type": "FeatureCollection", "features": list(features)}
    path.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    return path


async def _plan(path: Path, *, replace: bool = False) -> list[str]:
    return (await grids.plan(read_grid_file(path), top=TOP, replace=replace)).report()


async def _apply(path: Path, *, replace: bool = False) -> Plan:
    return await grids.apply(
        read_grid_file(path), top=TOP, top_name="市南区", replace=replace, actor=Actor.cli()
    )


async def test_a_dry_run_lists_every_grid_and_writes_nothing(db: None, tmp_path: Path) -> None:
    path = _file(
        tmp_path,
        _feature(G1, 120.30),
        _feature(G2, 120.31),
        _feature(G3, 120.32, community="汇泉社区"),
        _feature("37020200100300", 120.33),
        _feature(G1, 120.34),
    )
    assert await _plan(path) == [
        f"第1个要素  新增  {G1} {G1}  新建街道 八大关街道；新建社区 太平角社区",
        f"第2个要素  新增  {G2} {G2}",
        f"第3个要素  新增  {G3} {G3}  新建社区 汇泉社区",
        "第4个要素  拒绝  37020200100300  网格编码 37020200100300 长度为 14 位，应为 15 位",
        f"第5个要素  拒绝  {G1}  网格编码 {G1} 与第 1 个要素重复",
        "新增 3，修改 0，不变 0，拒绝 2",
    ]
    assert await Grid.all().count() == 0 and await Department.all().count() == 0
    done = await _apply(path)  # the refusals refuse it all
    assert len(done.refused) == 2
    assert await Grid.all().count() == 0 and await AuditEntry.all().count() == 0


async def test_streets_and_communities_already_imported_are_used(db: None, tmp_path: Path) -> None:
    top = await Department.create(code="SN", name="市南区", kind=DepartmentKind.DISTRICT)
    street = await Department.create(
        code="SN01", name="八大关街道", kind=DepartmentKind.STREET, parent=top
    )
    home = await Department.create(
        code="SN0101", name="太平角社区", kind=DepartmentKind.COMMUNITY, parent=street
    )
    other = await Department.create(code="LS", name="崂山区", kind=DepartmentKind.DISTRICT)
    await Department.create(code="LS01", name="中韩街道", kind=DepartmentKind.STREET, parent=other)
    await Department.create(code="LS02", name="中韩街道", kind=DepartmentKind.STREET, parent=top)
    path = _file(
        tmp_path,
        _feature(G1, 120.30),  # by name
        _feature(G2, 120.31, street="", community="", community_code="SN0101"),
        _feature(G3, 120.32, street="中韩街道"),  # two streets of that name
        _feature("370202001003001", 120.33, street_code="SN09"),
        _feature("370202001004001", 120.34, street_code="LS01", community_code="SN0101"),
    )
    report = await _plan(path)
    assert report[:5] == [
        f"第1个要素  新增  {G1} {G1}",
        f"第2个要素  新增  {G2} {G2}",
        f"第3个要素  拒绝  {G3} {G3}  街道名称 中韩街道 不唯一（LS01、LS02），请填写街道编码",
        "第4个要素  拒绝  370202001003001 370202001003001  街道编码 SN09 不存在",
        "第5个要素  拒绝  370202001004001 370202001004001  社区 太平角社区 不属于街道编码 LS01",
    ]
    await _apply(
        _file(tmp_path, _feature(G1, 120.30), _feature(G2, 120.31, community_code="SN0101"))
    )
    placed = await Grid.all().order_by("code").values_list("street_id", "community_id")
    assert placed == [(street.id, home.id), (street.id, home.id)]
    assert await Department.all().count() == 6  # nothing derived


async def test_a_reimport_lists_what_changed_and_writes_only_that(db: None, tmp_path: Path) -> None:
    await _apply(_file(tmp_path, _feature(G1, 120.30), _feature(G2, 120.31)))
    assert await AuditEntry.filter(action="grid.create").count() == 2
    moved = _feature(G2, 120.31)
    moved["geometry"]["coordinates"][0][2] = [120.325, 36.075]
    start_elsewhere = _feature(G1, 120.30, name="一号网格")
    ring = start_elsewhere["geometry"]["coordinates"][0]
    start_elsewhere["geometry"]["coordinates"][0] = [*ring[2:-1], *ring[:3]]  # same polygon
    again = _file(tmp_path, start_elsewhere, moved, name="again.geojson")
    assert await _plan(again) == [
        f"第1个要素  修改  {G1} 一号网格  网格名称：{G1} → 一号网格",
        f"第2个要素  修改  {G2} {G2}  范围：已改",
        "新增 0，修改 2，不变 0，拒绝 0",
    ]
    await _apply(again)
    assert await _plan(again) == [
        f"第1个要素  不变  {G1} 一号网格",
        f"第2个要素  不变  {G2} {G2}",
        "新增 0，修改 0，不变 2，拒绝 0",
    ]
    changes = await AuditEntry.filter(action="grid.update").order_by("id")
    assert [sorted(e.after or {}) for e in changes] == [["name"], ["geometry"]]


async def test_a_grid_left_out_of_a_replacing_import_is_retired(
    client: TestClient[Any, Any], tmp_path: Path
) -> None:
    await _apply(_file(tmp_path, _feature(G1, 120.30), _feature(G2, 120.31)))
    walker = await create_staff(
        username="xj1", password="xunCha-2026-password", display_name="巡一", roles=["inspector"]
    )
    await set_grids(walker.id, grid_codes=[G1, G2], primary=[G2], actor=Actor.cli())
    only_one = _file(tmp_path, _feature(G1, 120.30), name="one.geojson")
    assert (await _plan(only_one))[-1] == (
        "库中另有 1 个网格不在文件中，保持不变（文件是全部网格时加 --replace 停用它们）"
    )
    assert (await _plan(only_one, replace=True))[1:3] == [
        f"文件外  停用  {G2} {G2}  文件中没有",
        "新增 0，修改 0，不变 1，停用 1，拒绝 0",
    ]
    await _apply(only_one, replace=True)

    # Off the map: no point falls in it, no inspector walks it, nobody can be given it.
    await client.app[GRIDS].refresh()
    admin = await _admin(client)
    where = await client.get("/api/v1/geo/locate?lon=120.315&lat=36.065", headers=admin)
    assert (await where.json())["grid_code"] is None
    listed = await (await client.get("/api/v1/grids", headers=admin)).json()
    assert [f["properties"]["code"] for f in listed["features"]] == [G1]
    kept = await GridAssignment.filter(staff_id=walker.id).values_list("grid__code", flat=True)
    assert [str(c) for c in kept] == [G1]
    retired = await AuditEntry.get(action="grid.retire")
    assert retired.before == {"retired": False, "inspectors": ["xj1"]}
    try:
        await set_grids(walker.id, grid_codes=[G2], primary=[], actor=Actor.cli())
    except ValidationFailed as err:
        assert "已停用" in err.message
    else:
        raise AssertionError("a retired grid was given to an inspector")

    # Named again, it is back.
    both = _file(tmp_path, _feature(G1, 120.30), _feature(G2, 120.31), name="both.geojson")
    assert (await _plan(both))[1] == f"第2个要素  修改  {G2} {G2}  恢复启用"
    await _apply(both)
    await client.app[GRIDS].refresh()
    where = await client.get("/api/v1/geo/locate?lon=120.315&lat=36.065", headers=admin)
    assert (await where.json())["grid_code"] == G2


def _cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "core.cli", *args],
        env=base_env(settings, redis=False, path=[]),
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_the_command_is_a_dry_run_until_apply(
    settings: Settings, db: None, tmp_path: Path
) -> None:
    path = _file(tmp_path, _feature(G1, 120.30))
    done = _cli(settings, "import", "grids", str(path))
    assert done.returncode == 0, done.stderr
    assert "试运行：未写入任何内容" in done.stdout and await Grid.all().count() == 0
    done = _cli(settings, "import", "grids", str(path), "--apply")
    assert done.returncode == 0 and "已写入 1 项" in done.stdout
    bad = _file(tmp_path, _feature("3702020010010", 120.30), name="bad.geojson")
    done = _cli(settings, "import-grids", str(bad))  # the old command applies at once
    assert done.returncode == 2 and "有 1 项被拒绝：未写入任何内容" in done.stderr
    done = _cli(settings, "import", "staff", str(path), "--replace")
    assert done.returncode == 2 and "--replace 只用于 grids" in done.stderr
    done = _cli(settings, "import", "grids", str(tmp_path / "grids.kml"))
    assert done.returncode != 0 and "文件不存在" in done.stderr
