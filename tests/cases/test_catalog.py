"""Category catalogs and the city's rules per category, as a profile sets them."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections import Counter
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from cases.catalog import load_catalog
from cases.const import Urgency
from cases.policy import Limit, load_policy
from core.auth.models import Staff
from core.auth.service import citizen_identity, issue_token
from core.calendar import TimeUnit
from core.config import CityProfile, Settings
from core.demo import seed_demo
from core.errors import ConfigError
from core.org.models import Department
from core.web import create_app
from core.web.keys import GRIDS
from tests.cases.helpers import grid_point

SHARED_CSV = Path(__file__).resolve().parents[3] / "shared" / "data" / "categories.csv"
STANDARD = "GB/T 47678.5-2026"
LEGACY = "legacy CJ/T 214-2007 / GB/T 30428.2-2013"


def _package_csv() -> bytes:
    return files("cases").joinpath("data/categories.csv").read_bytes()


def _rows() -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(_package_csv().decode("utf-8"))))


def test_the_package_data_is_the_shared_list() -> None:
    if not SHARED_CSV.exists():
        pytest.skip("../shared is not checked out next to the repository")
    assert _package_csv() == SHARED_CSV.read_bytes()


def test_each_catalog_has_its_rows() -> None:
    new = load_catalog("gbt47678")
    assert Counter(c.kind for c in new) == {"component": 153, "event": 250}
    assert len(new) == 403
    legacy = load_catalog("gbt30428")
    legacy_rows = [r for r in _rows() if r["source"].startswith("legacy")]
    assert Counter(c.kind for c in legacy) == {"component": 85, "event": 54}
    assert len(legacy) == len(legacy_rows) == 139
    assert (new.get("E06010").name, new.get("E09009").name) == ("暴露垃圾", "机动车乱停放")  # type: ignore[union-attr]


def test_every_row_keeps_its_source() -> None:
    rows = _rows()
    assert len(rows) == 403 + 139
    for row in rows:
        name = "gbt47678" if row["source"].startswith(STANDARD) else "gbt30428"
        letter = "C" if row["kind"] == "部件" else "E"
        category = load_catalog(name).get(f"{letter}{row['major_code']}{row['minor_code']}")
        assert category is not None, row
        assert (category.source, category.minor_name, category.major_name) == (
            row["source"],
            row["minor_name"],
            row["major_name"],
        )
        assert category.typical_department == row["default_department"]
    assert all(c.source.startswith(LEGACY) for c in load_catalog("gbt30428"))
    assert all(c.source.startswith(STANDARD) for c in load_catalog("gbt47678"))
    # A published limit travels with its row: 暴露垃圾 1 工作日 in the legacy list.
    legacy = load_catalog("gbt30428").resolve("暴露垃圾")
    assert legacy is not None
    assert (legacy.limit_amount, legacy.limit_unit) == (1.0, TimeUnit.WORK_DAY)


def test_a_city_sets_its_own_rules_by_name_or_code() -> None:
    policy = load_policy(
        CityProfile(
            categories={
                "暴露垃圾": {
                    "department": "SZ",
                    "limits": {"B": [4, "work_hour"]},
                    "reviewed": True,
                },
                "E09009": {"department": "CG", "keywords": ["乱停"]},
            }
        )
    )
    assert policy.for_category("E06010").department == "SZ"
    assert policy.handle_limit("E06010", Urgency.B) == Limit(amount=4, unit=TimeUnit.WORK_HOUR)
    # Classes the city left out fall back to the workflow's defaults.
    assert policy.handle_limit("E06010", Urgency.A) == Limit(amount=2, unit=TimeUnit.HOUR)
    assert policy.for_category("E09009").department == "CG"
    # With its own rules, a city gets none of the demo defaults.
    assert policy.for_category("E06012").department is None
    assert sorted(policy.categories) == ["E06010", "E09009"]
    assert policy.unreviewed() == ["E09009"]
    assert policy.suggest("路边有垃圾") is None  # its own keywords only
    assert policy.suggest("门口乱停车").code == "E09009"  # type: ignore[union-attr]


def test_a_category_without_its_own_limit_uses_the_published_one() -> None:
    policy = load_policy(CityProfile(catalog="gbt30428", categories={"道路不洁": {}}))
    code = policy.catalog.resolve("道路不洁").code  # type: ignore[union-attr]
    assert policy.handle_limit(code, Urgency.B) == Limit(amount=5, unit=TimeUnit.WORK_HOUR)
    assert policy.handle_limit(code, Urgency.C) == Limit(amount=3, unit=TimeUnit.WORK_DAY)


async def test_the_running_app_uses_the_city_rules(aiohttp_client: Any, settings: Settings) -> None:
    profile = CityProfile(
        categories={
            "暴露垃圾": {
                "department": "YL",
                "limits": {"B": [3, "work_hour"]},
                "auto_register": ["grid_app"],
                "auto_dispatch": ["grid_app"],
                "keywords": ["垃圾"],
                "reviewed": True,
            }
        }
    )
    local = settings.model_copy(update={"profile": profile})
    client: TestClient[Any, Any] = await aiohttp_client(create_app(local))
    await seed_demo(local)
    await client.app[GRIDS].refresh(force=True)
    inspector = await Staff.get(username="inspector1")
    token, _ = await issue_token(staff=inspector, ttl=dt.timedelta(hours=1))
    headers = {"Authorization": f"Bearer {token}"}
    r = await client.post(
        "/api/v1/reports",
        json={
            "idempotency_key": "grid-1",
            "description": "路边垃圾",
            "location": await grid_point(local, 1),
        },
        headers=headers,
    )
    assert r.status == 201, await r.text()
    case = (await r.json())["case"]
    assert (case["status"], case["department_id"]) == (
        "dispatched",
        (await Department.get(code="YL")).id,
    )
    r = await client.get("/api/v1/categories", headers=headers)
    listed = {c["code"]: c for c in (await r.json())["items"]}
    assert (listed["E06010"]["limits"]["B"], listed["E06010"]["reviewed"]) == ("3 工作时", True)
    assert listed["E06010"]["source"].startswith(STANDARD)
    assert listed["E09009"]["department"] is None
    assert listed["E06010"]["stage_limits"] == {
        "accept": "1 工作时",
        "verify": "0.5 工作时",
        "register": "1 工作时",
        "dispatch": "1 工作时",
        "check": "0.5 工作时",
        "close": "1 工作时",
    }
    # A citizen gets the categories in the city's wording, none of the city's rules.
    citizen = await citizen_identity(channel="wechat_oa", external_id="oCatalogCitizen")
    token, _ = await issue_token(citizen=citizen, ttl=dt.timedelta(hours=1))
    r = await client.get("/api/v1/categories", headers={"Authorization": f"Bearer {token}"})
    theirs = {c["code"]: c for c in (await r.json())["items"]}
    assert theirs["E06010"]["name"] == listed["E06010"]["name"]
    internal = ("department", "limits", "stage_limits", "auto_register", "reviewed", "source")
    assert all(theirs["E06010"][k] is None for k in internal)


def test_an_unknown_category_key_stops_the_start(settings: Settings) -> None:
    profile = CityProfile(categories={"不存在的类别": {"department": "HW"}})
    with pytest.raises(ConfigError, match=r"categories\.不存在的类别: not a code"):
        load_policy(profile)
    # The server refuses to start with it, naming the key.
    with pytest.raises(ConfigError, match="不存在的类别"):
        create_app(settings.model_copy(update={"profile": profile}))


@pytest.mark.parametrize(
    ("section", "named"),
    [
        ({"categories": {"暴露垃圾": {"departmnt": "HW"}}}, "categories.暴露垃圾.departmnt"),
        ({"categories": {"E06010": {"duplicate_radius_m": -1}}}, "categories.E06010.duplicate"),
        ({"workflow": {"task_minutes": 0}}, "workflow.task_minutes"),
        ({"extensions": ({"kind": "event", "minor_name": "x"},)}, "extensions[0]: missing 'code'"),
        (
            {"extensions": ({"code": "E06010", "kind": "event", "minor_name": "x"},)},
            "extensions[0]: kind must be component or event and the code must be new",
        ),
    ],
)
def test_a_bad_setting_is_named(section: dict[str, Any], named: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_policy(CityProfile(**section))
    assert named in caught.value.detail


def test_a_bad_limit_unit_is_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        load_policy(CityProfile(categories={"暴露垃圾": {"limits": {"B": [1, "week"]}}}))
    assert "categories.暴露垃圾" in caught.value.detail
    assert "'work_hour', 'work_day', 'hour' or 'day'" in caught.value.detail


@pytest.mark.parametrize(
    ("limits", "named"),
    [
        ({"B": [1, "week"]}, "city profile: categories.暴露垃圾.limits.B.unit"),
        ({"D": [1, "hour"]}, "city profile: categories.暴露垃圾.limits.D"),
    ],
)
def test_a_bad_limit_names_its_class(limits: dict[str, Any], named: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_policy(CityProfile(categories={"暴露垃圾": {"limits": limits}}))
    assert named in caught.value.detail


def test_local_extensions_join_the_catalog() -> None:
    profile = CityProfile(
        extensions=(
            {"code": "E90001", "kind": "event", "minor_name": "共享单车堆放"},
            {"code": "C90001", "kind": "component", "minor_name": "智能垃圾箱", "major_code": "90"},
        ),
        categories={
            "共享单车堆放": {"department": "JJ", "keywords": ["共享单车"], "reviewed": True},
            "暴露垃圾": {"department": "HW", "keywords": ["垃圾"], "reviewed": True},
        },
    )
    policy = load_policy(profile)
    bikes = policy.category("E90001")
    assert bikes is not None
    assert (bikes.name, bikes.kind, bikes.kind_name) == ("共享单车堆放", "event", "事件")
    assert bikes.source == "city profile extension (扩展部件/事件)"
    assert policy.category("C90001").kind_name == "部件"  # type: ignore[union-attr]
    assert len(policy.catalog) == 403 + 2
    assert policy.for_category("E90001").department == "JJ"
    assert policy.suggest("地铁口共享单车堆成山").code == "E90001"  # type: ignore[union-attr]
    # The extension is the city's: the shared catalog itself is untouched.
    assert load_catalog("gbt47678").get("E90001") is None


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("路边有一堆垃圾", "E06010"),  # 垃圾
        ("绿化带垃圾没人管", "E06017"),  # 绿化带垃圾 (5) beats 垃圾 (2)
        ("燃气井盖松动了", "E01011"),  # 燃气井盖 (4) beats 井盖 (2)
        ("井盖丢了很危险", "E01003"),  # 井盖丢了
        ("人行道上有车违停", "E09009"),
        ("今天天气不错", None),
    ],
)
def test_keywords_suggest_the_longest_match(text: str, code: str | None) -> None:
    found = load_policy(CityProfile()).suggest(text)
    assert (found.code if found else None) == code
