"""核实/核查 tasks (cases/tasks.py): only the grid's inspector answers; lists by grid, paged."""

from __future__ import annotations

import dataclasses
import datetime as dt
from zoneinfo import ZoneInfo

from cases.deps import DEPS
from cases.models import InspectorTask
from core.org.service import assign_inspector
from core.web.keys import RUNTIME
from tests.cases.conftest import MakeCity
from tests.cases.helpers import City, grid_code
from tests.cases.helpers import add_staff as _staff


async def test_only_the_grids_inspector_reports_back(city: City) -> None:
    status, out = await city.report(await city.citizen(), await city.point(2), "楼下有垃圾")
    cid = out["case"]["id"]
    await city.ok(cid, "accept", "acceptor")  # 受理: then 核实 by the grid's inspector
    # Inspectors see the cases of their own grids only: to inspector1 this one is not there.
    status, err = await city.act(cid, "verify-result", "inspector1", passed=True)
    assert (status, err["code"]) == (404, "not_found")

    await city.ok(cid, "verify-result", "inspector2", passed=True, note="属实")
    await city.ok(cid, "register", "acceptor")
    await city.ok(cid, "dispatch", "dispatcher")
    photo = await city.photo(await city.login("handler_hw"))
    await city.ok(cid, "handle", "handler_hw", attachments=[photo])
    # Someone who sees the case through their department, with the inspector role for other
    # grids, may not answer this grid's 核查.
    await _staff(city, "hw_inspector", ["handler", "inspector"], "HW")
    await assign_inspector(
        staff_id=await city.staff_id("hw_inspector"), grid_codes=[grid_code(city.settings, 1)]
    )
    status, err = await city.act(cid, "check-result", "hw_inspector", passed=True)
    assert (status, err["code"]) == (403, "not_your_task")
    assert (await city.detail(cid))["status"] == "handled"
    await city.ok(cid, "check-result", "inspector2", passed=True)


async def test_an_inspector_lists_the_tasks_of_their_grids(city: City) -> None:
    citizen = await city.citizen()
    _, one = await city.report(citizen, await city.point(1), "路边垃圾")
    _, two = await city.report(citizen, await city.point(2, 2, 3), "路边垃圾")
    _, also_two = await city.report(citizen, await city.point(2, 1, 1), "路面脏")
    for report in (one, two, also_two):
        await city.ok(report["case"]["id"], "accept", "acceptor")

    async def tasks(who: str) -> list[tuple[int, str]]:
        status, out = await city.get("/api/v1/tasks", who)
        assert status == 200, out
        return sorted((t["case_id"], t["kind"]) for t in out["items"])

    assert await tasks("inspector1") == [(one["case"]["id"], "verify")]
    assert await tasks("inspector2") == sorted(
        [(two["case"]["id"], "verify"), (also_two["case"]["id"], "verify")]
    )
    assert await tasks("inspector3") == []
    assert len(await tasks("acceptor")) == 3
    status, err = await city.get("/api/v1/tasks", "handler_hw")
    assert (status, err["code"]) == (403, "role_forbidden")


async def test_the_task_list_is_paged(city: City) -> None:
    citizen = await city.citizen()
    for number in (1, 2):
        status, out = await city.report(citizen, await city.point(1, number=number), "有垃圾")
        accepted = await city.ok(out["case"]["id"], "accept", "acceptor")
        assert (status, accepted["status"]) == (201, "verifying"), out
    status, first = await city.get("/api/v1/tasks", "acceptor", page_size=1)
    assert status == 200, first
    assert (len(first["items"]), first["total"]) == (1, 2)
    _, second = await city.get("/api/v1/tasks", "acceptor", page_size=1, page=2)
    assert len(second["items"]) == 1
    assert second["items"][0]["id"] != first["items"][0]["id"]
    status, err = await city.get("/api/v1/tasks", "acceptor", page_size=100_000)
    assert status == 422, err


async def test_the_tasks_of_one_case(city: City) -> None:
    citizen = await city.citizen()
    _, one = await city.report(citizen, await city.point(1), "路边垃圾")
    _, other = await city.report(citizen, await city.point(1, 2), "路面脏")
    for report in (one, other):
        await city.ok(report["case"]["id"], "accept", "acceptor")
    status, out = await city.get("/api/v1/tasks", "dispatcher", case_id=one["case"]["id"])
    assert status == 200, out
    assert [(t["case_id"], t["kind"]) for t in out["items"]] == [(one["case"]["id"], "verify")]
    assert out["total"] == 1
    status, out = await city.get("/api/v1/tasks", "dispatcher", case_id="x")
    assert (status, out["code"]) == (422, "validation_error")
    assert other["case"]["id"] != one["case"]["id"]


async def test_a_task_is_due_in_working_time_unless_the_city_says_wall_clock(
    city: City, city_with: MakeCity
) -> None:
    friday_evening = dt.datetime(2026, 11, 27, 17, 50, tzinfo=ZoneInfo("Asia/Shanghai"))

    async def due(town: City, number: int) -> dt.datetime:
        runtime = town.client.app[RUNTIME]
        runtime[DEPS] = dataclasses.replace(runtime[DEPS], now=lambda: friday_evening)
        _, out = await town.report(
            await town.citizen(), await town.point(1, number=number), "路边垃圾"
        )
        await town.ok(out["case"]["id"], "accept", "acceptor")
        task = await InspectorTask.get(case_id=out["case"]["id"], kind="verify")
        return task.deadline_at.astimezone(ZoneInfo("Asia/Shanghai"))

    # 30 working minutes: 10 before 18:00 on Friday, 20 from 08:00 on Monday.
    assert await due(city, 1) == dt.datetime(2026, 11, 30, 8, 20, tzinfo=ZoneInfo("Asia/Shanghai"))
    wall = await city_with(workflow={"task_unit": "hour"})
    assert await due(wall, 2) == dt.datetime(2026, 11, 27, 18, 20, tzinfo=ZoneInfo("Asia/Shanghai"))
