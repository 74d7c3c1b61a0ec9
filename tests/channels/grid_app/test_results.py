"""Results from the phone: 核实 and 核查 round trips, a task that was reassigned or closed
meanwhile, and a handler's 签收, 处置, 回退 and 延期 — each refused with its reason when it no
longer applies, with nothing changed."""

from __future__ import annotations

from cases.models import Case, CaseEvent, InspectorTask
from core.org.service import assign_inspector
from tests.cases.helpers import add_staff
from tests.channels.grid_app.conftest import Phone, check_task, item, open_task, verify_task


async def _state(case_id: int) -> tuple[str, int, int]:
    case = await Case.get(id=case_id)
    return case.status.value, case.version, await CaseEvent.filter(case_id=case_id).count()


async def test_verify_round_trip_from_the_phone(inspector: Phone) -> None:
    city = inspector.city
    cid = await verify_task(city)
    task = await open_task(city, cid)
    photo = await inspector.upload()
    answer = await inspector.one(
        item("task_result", task_id=task["id"], passed=True, note="现场确有垃圾", photos=[photo])
    )
    assert (answer["outcome"], answer["status"]) == ("created", "reported")
    done = await InspectorTask.get(id=task["id"])
    assert (done.status.value, done.passed, done.note) == ("done", True, "现场确有垃圾")
    detail = await city.detail(cid)
    assert [e["action"] for e in detail["timeline"]][-1] == "verify_result"
    assert [a["kind"] for a in detail["attachments"] if a["media_id"] == photo] == ["verify"]


async def test_check_round_trip_and_a_failed_check_is_rework(inspector: Phone) -> None:
    city = inspector.city
    cid = await check_task(city)
    task = await open_task(city, cid)
    answer = await inspector.one(
        item("task_result", task_id=task["id"], passed=False, note="垃圾仍未清理干净")
    )
    assert (answer["outcome"], answer["status"]) == ("created", "dispatched")  # 返工
    assert "rework" in [e["action"] for e in (await city.detail(cid))["timeline"]]


async def test_a_result_for_a_reassigned_task_is_refused(inspector: Phone) -> None:
    city = inspector.city
    await add_staff(city, "inspector1b", ["inspector"], None)
    other = await city.staff_id("inspector1b")
    grid = (await city.grid(1)).code
    await assign_inspector(staff_id=other, grid_codes=[grid])
    cid = await verify_task(city)
    task = await open_task(city, cid)
    r = await city.client.post(
        f"/api/v1/tasks/{task['id']}/assign",
        json={"inspector_id": other},
        headers=await city.login("dispatcher"),
    )
    assert r.status == 200, await r.text()
    before = await _state(cid)
    answer = await inspector.one(item("task_result", task_id=task["id"], passed=True))
    assert (answer["outcome"], answer["code"]) == ("refused", "task_reassigned")
    assert answer["message"] == "该任务已改派给其他监督员，结果未提交"
    assert await _state(cid) == before
    # Nor over the core's route, and the old phone no longer lists it.
    r = await city.client.post(
        f"/api/v1/cases/{cid}/verify-result",
        json={"passed": True},
        headers=await inspector.headers(),
    )
    assert (r.status, (await r.json())["code"]) == (409, "task_reassigned")
    _, listed = await inspector.get("/api/v1/tasks")
    assert task["id"] not in [t["id"] for t in listed["items"]]
    assert await _state(cid) == before
    # The new inspector's result goes through, credited to them; the old phone's replay
    # still changes nothing.
    theirs = await Phone(city, "inspector1b").one(
        item("task_result", task_id=task["id"], passed=True, note="属实")
    )
    assert theirs["outcome"] == "created"
    assert (await InspectorTask.get(id=task["id"])).inspector_id == other
    after = await _state(cid)
    replay = await inspector.one(item("task_result", task_id=task["id"], passed=False))
    assert (replay["outcome"], replay["code"]) == ("refused", "task_done")
    assert await _state(cid) == after


async def test_a_result_for_a_closed_task_is_refused_and_the_rest_is_kept(
    inspector: Phone,
) -> None:
    city = inspector.city
    cid = await verify_task(city)
    task = await open_task(city, cid)
    # Meanwhile the centre filed it without waiting for the 核实: the task is cancelled.
    await city.ok(cid, "register", "acceptor", urgency="B")
    before = await _state(cid)
    elsewhere = await city.point(1, number=3)
    status, out = await inspector.sync(
        [
            item("task_result", task_id=task["id"], passed=True),
            item("report", description="另一处垃圾", location=elsewhere),
        ]
    )
    assert status == 200
    first, second = out["items"]
    assert (first["outcome"], first["code"]) == ("refused", "task_closed")
    assert second["outcome"] == "created"
    assert await _state(cid) == before


async def test_an_inspector_cannot_answer_another_grids_task(inspector: Phone) -> None:
    city = inspector.city
    cid = await verify_task(city, street=2)  # inspector2's
    task = await open_task(city, cid)
    before = await _state(cid)
    answer = await inspector.one(item("task_result", task_id=task["id"], passed=True))
    assert (answer["outcome"], answer["code"]) == ("refused", "not_your_task")
    assert await _state(cid) == before
    # Nor see it: the task list of inspector1 holds street 1's tasks only.
    status, listed = await inspector.get("/api/v1/tasks")
    assert status == 200
    assert task["id"] not in [t["id"] for t in listed["items"]]


async def test_department_receive_handle_return_and_extend(handler: Phone) -> None:
    city = handler.city
    a = (await city.dispatched(1, "路边有垃圾"))["id"]
    b = (await city.dispatched(1, "人行道垃圾堆", number=2))["id"]
    c = (await city.dispatched(1, "垃圾满地", number=3))["id"]
    after = await handler.upload()
    status, out = await handler.sync(
        [
            item("case_action", case_id=a, action="receive"),
            item("case_action", case_id=a, action="handle", note="已清运", photos=[after]),
            item("case_action", case_id=b, action="return", note="不属于环卫，属于园林"),
            item("case_action", case_id=c, action="extend", note="需调车", amount=1, unit="day"),
            item("case_action", case_id=c, action="handle"),  # no after-photo
            item("case_action", case_id=c, action="extend"),  # how much more?
        ]
    )
    assert status == 200, out
    got = [(x["outcome"], x.get("status") or x["code"]) for x in out["items"]]
    assert got == [
        ("created", "dispatched"),
        ("created", "handled"),
        ("created", "registered"),
        ("created", "dispatched"),
        ("refused", "validation_error"),
        ("refused", "extension_unspecified"),
    ]
    assert out["items"][4]["message"] == "请上传处置后照片"
    assert (await Case.get(id=c)).pending_request["kind"] == "extend"  # type: ignore[index]


async def test_a_handler_cannot_touch_another_departments_case(handler: Phone) -> None:
    city = handler.city
    parked = (await city.dispatched(1, "消防通道有车辆违停"))["id"]  # 交警's
    before = await _state(parked)
    answer = await handler.one(item("case_action", case_id=parked, action="receive"))
    assert (answer["outcome"], answer["code"]) == ("refused", "not_your_department")
    assert answer["message"] == "该案件已不在本部门（已回退或改派），结果未提交"
    # The same over the core's route: not even visible to them (404), nothing changed.
    r = await city.client.post(
        f"/api/v1/cases/{parked}/receive", json={}, headers=await handler.headers()
    )
    assert r.status == 404
    assert await _state(parked) == before


async def test_a_handlers_result_after_the_case_was_returned_is_refused(handler: Phone) -> None:
    city = handler.city
    cid = (await city.dispatched(1, "路边有垃圾"))["id"]
    # The office returned it from the desk while the phone was out of signal.
    await city.ok(cid, "return", "handler_hw", note="误派，应为园林")
    await city.ok(cid, "dispatch", "dispatcher", department_id=await city.department("YL"))
    before = await _state(cid)
    after = await handler.upload()
    answer = await handler.one(
        item("case_action", case_id=cid, action="handle", note="已清运", photos=[after])
    )
    assert (answer["outcome"], answer["code"]) == ("refused", "not_your_department")
    assert await _state(cid) == before


async def test_a_move_on_a_case_not_with_the_department_tells_nothing_of_it(
    handler: Phone,
) -> None:
    city = handler.city
    returned = (await city.dispatched(1, "路边有垃圾"))["id"]
    await city.ok(returned, "return", "handler_hw", note="误派，应为园林")  # 待派遣, no department
    _, out = await city.report(await city.citizen(), await city.point(2), "小区门口垃圾")
    strangers = out["case"]["id"]  # a citizen's report waiting for 受理: nobody's department
    for cid in (returned, strangers):
        before = await _state(cid)
        answer = await handler.one(item("case_action", case_id=cid, action="handle"))
        assert (answer["outcome"], answer["code"]) == ("refused", "not_your_department")
        assert "状态" not in answer["message"]  # its status is not theirs to learn
        assert await _state(cid) == before
