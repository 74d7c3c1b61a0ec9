"""The 核实/核查 task list with each task's case, nearest first from a point, and 改派: an open
task given to another inspector of its grid, who then sees it and hears of it."""

from __future__ import annotations

from typing import Any

from core.jobs.models import OutboxItem
from core.org.service import assign_inspector
from tests.cases.helpers import City, add_staff, shifted


async def _verify_task(city: City, point: dict[str, float], text: str, who: str = "a") -> int:
    status, out = await city.report(await city.citizen(who), point, text)
    assert status == 201, out
    cid = int(out["case"]["id"])
    await city.ok(cid, "accept", "acceptor")  # a public report: 核实 by the grid's inspector
    return cid


async def _tasks(city: City, who: str, **params: Any) -> list[dict[str, Any]]:
    r = await city.client.get("/api/v1/tasks", params=params, headers=await city.login(who))
    assert r.status == 200, await r.text()
    return list((await r.json())["items"])


async def test_tasks_come_with_their_case_and_nearest_first(quick_city: City) -> None:
    a = await _verify_task(quick_city, await quick_city.point(1), "东门垃圾", "a")
    far_point = await quick_city.point(1, number=3)
    b = await _verify_task(quick_city, far_point, "西门垃圾", "b")
    listed = await _tasks(quick_city, "inspector1")
    assert [t["case_id"] for t in listed] == [a, b]  # soonest deadline first
    assert listed[0]["case"]["description"] == "东门垃圾" and listed[0]["case"]["light"] == "green"
    near_b = shifted(**far_point, north_m=10)
    nearest = await _tasks(quick_city, "inspector1", **near_b, kind="verify")
    assert [t["case_id"] for t in nearest] == [b, a]
    assert nearest[0]["distance_m"] < 15 < nearest[1]["distance_m"]
    assert await _tasks(quick_city, "inspector1", kind="check") == []


async def test_reassigning_an_open_task(quick_city: City) -> None:
    city = quick_city
    await add_staff(city, "inspector9", ["inspector"], None)
    nine = await city.staff_id("inspector9")
    cid = await _verify_task(city, await city.point(1), "门口垃圾")
    (task,) = await _tasks(city, "dispatcher", case_id=cid)
    path = f"/api/v1/tasks/{task['id']}/assign"
    dispatcher = await city.login("dispatcher")

    # Not an inspector of the task's grid: refused, the task stays where it was.
    r = await city.client.post(path, json={"inspector_id": nine}, headers=dispatcher)
    assert (r.status, (await r.json())["code"]) == (422, "not_grid_inspector")
    handler = await city.staff_id("handler_hw")
    r = await city.client.post(path, json={"inspector_id": handler}, headers=dispatcher)
    assert (r.status, (await r.json())["code"]) == (422, "not_grid_inspector")
    r = await city.client.post(path, json={"inspector_id": nine}, headers=await city.login("agent"))
    assert r.status == 403

    await assign_inspector(staff_id=nine, grid_codes=[(await city.grid(1)).code])
    r = await city.client.post(path, json={"inspector_id": nine}, headers=dispatcher)
    assert r.status == 200, await r.text()
    assert (await r.json())["inspector_id"] == nine
    notices = [
        o.payload
        for o in await OutboxItem.filter(kind="notify.staff").order_by("id")
        if o.payload.get("task_id") == task["id"]
    ]
    assert notices[-1]["inspector_id"] == nine  # they hear of it

    # A task that is done can no longer move.
    await city.ok(cid, "verify-result", "inspector9", passed=True)
    r = await city.client.post(path, json={"inspector_id": nine}, headers=dispatcher)
    assert (r.status, (await r.json())["code"]) == (409, "task_closed")
    r = await city.client.post(
        "/api/v1/tasks/99999/assign", json={"inspector_id": nine}, headers=dispatcher
    )
    assert r.status == 404
