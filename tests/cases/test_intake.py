"""The one door in (cases/intake.py): idempotency, duplicates merged, reports refused, urgency."""

from __future__ import annotations

import asyncio

import pytest

from cases import IntakeDraft, Location, Reporter, Source, deps_of, submit
from cases.models import Case, CaseEvent, Report
from core.errors import Forbidden, ValidationFailed
from core.jobs.models import OutboxItem
from tests.cases.helpers import City, actions


async def test_a_retried_report_returns_the_same_case(city: City) -> None:
    citizen = await city.citizen()
    where = await city.point(1)
    first = await city.report(citizen, where, "垃圾堆在路边", key="wx-1")
    again = await city.report(citizen, where, "垃圾堆在路边", key="wx-1")
    assert (first[0], first[1]["created"]) == (201, True)
    assert (again[0], again[1]["created"], again[1]["merged"]) == (200, False, False)
    assert again[1]["case"]["id"] == first[1]["case"]["id"]
    assert again[1]["report_id"] == first[1]["report_id"]
    assert (await Case.all().count(), await Report.all().count()) == (1, 1)


async def test_two_identical_submissions_at_once_make_one_case(city: City) -> None:
    citizen = await city.citizen()
    where = await city.point(3)
    answers = await asyncio.gather(
        city.report(citizen, where, "路边垃圾", key="wx-2"),
        city.report(citizen, where, "路边垃圾", key="wx-2"),
    )
    assert sorted(s for s, _ in answers) == [200, 201]
    assert len({b["case"]["id"] for _, b in answers}) == 1
    assert (await Case.all().count(), await Report.all().count()) == (1, 1)
    assert await actions(answers[0][1]["case"]["id"]) == ["report"]  # it waits for 受理


async def test_a_second_report_nearby_joins_the_open_case(city: City) -> None:
    first, second = await city.citizen("first"), await city.citizen("second")
    status, out = await city.report(first, await city.point(2), "小区门口一堆垃圾")
    cid = out["case"]["id"]
    # 10 m away, same category, the same day: the same problem.
    status, out = await city.report(second, await city.point(2, east_m=10), "门口垃圾好多天了")
    assert status == 201
    assert (out["merged"], out["case"]["id"], out["case"]["report_count"]) == (True, cid, 2)
    assert await actions(cid) == ["report", "duplicate"]
    duplicate = await CaseEvent.get(case_id=cid, action="duplicate")
    assert (duplicate.actor_kind, duplicate.to_status) == ("citizen", "reported")
    # 100 m away is another problem (the category's radius is 30 m).
    _, far = await city.report(second, await city.point(2, east_m=100), "这边也有垃圾")
    assert (far["merged"], far["case"]["id"] != cid) == (False, True)

    _, theirs = await city.get("/api/v1/cases", second)
    assert sorted(c["id"] for c in theirs["items"]) == sorted([cid, far["case"]["id"]])
    seen = await city.detail(cid, second)
    assert [(r["duplicate"], r["description"]) for r in seen["reports"]] == [
        (True, "门口垃圾好多天了")
    ]

    await city.ok(cid, "register", "acceptor")
    told = [
        r.payload["citizen_id"]
        for r in await OutboxItem.filter(kind="notify.wechat_oa").order_by("id")
        if r.payload["case_id"] == cid and r.payload["action"] == "register"
    ]
    assert sorted(told) == sorted([await city.citizen_id("first"), await city.citizen_id("second")])


async def test_reports_that_cannot_become_cases_are_refused(city: City) -> None:
    citizen = await city.citizen()
    lon, lat = city.settings.profile.center
    outside = await city.report(citizen, {"lon": lon + 1, "lat": lat}, "路边有垃圾")
    empty = await city.report(citizen, await city.point(1), "   ")
    unknown = await city.report(citizen, await city.point(1), "有垃圾", category_code="E99999")
    nowhere = await city.report(citizen, None, "有垃圾")
    assert [(s, b["code"]) for s, b in (outside, empty, unknown, nowhere)] == [
        (422, "location_outside_city"),
        (422, "empty_report"),
        (422, "unknown_category"),
        (422, "location_missing"),
    ]
    assert outside[1]["message"] == "该位置不在本市管辖的网格内"
    assert await Case.all().count() == 0


async def test_a_reused_key_from_someone_else_does_not_reveal_their_case(city: City) -> None:
    where = await city.point(1)
    status, _ = await city.report(await city.citizen("a"), where, "我家门口有垃圾", key="k1")
    assert status == 201
    status, other = await city.report(await city.citizen("b"), where, "随便写写", key="k1")
    assert status == 409, other
    assert "case" not in other


async def test_a_citizens_urgency_is_ignored_and_an_agents_is_kept(city: City) -> None:
    citizen = await city.citizen("hurry")
    status, out = await city.report(citizen, await city.point(1), "门口有垃圾", urgency="A")
    assert status == 201, out
    assert out["case"]["urgency"] == "B"

    agent = await city.login("agent")
    status, out = await city.report(agent, await city.point(4), "市民来电：井盖丢了", urgency="A")
    assert status == 201, out
    assert (out["case"]["source"], out["case"]["urgency"]) == ("hotline", "A")


async def test_self_handled_reports_are_staffs_and_of_allowed_categories(city: City) -> None:
    deps = deps_of(city.client.app)
    where = Location(**await city.point(1))
    base = {"source": Source.GRID_APP, "location": where, "self_handle": True}
    await city.citizen()
    citizen = IntakeDraft(
        **base,
        idempotency_key="sh-1",
        reporter=Reporter(citizen_id=await city.citizen_id()),
        description="小广告",
    )
    with pytest.raises(ValidationFailed) as refused:
        await submit(citizen, deps=deps)
    assert refused.value.code == "self_handle_staff"
    parked = IntakeDraft(
        **base,
        idempotency_key="sh-2",
        reporter=Reporter(staff_id=await city.staff_id("inspector1")),
        category_code="E09009",  # 机动车乱停放: not the inspector's to fix
        description="违停",
    )
    with pytest.raises(Forbidden) as forbidden:
        await submit(parked, deps=deps)
    assert forbidden.value.code == "self_handle_not_allowed"
    # Filed by the system and never dispatched, next to an open case of the same place.
    open_one = await city.dispatched(1, "路边有垃圾")
    fixed = IntakeDraft(
        **base,
        idempotency_key="sh-3",
        reporter=Reporter(staff_id=await city.staff_id("inspector1")),
        description="路边有垃圾，已捡拾",
    )
    result = await submit(fixed, deps=deps)
    assert result.created and not result.merged and result.case.id != open_one["id"]
    assert (result.case.status.value, result.case.department_id) == ("registered", None)
    assert await actions(result.case.id) == ["report", "register"]
