"""The case lifecycle over HTTP, as the people of the demo city walk it."""

from __future__ import annotations

import datetime as dt
from typing import Any

from cases.models import Case, CaseEvent
from core.calendar import WorkCalendar
from core.jobs.models import OutboxItem
from tests.cases.helpers import City, actions

# A clock's arithmetic works in whole seconds of use (cases/sla.py): allow that much drift.
SECOND = dt.timedelta(seconds=1.5)


def _at(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


async def _outbox(kind: str, **match: Any) -> list[dict[str, Any]]:
    rows = await OutboxItem.filter(kind=kind).order_by("id")
    return [r.payload for r in rows if all(r.payload.get(k) == v for k, v in match.items())]


async def test_a_citizen_report_walks_the_whole_loop(city: City) -> None:
    citizen = await city.citizen("reporter", phone="13812345678")
    where = await city.point(2, number=3)
    hw, sz = await city.department("HW"), await city.department("SZ")
    inspector2 = await city.staff_id("inspector2")
    cal = WorkCalendar.from_profile(city.settings.profile)
    for username in ("inspector2", "acceptor", "dispatcher", "handler_hw", "handler_sz"):
        await city.login_over_http(username)

    status, out = await city.report(citizen, where, "路边有一堆垃圾", key="wx-msg-1")
    assert status == 201, out
    assert (out["created"], out["merged"]) == (True, False)
    case = out["case"]
    cid = case["id"]
    # The keywords chose the category; a new report waits for a person's 受理.
    assert (case["category_code"], case["category_name"]) == ("E06010", "暴露垃圾")
    assert (case["status"], case["source"], case["stage"]) == (
        "reported",
        "wechat_oa",
        "accept",
    )  # the citizen came through the 公众号
    # 受理 by the acceptor; a public report with a place then goes to 核实 (GB/T 30428.8).
    accepted = await city.ok(cid, "accept", "acceptor", note="受理")
    assert (accepted["status"], accepted["stage"]) == ("verifying", "verify")
    steps = await CaseEvent.filter(case_id=cid).order_by("id")
    assert [(e.action, e.actor_kind, e.actor_id) for e in steps] == [
        ("report", "citizen", None),
        ("accept", "staff", await city.staff_id("acceptor")),
        ("verify", "system", None),
    ]

    # The verify task is the grid's inspector's, and only theirs to see.
    _, tasks = await city.get("/api/v1/tasks", "inspector2")
    assert [(t["case_id"], t["kind"], t["inspector_id"]) for t in tasks["items"]] == [
        (cid, "verify", inspector2)
    ]
    assert (await city.get("/api/v1/tasks", "inspector1"))[1]["items"] == []

    assert (await city.ok(cid, "verify-result", "inspector2", passed=True, note="属实"))[
        "status"
    ] == "reported"
    registered = await city.ok(cid, "register", "acceptor", urgency="B")
    assert (registered["status"], registered["urgency"]) == ("registered", "B")
    assert registered["registered_at"] is not None

    first = await city.ok(cid, "dispatch", "dispatcher")
    assert (first["status"], first["department_id"]) == ("dispatched", hw)

    # 回退 needs a reason; with one, the case is back with the dispatcher, owned by nobody.
    status, err = await city.act(cid, "return", "handler_hw")
    assert (status, err["code"]) == (422, "note_required")
    assert [f["field"] for f in err["fields"]] == ["note"]
    back = await city.ok(cid, "return", "handler_hw", note="该路段归市政养护")
    assert (back["status"], back["department_id"]) == ("registered", None)

    second = await city.ok(cid, "dispatch", "dispatcher", department_id=sz)
    assert (second["status"], second["department_id"]) == ("dispatched", sz)
    before = _at(second["deadline_at"])

    asked = await city.ok(
        cid, "extend", "handler_sz", amount=1, unit="work_day", note="需调配清运车辆"
    )
    assert asked["pending_request"] == {"kind": "extend", "amount": 1.0, "unit": "work_day"}
    assert _at(asked["deadline_at"]) == before  # nothing moves before the approval
    approved = await city.ok(cid, "extension-approval", "dispatcher", approved=True)
    after = _at(approved["deadline_at"])
    assert approved["pending_request"] is None
    # One more 工作日 (8 working hours) between the old deadline and the new one.
    assert after > before
    assert abs(cal.working_time_between(before, after) - dt.timedelta(hours=8)) < SECOND

    status, err = await city.act(cid, "handle", "handler_sz", note="已清理")
    assert (status, err["code"]) == (422, "validation_error")
    assert [f["field"] for f in err["fields"]] == ["attachments"]
    photo = await city.photo(await city.login("handler_sz"))
    handled = await city.ok(cid, "handle", "handler_sz", note="已清理", attachments=[photo])
    assert (handled["status"], handled["stage"]) == ("handled", "check")
    _, tasks = await city.get("/api/v1/tasks", "inspector2")
    assert [(t["case_id"], t["kind"]) for t in tasks["items"]] == [(cid, "check")]

    # 核查 fails: 返工, back to the department with a fresh 处置 clock.
    # A second 核查 while one is open is refused (the task and its deadline stay as they are).
    status, err = await city.act(cid, "check", "acceptor")
    assert (status, err["code"]) == (409, "task_open")
    assert len((await city.get("/api/v1/tasks", "inspector2"))[1]["items"]) == 1
    # 返工 needs its reason, as 回退 does.
    status, err = await city.act(cid, "check-result", "inspector2", passed=False)
    assert (status, err["code"], err["message"]) == (422, "note_required", "请填写返工的理由")
    rework = await city.ok(cid, "check-result", "inspector2", passed=False, note="仍有垃圾")
    assert (rework["status"], rework["department_id"], rework["stage"]) == (
        "dispatched",
        sz,
        "handle",
    )
    assert (await actions(cid))[-1] == "rework"

    photo2 = await city.photo(await city.login("handler_sz"))
    await city.ok(cid, "handle", "handler_sz", note="已彻底清理", attachments=[photo2])
    checked = await city.ok(cid, "check-result", "inspector2", passed=True, note="已清理干净")
    # 核查 passed: 待结案, on a clock of its own (结案 has a time limit too).
    assert (checked["status"], checked["status_name"], checked["stage"]) == (
        "checked",
        "待结案",
        "close",
    )
    assert checked["deadline_at"] is not None and checked["light"] == "green"
    _, listed = await city.get("/api/v1/cases", "acceptor", status="checked")
    assert [c["id"] for c in listed["items"]] == [cid]
    closed = await city.ok(cid, "close", "acceptor", note="结案")
    assert (closed["status"], closed["light"], closed["deadline_at"]) == ("closed", "none", None)
    assert closed["closed_at"] is not None

    detail = await city.detail(cid)
    timeline = [(e["action"], e["from_status"], e["to_status"]) for e in detail["timeline"]]
    assert timeline == [
        ("report", None, "reported"),
        ("accept", "reported", "reported"),
        ("verify", "reported", "verifying"),
        ("verify_result", "verifying", "reported"),
        ("register", "reported", "registered"),
        ("dispatch", "registered", "dispatched"),
        ("return", "dispatched", "registered"),
        ("dispatch", "registered", "dispatched"),
        ("extend", "dispatched", "dispatched"),
        ("approve_extension", "dispatched", "dispatched"),
        ("handle", "dispatched", "handled"),
        ("rework", "handled", "dispatched"),
        ("handle", "dispatched", "handled"),
        ("check_result", "handled", "checked"),
        ("close", "checked", "closed"),
    ]
    who = [(e["actor_kind"], e["actor_id"]) for e in detail["timeline"]]
    staff = {u: await city.staff_id(u) for u in ("acceptor", "dispatcher", "handler_hw")}
    handler_sz = await city.staff_id("handler_sz")
    assert who == [
        ("citizen", None),
        ("staff", staff["acceptor"]),  # 受理 is a person's
        ("system", None),  # then 核实 is sent automatically
        ("staff", inspector2),
        ("staff", staff["acceptor"]),
        ("staff", staff["dispatcher"]),
        ("staff", staff["handler_hw"]),
        ("staff", staff["dispatcher"]),
        ("staff", handler_sz),
        ("staff", staff["dispatcher"]),
        ("staff", handler_sz),
        ("staff", inspector2),
        ("staff", handler_sz),
        ("staff", inspector2),
        ("staff", staff["acceptor"]),
    ]
    assert [e["note"] for e in detail["timeline"]][6] == "该路段归市政养护"
    assert sorted((a["kind"], a["media_id"]) for a in detail["attachments"]) == [
        ("after", photo),
        ("after", photo2),
    ]
    assert [(t["kind"], t["status"], t["passed"]) for t in detail["tasks"]] == [
        ("verify", "done", True),
        ("check", "done", False),
        ("check", "done", True),
    ]

    # The citizen sees their case, and only theirs; their own phone number comes back masked.
    other = await city.citizen("neighbour")
    status, _ = await city.report(other, await city.point(4), "路面脏了没人扫")
    assert status == 201
    status, mine = await city.get("/api/v1/cases", citizen)
    assert status == 200
    assert ([c["id"] for c in mine["items"]], mine["total"]) == ([cid], 1)
    seen = await city.detail(cid, citizen)
    assert seen["status"] == "closed"
    assert [(r["reporter_kind"], r["reporter_phone"]) for r in seen["reports"]] == [
        ("citizen", "138****5678")
    ]

    # The reporter hears of each step that matters to them, through their own channel (web).
    told = await _outbox("notify.wechat_oa", case_id=cid)
    assert [p["action"] for p in told] == [
        "accept",
        "register",
        "dispatch",
        "dispatch",
        "handle",
        "handle",
        "close",
    ]
    assert {p["citizen_id"] for p in told} == {await city.citizen_id("reporter")}


async def test_an_inspector_report_is_filed_and_dispatched_at_once(city: City) -> None:
    inspector = await city.login("inspector1")
    jj = await city.department("JJ")
    by_code = await city.dispatched(1, "小区门口有车", category_code="E09009")
    # No category given: the word 违停 picks 机动车乱停放 (far enough not to be a duplicate).
    status, out = await city.report(inspector, await city.point(1, number=4), "人行道上有车违停")
    assert status == 201, out
    by_word = out["case"]
    inspector1 = await city.staff_id("inspector1")
    for case in (by_code, by_word):
        assert (case["source"], case["category_code"], case["department_id"]) == (
            "grid_app",
            "E09009",
            jj,
        )
        assert case["registered_at"] is not None and case["dispatched_at"] is not None
        events = await CaseEvent.filter(case_id=case["id"]).order_by("created_at", "id")
        assert [(e.action, e.actor_kind, e.actor_id) for e in events] == [
            ("report", "staff", inspector1),
            ("register", "system", None),
            ("dispatch", "system", None),
        ]
    # Not a citizen's report: nobody to notify through a channel.
    assert await _outbox("notify.wechat_oa") == []
    _, inbox = await city.get("/api/v1/inbox", "handler_jj")
    assert sorted(c["id"] for c in inbox["items"]) == sorted([by_code["id"], by_word["id"]])


async def test_a_rejected_report_cannot_be_dispatched(city: City) -> None:
    citizen = await city.citizen()
    status, out = await city.report(citizen, await city.point(3), "楼下有垃圾")
    cid = out["case"]["id"]
    await city.ok(cid, "accept", "acceptor")  # and so to 核实
    status, err = await city.act(cid, "reject", "acceptor")
    assert (status, err["code"]) == (422, "note_required")
    rejected = await city.ok(cid, "reject", "acceptor", note="现场核实无此问题")
    assert (rejected["status"], rejected["light"], rejected["deadline_at"]) == (
        "rejected",
        "none",
        None,
    )

    status, err = await city.act(cid, "dispatch", "dispatcher")
    assert (status, err["code"]) == (409, "invalid_transition")
    assert err["message"] == "案件当前状态为“不予立案”，不能派遣"
    assert await actions(cid) == ["report", "accept", "verify", "reject"]
    # The open 核实 task is withdrawn, and the reporter hears of the decision.
    _, tasks = await city.get("/api/v1/tasks", "inspector3")
    assert tasks["items"] == []
    told = [p["action"] for p in await _outbox("notify.wechat_oa", case_id=cid)]
    assert told == ["accept", "reject"]


async def test_the_shift_lead_cancels_a_registered_case(city: City) -> None:
    status, out = await city.report(await city.citizen(), await city.point(2), "门口有垃圾")
    cid = out["case"]["id"]
    await city.ok(cid, "register", "acceptor", urgency="C")

    status, err = await city.act(cid, "cancel", "dispatcher", note="重复")
    assert (status, err["code"]) == (403, "role_forbidden")
    cancelled = await city.ok(cid, "cancel", "shift_lead", note="与上一单重复")
    assert (cancelled["status"], cancelled["status_name"]) == ("cancelled", "已作废")
    assert await actions(cid) == ["report", "accept", "register", "cancel"]
    event = await CaseEvent.filter(case_id=cid).order_by("-id").first()
    assert event is not None
    assert (event.actor_id, event.note) == (await city.staff_id("shift_lead"), "与上一单重复")


async def test_suspension_stops_the_clock_until_resumed(city: City) -> None:
    case = await city.dispatched(1, "消防通道违停")
    cid = case["id"]
    before = _at(case["deadline_at"])
    cal = WorkCalendar.from_profile(city.settings.profile)
    started = (await Case.get(id=cid)).stage_started_at
    assert started is not None

    asked = await city.ok(cid, "suspend", "handler_jj", note="需市政改造停车位，长期问题")
    assert (asked["status"], asked["pending_request"]) == ("dispatched", {"kind": "suspend"})
    t0 = dt.datetime.now(dt.UTC)
    approved = await city.ok(cid, "suspension-approval", "shift_lead", approved=True)
    t1 = dt.datetime.now(dt.UTC)
    assert (approved["status"], approved["deadline_at"], approved["pending_request"]) == (
        "suspended",
        None,
        None,
    )
    row = await Case.get(id=cid)
    # The clock stopped and kept what it had used: the working time from its start to approval
    # (the wall clock decides how much; test_sla.py fixes the clock and checks exact instants).
    assert (row.stage, row.stage_started_at, row.deadline_at) == ("handle", None, None)
    low = cal.working_time_between(started, t0).total_seconds()
    high = cal.working_time_between(started, t1).total_seconds()
    assert int(low) <= row.stage_used_s <= high

    # A stopped clock cannot run late: the list of overdue cases leaves it out.
    _, overdue = await city.get("/api/v1/cases", "shift_lead", overdue="true")
    assert overdue["items"] == []
    status, err = await city.act(cid, "handle", "handler_jj", attachments=[1])
    assert (status, err["code"]) == (409, "invalid_transition")

    resumed = await city.ok(cid, "resume", "shift_lead", note="恢复处置")
    assert resumed["status"] == "dispatched"
    row = await Case.get(id=cid)
    assert row.stage_started_at is not None and row.deadline_at is not None
    assert row.stage_limit_s is not None
    # The new deadline is what was left of the limit, counted from the resume: never earlier
    # than the first one (later by the working time spent suspended).
    rest = (row.stage_limit_s - row.stage_used_s) / 3600
    assert row.deadline_at == cal.add_working_hours(row.stage_started_at, rest)
    assert _at(resumed["deadline_at"]) == row.deadline_at >= before
    assert await actions(cid) == [
        "report",
        "register",
        "dispatch",
        "suspend",
        "approve_suspension",
        "resume",
    ]


async def test_a_suspended_case_shows_no_light(city: City) -> None:
    """No clock runs while suspended: no light, in the case and in the list filter alike."""
    case = await city.dispatched(1, "门口违停")
    await city.ok(case["id"], "suspend", "handler_jj", note="长期问题")
    out = await city.ok(case["id"], "suspension-approval", "shift_lead", approved=True)
    assert out["status"] == "suspended"
    assert out["light"] == "none"
    _, unlit = await city.get("/api/v1/cases", "shift_lead", light="none")
    assert [(c["id"], c["light"]) for c in unlit["items"]] == [(case["id"], "none")]
    _, green = await city.get("/api/v1/cases", "shift_lead", light="green")
    assert green["items"] == []


async def test_reopen_after_close_sends_it_back_to_the_department(city: City) -> None:
    citizen = await city.citizen()
    status, out = await city.report(citizen, await city.point(4, number=2), "这里垃圾没人清")
    cid = out["case"]["id"]
    hw = await city.department("HW")
    await city.ok(cid, "register", "acceptor")
    await city.ok(cid, "dispatch", "dispatcher")
    photo = await city.photo(await city.login("handler_hw"))
    await city.ok(cid, "handle", "handler_hw", attachments=[photo])
    await city.ok(cid, "check-result", "inspector4", passed=True)
    await city.ok(cid, "close", "acceptor")

    status, err = await city.act(cid, "reopen", "shift_lead")
    assert (status, err["code"]) == (422, "note_required")
    status, err = await city.act(cid, "reopen", "acceptor", note="市民不满意")
    assert (status, err["code"]) == (403, "role_forbidden")
    reopened = await city.ok(cid, "reopen", "shift_lead", note="回访不满意，核实属实")
    assert (reopened["status"], reopened["reopen_count"], reopened["department_id"]) == (
        "dispatched",
        1,
        hw,
    )
    assert (reopened["closed_at"], reopened["handled_at"]) == (None, None)
    assert reopened["deadline_at"] is not None
    assert (await actions(cid))[-2:] == ["close", "reopen"]
    assert [p["action"] for p in await _outbox("notify.wechat_oa", case_id=cid)][-2:] == [
        "close",
        "reopen",
    ]
    _, inbox = await city.get("/api/v1/inbox", "handler_hw")
    assert [c["id"] for c in inbox["items"]] == [cid]


async def test_urging_counts_and_tells_the_department(city: City) -> None:
    case = await city.dispatched(3, "路口违停", number=2)
    cid = case["id"]
    status, err = await city.act(cid, "urge", "dispatcher", note="尽快")
    assert (status, err["code"]) == (403, "role_forbidden")
    first = await city.ok(cid, "urge", "shift_lead", note="群众反映强烈，请尽快处置")
    assert (first["urge_count"], first["status"]) == (1, "dispatched")
    second = await city.ok(cid, "urge", "shift_lead", note="再次督办")
    assert second["urge_count"] == 2
    assert (await actions(cid))[-2:] == ["urge", "urge"]
    events = await CaseEvent.filter(case_id=cid, action="urge").order_by("id")
    staff = [p for p in await _outbox("notify.staff", case_id=cid) if p["action"] == "urge"]
    assert [(p["event_id"], p["department_id"], p["audience"]) for p in staff] == [
        (e.id, case["department_id"], "department") for e in events
    ]


async def test_a_reopened_case_needs_a_new_check_before_closing(city: City) -> None:
    case = await city.dispatched(2, "街角垃圾")
    cid = case["id"]
    photo = await city.photo(await city.login("handler_hw"))
    await city.ok(cid, "handle", "handler_hw", attachments=[photo])
    await city.ok(cid, "check-result", "inspector2", passed=True)
    await city.ok(cid, "close", "acceptor")
    await city.ok(cid, "reopen", "shift_lead", note="回访不满意")
    redo = await city.photo(await city.login("handler_hw"))
    await city.ok(cid, "handle", "handler_hw", attachments=[redo])
    # The redo has its own 核查 waiting; the first one's pass does not cover it.
    _, tasks = await city.get("/api/v1/tasks", "inspector2")
    assert [(t["case_id"], t["kind"]) for t in tasks["items"]] == [(cid, "check")]
    status, err = await city.act(cid, "close", "acceptor")
    assert (status, err.get("code")) == (422, "check_not_passed")
