"""Who hears of a move (cases/notices.py): the department of new work, the inspector of a task."""

from __future__ import annotations

from typing import Any

from cases.models import CaseEvent, InspectorTask
from core.jobs.models import OutboxItem
from tests.cases.helpers import City


async def _staff_notices(case_id: int) -> list[dict[str, Any]]:
    rows = await OutboxItem.filter(kind="notify.staff").order_by("id")
    return [r.payload for r in rows if r.payload.get("case_id") == case_id]


async def test_a_dispatch_tells_the_department_and_a_check_tells_the_inspector(
    city: City,
) -> None:
    agent = await city.login("agent")
    status, out = await city.report(agent, await city.point(2), "市民来电：小区门口垃圾堆积")
    assert status == 201, out
    cid = out["case"]["id"]
    await city.ok(cid, "register", "acceptor")
    hw = await city.department("HW")
    dispatched = await city.ok(cid, "dispatch", "dispatcher", department_id=hw, note="请尽快")
    event = await CaseEvent.get(case_id=cid, action="dispatch")
    assert [
        (p["audience"], p["department_id"], p["event_id"])
        for p in await _staff_notices(cid)
        if p["action"] == "dispatch"
    ] == [("department", dispatched["department_id"], event.id)]
    assert dispatched["department_id"] == hw

    photo = await city.photo(await city.login("handler_hw"))
    handled = await city.ok(cid, "handle", "handler_hw", attachments=[photo])
    assert (handled["status"], handled["stage"]) == ("handled", "check")
    task = await InspectorTask.get(case_id=cid, kind="check")
    inspector2 = await city.staff_id("inspector2")
    assert task.inspector_id == inspector2
    told = [
        (p["audience"], p.get("inspector_id"), p["task_id"])
        for p in await _staff_notices(cid)
        if "task_id" in p
    ]
    assert told == [("inspector", inspector2, task.id)]
