"""Setting up a city from an empty database with the command line (core/bulk), as README's
"Setting up a city" walks through it: templates, dry runs that refuse bad rows and write
nothing, then the imports, then the people log in and the first report is dispatched."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from openpyxl import load_workbook

from core.audit.models import AuditEntry
from core.auth.models import Staff
from core.config import Settings
from core.org.models import Department, GridAssignment
from tests.core.processes import base_env
from tests.core.test_accounts import _admin

GRID_1, GRID_2 = "370202001001001", "370202001001002"


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "core.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _fill(template: Path, rows: list[list[str]]) -> Path:
    book = load_workbook(template)
    for row in rows:
        book.worksheets[0].append(row)
    out = template.with_name(template.stem + "-filled.xlsx")
    book.save(out)
    return out


def _template(env: dict[str, str], kind: str, folder: Path) -> Path:
    path = folder / f"{kind}.xlsx"
    with path.open("wb") as out:
        done = subprocess.run(
            [sys.executable, "-m", "core.cli", "import", "--template", kind], env=env, stdout=out
        )
    assert done.returncode == 0
    return path


def _grids(folder: Path) -> Path:
    features = []
    for i, code in enumerate((GRID_1, GRID_2)):
        w = 120.30 + i * 0.01
        ring = [[w, 36.06], [w + 0.01, 36.06], [w + 0.01, 36.07], [w, 36.07], [w, 36.06]]
        features.append(
            {
                "type": "Feature",
                "properties": {
                    "code": code,
                    "name": f"八大关{i + 1}号网格",
                    "street": "八大关街道",
                    "community": "太平角社区",
                },
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        )
    path = folder / "grids.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), "utf-8")
    return path


async def test_a_city_is_set_up_from_an_empty_database(
    client: TestClient[Any, Any], settings: Settings, tmp_path: Path
) -> None:
    env = base_env(settings, redis=False, path=[])
    header = load_workbook(_template(env, "departments", tmp_path)).worksheets[0]
    assert [c.value for c in header[1]] == [
        "编码",
        "名称",
        "类型",
        "上级编码",
        "联系人",
        "联系电话",
    ]

    # Departments: a bad file says every bad row and writes nothing.
    good = [
        ["HW", "环卫处", "专业部门", "", "值班室", "0532-88880000"],
        ["SZ", "市政处", "专业部门", "", "", ""],
        ["HW01", "清扫一队", "作业单位", "HW", "", ""],
    ]
    bad = [*good, ["QX", "区县", "社区", "", "", ""], ["HW", "又一个", "专业部门", "", "", ""]]
    bad_file = _fill(_template(env, "departments", tmp_path), bad)
    done = _cli(env, "import", "departments", str(bad_file), "--apply")
    assert done.returncode == 2, done.stderr
    assert "第5行  拒绝  QX  社区不能设在顶层之下" in done.stdout
    assert "第6行  拒绝  HW  编码与第2行重复" in done.stdout
    assert "未写入任何内容" in done.stderr
    assert await Department.all().count() == 0
    good_file = _fill(_template(env, "departments", tmp_path), good)
    dry = _cli(env, "import", "departments", str(good_file))
    assert dry.returncode == 0 and "新增 3，修改 0，不变 0，拒绝 0" in dry.stdout
    assert await Department.all().count() == 0  # a dry run
    assert _cli(env, "import", "departments", str(good_file), "--apply").returncode == 0
    again = _cli(env, "import", "departments", str(good_file))
    assert "新增 0，修改 0，不变 3，拒绝 0" in again.stdout

    # Staff: unknown department, duplicate username, a handler without a department.
    people = [
        ["lead1", "张值班", "值班长、受理员", "", ""],
        ["disp1", "李派遣", "派遣员", "", ""],
        ["hw1", "王环卫", "处置人员", "HW", "13800001111"],
        ["xj1", "赵巡查", "监督员", "", ""],
    ]
    wrong = [
        *people,
        ["gs1", "供水", "处置人员", "GS", ""],
        ["hw1", "重名", "处置人员", "HW", ""],
        ["sz1", "无部门", "处置人员", "", ""],
        ["zz1", "某某", "扫地", "", ""],
    ]
    done = _cli(
        env, "import", "staff", str(_fill(_template(env, "staff", tmp_path), wrong)), "--apply"
    )
    assert done.returncode == 2
    for line in (
        "第6行  拒绝  gs1  部门编码 GS 不存在",
        "第7行  拒绝  hw1  用户名与第4行重复",
        "第8行  拒绝  sz1  处置人员必须填写部门编码",
        "第9行  拒绝  zz1  角色不正确：扫地",
    ):
        assert line in done.stdout, done.stdout
    assert await Staff.all().count() == 0
    done = _cli(
        env, "import", "staff", str(_fill(_template(env, "staff", tmp_path), people)), "--apply"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    passwords = dict(
        line.split() for line in done.stdout.split("首次登录必须修改）：\n", 1)[1].splitlines()
    )
    assert set(passwords) == {"lead1", "disp1", "hw1", "xj1"}

    # Grids, then who walks them: a grid code of the wrong length is refused.
    done = _cli(env, "import", "grids", str(_grids(tmp_path)))
    assert done.returncode == 0 and "新建街道 八大关街道" in done.stdout, done.stdout
    assert _cli(env, "import", "grids", str(_grids(tmp_path)), "--apply").returncode == 0
    walks = [["xj1", GRID_1, "是"], ["xj1", GRID_2, "否"]]
    template = _template(env, "grid-assignments", tmp_path)
    done = _cli(
        env,
        "import",
        "grid-assignments",
        str(_fill(template, [*walks, ["xj1", "37020200100", "否"]])),
        "--apply",
    )
    assert done.returncode == 2 and "网格编码 37020200100 不存在" in done.stdout
    assert await GridAssignment.all().count() == 0
    assert (
        _cli(env, "import", "grid-assignments", str(_fill(template, walks)), "--apply").returncode
        == 0
    )

    # The people log in with their one-time passwords and change them first.
    async def login(username: str) -> dict[str, str]:
        resp = await client.post(
            "/api/v1/auth/login", json={"username": username, "password": passwords[username]}
        )
        assert resp.status == 200 and (await resp.json())["must_change_password"], username
        headers = {"Authorization": f"Bearer {(await resp.json())['token']}"}
        change = {"old_password": passwords[username], "new_password": "青岛东风路七号-已改密码"}
        assert (
            await client.post("/api/v1/auth/password", json=change, headers=headers)
        ).status == 200
        return headers

    lead, inspector = await login("lead1"), await login("xj1")
    me = await (await client.get("/api/v1/auth/me", headers=inspector)).json()
    assert len(me["grid_ids"]) == 2
    assert await AuditEntry.filter(actor__startswith="cli:").count() >= 3 + 4 + 1

    # A rule changed through the API: the next report in that grid goes where it says.
    grids = await (await client.get("/api/v1/grids", headers=lead)).json()
    grid_2 = next(f["id"] for f in grids["features"] if f["properties"]["code"] == GRID_2)
    sz = await Department.get(code="SZ")
    rule = {"category_code": "E06010", "department_id": sz.id, "grid_id": grid_2}
    assert (await client.post("/api/v1/dispatch-rules", json=rule, headers=lead)).status == 201

    async def report(lon: float, key: str) -> str:
        body = {
            "idempotency_key": key,
            "description": "路边有暴露垃圾",
            "location": {"lon": lon, "lat": 36.065},
        }
        resp = await client.post("/api/v1/reports", json=body, headers=inspector)
        assert resp.status == 201, await resp.text()
        case = (await resp.json())["case"]
        assert case["status"] == "dispatched", case
        return str((await Department.get(id=case["department_id"])).code)

    assert await report(120.305, "walk-0001") == "HW"  # grid 1: the profile's department
    assert await report(120.315, "walk-0002") == "SZ"  # grid 2: the new rule
    log = await (await client.get("/api/v1/audit", headers=await _admin(client))).json()
    newest = log["items"][0]
    assert (newest["action"], newest["actor"], newest["after"]) == (
        "dispatch_rule.create",
        "张值班",
        rule | {"area_id": None},
    )


async def test_a_csv_saved_by_chinese_excel_is_read_and_changes_are_spelled_out(
    db: None, tmp_path: Path
) -> None:
    from core.audit.service import Actor
    from core.bulk import departments, staff
    from core.bulk.tables import read_rows

    path = tmp_path / "departments.csv"
    path.write_bytes("编码,名称,类型,上级编码\nHW,环卫处,专业部门,\n".encode("gb18030"))
    rows = read_rows(path, departments.COLUMNS)
    assert (await departments.apply(rows, actor=Actor.cli())).refused == []
    path.write_bytes("编码,名称,类型\nHW,环卫局,专业部门\n".encode("gb18030"))
    plan = await departments.plan(read_rows(path, departments.COLUMNS))
    assert plan.report()[0] == "第2行  修改  HW 环卫局  名称：环卫处 → 环卫局"

    people = tmp_path / "staff.csv"
    people.write_text("用户名,姓名,角色\nwang,王,受理员\n", "utf-8-sig")
    assert not (await staff.apply(read_rows(people, staff.COLUMNS), actor=Actor.cli()))[0].refused
    people.write_text("用户名,姓名,角色\nwang,王,受理员、派遣员\n", "utf-8-sig")
    plan = await staff.plan(read_rows(people, staff.COLUMNS))
    assert plan.report()[0] == "第2行  修改  wang 王  角色：受理员 → 受理员、派遣员"


def test_a_file_with_headers_not_of_the_template_is_refused(tmp_path: Path) -> None:
    import pytest

    from core.bulk import staff
    from core.bulk.tables import read_rows
    from core.errors import ValidationFailed

    path = tmp_path / "staff.csv"
    path.write_text("用户名,姓名,岗位\nwang,王,受理员\n", "utf-8")
    with pytest.raises(ValidationFailed) as err:
        read_rows(path, staff.COLUMNS)
    assert "不认识的表头：岗位" in err.value.message
    path.write_text("用户名,姓名\nwang,王\n", "utf-8")
    with pytest.raises(ValidationFailed) as err:
        read_rows(path, staff.COLUMNS)
    assert "缺少列：角色" in err.value.message
