"""City hooks (cases/hooks.py): numbering, who hears of what and what a citizen sees are data in
the profile; which inspector gets a task is a named hook chosen in the profile."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from cases.models import InspectorTask
from core.config import CityProfile, Settings
from core.errors import ConfigError
from core.jobs.models import OutboxItem
from core.org.service import assign_inspector
from core.web import create_app
from tests.cases.conftest import MakeCity
from tests.cases.helpers import grid_code


class LastAssigned:
    """A city's own rule for tests: the inspector assigned to the grid last."""

    async def choose(
        self, *, case_id: int, grid_id: int, kind: str, candidates: Sequence[int]
    ) -> int | None:
        return candidates[-1] if candidates else None


class NotAChooser:
    pass


async def test_the_case_number_follows_the_citys_format(city_with: MakeCity) -> None:
    city = await city_with(workflow={"case_number": "{city}-{date:%Y%m%d}-{id:06d}"})
    _, out = await city.report(await city.login("inspector1"), await city.point(1), "垃圾堆放")
    number = out["case"]["number"]
    date = out["case"]["created_at"][:10].replace("-", "")
    assert number == f"330100-{date}-{out['case']['id']:06d}"


@pytest.mark.parametrize(
    ("workflow", "named"),
    [
        ({"case_number": "{date:%Y%m%d}"}, "workflow.case_number"),  # no {id}: not unique
        ({"case_number": "{id}{street}"}, "workflow.case_number"),
        ({"told_reporter": ["close", "applaud"]}, "workflow.told_reporter"),
        ({"self_handle": ["非法小广告", "飞碟降落"]}, "workflow.self_handle: '飞碟降落'"),
    ],
)
def test_a_bad_workflow_hook_stops_the_start(
    settings: Settings, workflow: dict[str, Any], named: str
) -> None:
    with pytest.raises(ConfigError, match=named):
        create_app(settings.model_copy(update={"profile": CityProfile(workflow=workflow)}))


async def test_the_citys_inspector_hook_picks_who_gets_the_task(
    city_with: MakeCity, settings: Settings
) -> None:
    city = await city_with(hooks={"inspector": "tests.cases.test_hooks:LastAssigned"})
    # Two inspectors walk street 1's first grid: inspector1 (first) and inspector2 (added).
    second = await city.staff_id("inspector2")
    await assign_inspector(staff_id=second, grid_codes=[grid_code(settings, 1)])
    _, out = await city.report(await city.citizen(), await city.point(1), "路边有垃圾")
    await city.ok(out["case"]["id"], "accept", "acceptor")
    task = await InspectorTask.get(case_id=out["case"]["id"], kind="verify")
    assert task.inspector_id == second  # the default would give it to inspector1


@pytest.mark.parametrize(
    ("hooks", "named"),
    [
        ({"inspektor": "tests.cases.test_hooks:LastAssigned"}, "hooks.inspektor: unknown hook"),
        ({"inspector": "tests.cases.nowhere:LastAssigned"}, "hooks.inspector: cannot import"),
        ({"inspector": "tests.cases.test_hooks:NotAChooser"}, "does not implement"),
    ],
)
def test_a_bad_named_hook_stops_the_start(
    settings: Settings, hooks: dict[str, str], named: str
) -> None:
    with pytest.raises(ConfigError, match=named):
        create_app(settings.model_copy(update={"profile": CityProfile(hooks=hooks)}))


async def test_who_hears_of_which_move_and_what_a_citizen_sees_are_the_citys(
    city_with: MakeCity,
) -> None:
    city = await city_with(
        workflow={"told_reporter": ["close"], "citizen_sees": ["report", "register", "close"]}
    )
    who = await city.citizen()
    _, out = await city.report(who, await city.point(2), "人行道上井盖丢了")
    case_id = out["case"]["id"]
    await city.ok(case_id, "register", "acceptor", category_code="E01003")
    await city.ok(case_id, "dispatch", "dispatcher")
    notices = [
        r.payload["action"]
        for r in await OutboxItem.filter(kind="notify.wechat_oa")
        if r.payload.get("case_id") == case_id
    ]
    assert notices == []  # this city tells its citizens of 结案 only
    seen = [e["action"] for e in (await city.detail(case_id, who))["timeline"]]
    assert seen == ["report", "register"]  # no 核实, no 派遣 on this city's public timeline
