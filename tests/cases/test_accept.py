"""受理 comes first (GB/T 30428.8: 受理 → 核实 → 立案), and the timeline names who accepted:
a person by default, the system where the city's profile accepts some sources itself."""

from __future__ import annotations

from cases.models import CaseEvent, InspectorTask
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
