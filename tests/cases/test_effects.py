"""What each move checks and does besides its status (cases/effects.py): the handler's own
department, a case without a grid closed without a 核查, 受理 once."""

from __future__ import annotations

from cases.models import InspectorTask
from core.org.service import assign_inspector
from tests.cases.helpers import City, actions, grid_code
from tests.cases.helpers import add_staff as _staff


async def test_another_department_cannot_touch_a_case(city: City) -> None:
    case = await city.dispatched(2, "人行道有垃圾")
    cid = case["id"]
    # A handler sees only their department's cases (service.visible): to the 园林 handler this
    # 环卫 case does not exist, so every action answers 404 rather than telling ids apart.
    for path, body in (
        ("receive", {}),
        ("handle", {"attachments": [1]}),
        ("return", {"note": "不归我们管"}),
    ):
        status, err = await city.act(cid, path, "handler_yl", **body)
        assert (status, err["code"]) == (404, "not_found"), path
    assert (await city.get(f"/api/v1/cases/{cid}", "handler_yl"))[0] == 404

    # A 园林 handler who is also the grid's inspector does see it, and is told it is not theirs.
    await _staff(city, "yl_inspector", ["handler", "inspector"], "YL")
    await assign_inspector(
        staff_id=await city.staff_id("yl_inspector"),
        grid_codes=[grid_code(city.settings, 2)],
    )
    photo = await city.photo(await city.login("yl_inspector"))
    for path, body in (
        ("receive", {}),
        ("handle", {"attachments": [photo]}),
        ("return", {"note": "不归我们管"}),
    ):
        status, err = await city.act(cid, path, "yl_inspector", **body)
        assert (status, err["code"], err["message"]) == (
            403,
            "not_your_department",
            "该案件不属于您的部门",
        ), path
    assert await actions(cid) == ["report", "register", "dispatch"]

    await city.ok(cid, "receive", "handler_hw")
    assert (await actions(cid))[-1] == "receive"


async def test_an_address_only_case_is_located_by_the_centre_then_checked(city: City) -> None:
    """A case known by its address has no grid, so no inspector: the centre places it (定位,
    a row in the timeline) and the 核查 the city requires goes to that grid's inspector."""
    agent = await city.login("agent")
    status, out = await city.report(
        agent,
        None,
        "市民来电：解放路12号门口垃圾堆积",
        address="解放路12号",
        category_code="E06010",
    )
    assert status == 201, out
    case = out["case"]
    cid = case["id"]
    assert (case["source"], case["status"], case["grid_id"]) == ("hotline", "reported", None)

    # No grid, no inspector: 核实 cannot be sent.
    status, err = await city.act(cid, "verify", "acceptor")
    assert (status, err.get("code")) == (422, "no_grid")

    await city.ok(cid, "register", "acceptor")
    hw = await city.department("HW")
    dispatched = await city.ok(cid, "dispatch", "dispatcher", department_id=hw)
    assert (dispatched["status"], dispatched["department_id"]) == ("dispatched", hw)
    photo = await city.photo(await city.login("handler_hw"))
    handled = await city.ok(cid, "handle", "handler_hw", note="已清理", attachments=[photo])
    assert handled["status"] == "handled"
    assert await InspectorTask.filter(case_id=cid).count() == 0
    # The city checks every fix: not closed unchecked, and the centre is told what to do.
    status, err = await city.act(cid, "close", "acceptor", note="电话回访，已清理")
    assert (status, err["code"]) == (422, "location_required"), err
    assert "定位" in err["message"]

    far = {"lon": 100.0, "lat": 20.0}
    status, err = await city.act(cid, "locate", "acceptor", location=far)
    assert (status, err["code"]) == (422, "location_outside_city")
    status, err = await city.act(cid, "locate", "handler_hw", location=await city.point(1))
    assert (status, err["code"]) == (403, "role_forbidden")
    located = await city.ok(cid, "locate", "acceptor", location=await city.point(1))
    grid = await city.grid(1)
    assert (located["grid_id"], located["status"]) == (grid.id, "handled")
    (task,) = await InspectorTask.filter(case_id=cid)
    assert task.kind == "check" and task.inspector_id is not None

    await city.ok(cid, "check-result", "inspector1", passed=True)
    closed = await city.ok(cid, "close", "acceptor", note="电话回访，已清理")
    assert closed["status"] == "closed"
    assert await actions(cid) == [
        "report",
        "accept",
        "register",
        "dispatch",
        "handle",
        "locate",
        "check_result",
        "close",
    ]
    _, detail = await city.get(f"/api/v1/cases/{cid}", "dispatcher")
    row = next(e for e in detail["timeline"] if e["action"] == "locate")
    assert row["data"]["grid_code"] == grid.code


async def test_a_report_is_accepted_once(city: City) -> None:
    agent = await city.login("agent")
    status, out = await city.report(agent, await city.point(3), "市民来电：路边垃圾没人清")
    assert status == 201, out
    cid = out["case"]["id"]
    assert (out["case"]["status"], out["case"]["stage"]) == ("reported", "accept")

    accepted = await city.ok(cid, "accept", "acceptor")
    assert (accepted["status"], accepted["stage"]) == ("reported", "register")
    status, err = await city.act(cid, "accept", "shift_lead")
    assert (status, err.get("code")) == (409, "already_accepted")
    assert await actions(cid) == ["report", "accept"]


async def test_the_time_a_department_received_a_case_reads_in_local_time(city: City) -> None:
    case = await city.dispatched(1, "垃圾堆放")
    await city.ok(case["id"], "receive", "handler_hw")
    received = [e for e in (await city.detail(case["id"]))["timeline"] if e["action"] == "receive"]
    assert received[0]["data"]["received_at"].endswith("+08:00")
