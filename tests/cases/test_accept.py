"""受理 comes first (GB/T 30428.8: 受理 → 核实 → 立案), and the timeline names who accepted:
a person by default, the system where the city's profile accepts some sources itself."""

from __future__ import annotations

from cases.models import CaseEvent, InspectorTask
from core.auth.models import Staff
from tests.cases.conftest import MakeCity
from tests.cases.helpers import City


async def _steps(case_id: int) -> list[tuple[str, str, int | None]]:
    rows = await CaseEvent.filter(case_id=case_id).order_by("id")
    return [(e.action, e.actor_kind, e.actor_id) for e in rows]


async def test_a_public_report_waits_for_a_person_who_sends_it_to_verify(city: City) -> None:
    _, out = await city.report(await city.citizen(), await city.point(2), "路边有垃圾")
    cid = out["case"]["id"]
    assert (out["case"]["status_name"], out["case"]["stage"]) == ("待受理", "accept")
    assert await InspectorTask.filter(case_id=cid).count() == 0
    accepted = await city.ok(cid, "accept", "acceptor", note="属城管范围")
    assert (accepted["status_name"], accepted["stage"]) == ("待核实", "verify")
    acceptor = await city.staff_id("acceptor")
    assert await _steps(cid) == [
        ("report", "citizen", None),
        ("accept", "staff", acceptor),
        ("verify", "system", None),
    ]
    status, err = await city.act(cid, "accept", "acceptor")
    assert (status, err["code"]) == (409, "invalid_transition")  # now 待核实
    await city.ok(cid, "verify-result", "inspector2", passed=True, note="属实")
    status, err = await city.act(cid, "accept", "acceptor")
    assert (status, err["code"]) == (409, "already_accepted")
    await city.ok(cid, "register", "acceptor", urgency="B")
    assert [a for a, _, _ in await _steps(cid)].count("accept") == 1


async def test_registering_a_new_report_accepts_it_in_the_same_persons_name(city: City) -> None:
    status, out = await city.report(
        await city.login("agent"), None, "市民来电：路灯不亮", address="解放路1号"
    )
    assert status == 201, out
    cid = out["case"]["id"]
    await city.ok(cid, "register", "acceptor", category_code="E06010", urgency="B")
    acceptor = await city.staff_id("acceptor")
    steps = await _steps(cid)
    assert steps[1:] == [("accept", "staff", acceptor), ("register", "staff", acceptor)]
    accept = await CaseEvent.get(case_id=cid, action="accept")
    assert accept.data == {"part_of": "register"}


async def test_a_city_that_accepts_public_reports_itself(city_with: MakeCity) -> None:
    city = await city_with(workflow={"auto_accept": ["wechat_oa"]})
    _, out = await city.report(await city.citizen(), await city.point(2), "路边有垃圾")
    cid = out["case"]["id"]
    assert out["case"]["status_name"] == "待核实"
    assert await _steps(cid) == [
        ("report", "citizen", None),
        ("accept", "system", None),  # the city's rule, named as the system
        ("verify", "system", None),
    ]
    accept = await CaseEvent.get(case_id=cid, action="accept")
    assert accept.note == "自动受理"
    # Another source of the same city still waits for a person.
    _, web = await city.report(await city.login("acceptor"), await city.point(3), "井盖缺失")
    assert web["case"]["status_name"] == "待受理"


async def test_the_timeline_names_who_acted_to_staff_and_the_role_to_citizens(
    city: City,
) -> None:
    citizen = await city.citizen()
    _, out = await city.report(citizen, await city.point(2), "路边有垃圾")
    cid = out["case"]["id"]
    await city.ok(cid, "accept", "acceptor")
    await city.ok(cid, "verify-result", "inspector2", passed=True, note="属实")
    await city.ok(cid, "register", "acceptor", urgency="B")
    await city.ok(cid, "dispatch", "dispatcher")
    await city.ok(cid, "receive", "handler_hw")
    staff_view = await city.detail(cid, "dispatcher")
    acted = [
        (e["action"], e["actor_name"], e["actor_role"], e["actor_department"])
        for e in staff_view["timeline"]
    ]
    names = {
        u: (await Staff.get(username=u)).display_name
        for u in ("acceptor", "inspector2", "dispatcher", "handler_hw")
    }
    assert acted == [
        ("report", None, "市民", None),
        ("accept", names["acceptor"], "受理员", None),
        ("verify", "系统", "系统", None),
        ("verify_result", names["inspector2"], "监督员", None),
        ("register", names["acceptor"], "受理员", None),
        ("dispatch", names["dispatcher"], "派遣员", None),
        ("receive", names["handler_hw"], "处置人员", "区环卫"),
    ]
    mine = await city.detail(cid, citizen)
    seen = [(e["action"], e["actor_name"], e["actor_role"]) for e in mine["timeline"]]
    assert ("accept", None, "受理员") in seen
    assert all(e["actor_name"] is None and e["actor_department"] is None for e in mine["timeline"])
