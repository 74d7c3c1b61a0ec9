"""Deadlines and lights on a fixed clock: working days, holidays, 调休, 挂账, 延期, overdue."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from dataclasses import dataclass

import pytest

from cases import (
    TRANSITIONS,
    Action,
    CaseStatus,
    DecisionIn,
    Deps,
    ExtendIn,
    IntakeDraft,
    Location,
    Reporter,
    Source,
    deps_of,
    sla,
    submit,
    transition,
)
from cases.clock import clock_of
from cases.const import Light, Urgency
from cases.jobs import mark_overdue_now
from cases.models import Case, CaseEvent
from cases.service import case_out
from core.auth.models import Staff
from core.auth.service import Principal
from core.calendar import TimeUnit, WorkCalendar
from core.config import Settings
from core.demo import seed_demo
from core.jobs.models import OutboxItem
from core.org.models import Department
from core.runtime import build_runtime
from tests.cases.helpers import grid_point
from tests.cases.helpers import inspector_report as _inspector_report

CST = dt.timezone(dt.timedelta(hours=8))
FRIDAY_5PM = dt.datetime(2026, 11, 20, 17, 0, tzinfo=CST)
MONDAY_5PM = dt.datetime(2026, 11, 23, 17, 0, tzinfo=CST)


def at(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=CST)


class FixedClock:
    """The services' `now`, moved by the test."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@dataclass
class Town:
    settings: Settings
    deps: Deps
    clock: FixedClock

    @property
    def calendar(self) -> WorkCalendar:
        return self.deps.calendar

    async def dispatched(
        self,
        when: dt.datetime,
        *,
        street: int = 1,
        number: int = 1,
        category: str = "E06010",
        urgency: Urgency | None = None,
    ) -> Case:
        """An inspector's report at `when`: filed and dispatched at once (自动立案/派遣)."""
        self.clock.now = when
        inspector = await Staff.get(username=f"inspector{street}")
        where = await grid_point(self.settings, street, number=number)
        draft = IntakeDraft(
            source=Source.GRID_APP,
            idempotency_key=uuid.uuid4().hex,
            reporter=Reporter(staff_id=inspector.id),
            category_code=category,
            description="巡查发现",
            location=Location(**where),
            urgency=urgency,
        )
        result = await submit(draft, deps=self.deps)
        assert (result.created, result.merged) == (True, False)
        case = result.case
        assert case.status == CaseStatus.DISPATCHED
        assert case.dispatched_at == when
        return case

    async def act(
        self, case: Case, action: Action, username: str, when: dt.datetime, **params: object
    ) -> Case:
        """Apply an action as a demo account at `when`."""
        self.clock.now = when
        staff = await Staff.get(username=username)
        who = Principal(
            "staff",
            staff.id,
            staff.display_name,
            roles=frozenset(staff.roles),
            department_id=staff.department_id,
        )
        inputs = TRANSITIONS[action].input(note="说明理由", **params)
        return await transition(case.id, action, inputs, actor=who, deps=self.deps)


async def _deps(settings: Settings, clock: FixedClock) -> Deps:
    """The case core's Deps of a process on these settings, on a fixed clock, with no queue."""
    runtime = build_runtime(settings, process="cli")
    await runtime.grids.refresh()
    return dataclasses.replace(deps_of(runtime), now=clock)


@pytest.fixture
async def town(db: None, settings: Settings) -> Town:
    await seed_demo(settings)
    clock = FixedClock(FRIDAY_5PM)
    return Town(settings, await _deps(settings, clock), clock)


async def test_one_working_day_from_friday_afternoon_ends_monday_afternoon(town: Town) -> None:
    # 暴露垃圾, class B: 1 工作日 = 8 working hours: Friday 17–18, Monday 08–12 and 14–17.
    case = await town.dispatched(FRIDAY_5PM)
    assert (case.stage, case.stage_unit, case.stage_limit_s) == ("handle", "work_day", 8 * 3600)
    assert case.deadline_at == MONDAY_5PM
    assert case_out(case, town.deps, FRIDAY_5PM).deadline_at == MONDAY_5PM


async def test_national_day_is_skipped(town: Town) -> None:
    cal = town.calendar
    # 2026: 国庆 and 中秋 give 1–7 October off; Thursday 8 October is the first workday after.
    assert [cal.is_workday(dt.date(2026, 10, d)) for d in range(1, 11)] == [False] * 7 + [True] * 3
    # 1 工作日 from Wednesday 30 September 17:00: 1 h that evening (17–18), nothing for the
    # seven days off, then 4 h on 8 October morning (08–12) and 3 h after lunch (14–17).
    case = await town.dispatched(at(9, 30, 17))
    assert case.deadline_at == at(10, 8, 17)
    assert case.deadline_at == cal.deadline(at(9, 30, 17), 8, TimeUnit.WORK_HOUR)
    # 3 工作日 (道路破损, class B) reach the 调休 Saturday 10 October: 1 h + 8 h (Thursday 8th)
    # + 8 h (Friday 9th) = 17 h, and the last 7 h on Saturday the 10th: 08–12 and 14–17.
    road = await town.dispatched(at(9, 30, 17), street=2, category="E06013")
    assert road.deadline_at == at(10, 10, 17)


async def test_a_tiaoxiu_saturday_counts_as_a_workday(town: Town) -> None:
    # Saturday 9 May 2026 is a 调休 workday (after 劳动节): Friday 17:00 + 1 工作日 ends on it.
    assert town.calendar.is_workday(dt.date(2026, 5, 9))
    case = await town.dispatched(at(5, 8, 17))
    assert case.deadline_at == at(5, 9, 17)
    # An ordinary Saturday does not count (the Friday → Monday case above).
    assert not town.calendar.is_workday(dt.date(2026, 11, 21))


async def test_an_hour_limit_runs_through_nights_and_holidays(town: Town) -> None:
    # Class A (紧急) 暴露垃圾: 2 小时 on the wall clock, night or not.
    late = await town.dispatched(at(11, 20, 23), urgency=Urgency.A)
    assert (late.urgency, late.stage_unit) == (Urgency.A, "hour")
    assert late.deadline_at == at(11, 21, 1)
    # On a public holiday too: 机动车乱停放, class A, 1 小时.
    holiday = await town.dispatched(at(10, 3, 10), street=2, category="E09009", urgency=Urgency.A)
    assert holiday.deadline_at == at(10, 3, 11)


async def test_the_light_turns_yellow_then_red_as_time_passes(town: Town) -> None:
    case = await town.dispatched(FRIDAY_5PM)
    # Yellow from 80 % of 8 h = 6 h 24 min: 1 h on Friday, 4 h Monday morning, 1 h 24 min after
    # 14:00 on Monday.
    assert case.warn_at == at(11, 23, 15, 24)

    def light(now: dt.datetime) -> Light:
        return case_out(case, town.deps, now).light

    assert light(at(11, 20, 17, 30)) == Light.GREEN
    assert light(at(11, 22, 12)) == Light.GREEN  # the weekend uses none of it
    assert light(at(11, 23, 15, 23)) == Light.GREEN
    assert light(at(11, 23, 15, 24)) == Light.YELLOW
    assert light(MONDAY_5PM) == Light.YELLOW
    assert light(at(11, 23, 17, 1)) == Light.RED
    assert light(at(11, 23, 18)) == Light.RED


async def test_the_stored_instants_give_the_light_the_calendar_gives(town: Town) -> None:
    """A list shows fifty lights a page from warn_at and deadline_at; walking the working-time
    calendar from the stage's start must give the same colour at every instant."""
    case = await town.dispatched(FRIDAY_5PM)
    stored = clock_of(case)
    assert stored is not None and stored.warn_at and stored.deadline_at
    walked = dataclasses.replace(stored, warn_at=None, deadline_at=None)
    now = FRIDAY_5PM
    while now < at(11, 24, 12):
        assert sla.light(town.calendar, stored, now) == sla.light(town.calendar, walked, now), now
        now += dt.timedelta(minutes=7)


async def test_suspension_stops_the_clock_and_resume_gives_back_the_rest(town: Town) -> None:
    monday_9am = at(11, 23, 9)
    case = await town.dispatched(monday_9am, street=3)
    assert case.deadline_at == at(11, 24, 9)  # 09–12, 14–18, and Tuesday 08–09
    await town.act(case, Action.SUSPEND, "handler_hw", at(11, 23, 10))
    t1 = at(11, 23, 11)
    case = await town.act(case, Action.APPROVE_SUSPENSION, "shift_lead", t1, approved=True)
    assert case.status == CaseStatus.SUSPENDED
    # 2 working hours used (09–11) are kept; no deadline while suspended.
    assert (case.stage_used_s, case.stage_started_at, case.deadline_at) == (7200, None, None)
    shown = case_out(case, town.deps, at(11, 26, 11))
    assert (shown.deadline_at, shown.light) == (None, Light.NONE)

    t2 = at(11, 30, 11)  # a week later
    case = await town.act(case, Action.RESUME, "dispatcher", t2)
    assert case.status == CaseStatus.DISPATCHED
    # The 6 h left from Monday 30 November 11:00: 11–12, 14–18, then 08–09 on Tuesday.
    assert case.deadline_at == at(12, 1, 9)
    assert case.deadline_at == town.calendar.deadline(t2, 6, TimeUnit.WORK_HOUR)
    assert case_out(case, town.deps, t2).light == Light.GREEN


async def test_an_extension_moves_the_deadline(town: Town) -> None:
    case = await town.dispatched(FRIDAY_5PM)
    monday_9am, monday_10am = at(11, 23, 9), at(11, 23, 10)
    case = await town.act(case, Action.EXTEND, "handler_hw", monday_9am, amount=1, unit="work_day")
    assert case.deadline_at == MONDAY_5PM
    case = await town.act(case, Action.APPROVE_EXTENSION, "dispatcher", monday_10am, approved=True)
    # 16 h in all, 3 used (Friday 17–18, Monday 08–10): 13 h from Monday 10:00 end on Tuesday
    # at 17:00, one working day after the first deadline.
    assert case.deadline_at == at(11, 24, 17)
    assert case.pending_request is None

    other = await town.dispatched(FRIDAY_5PM, street=2)
    other = await town.act(other, Action.EXTEND, "handler_hw", monday_9am, amount=2, unit="hour")
    other = await town.act(
        other, Action.APPROVE_EXTENSION, "dispatcher", monday_10am, approved=False
    )
    assert (other.deadline_at, other.pending_request) == (MONDAY_5PM, None)


async def test_the_overdue_marker_flags_a_late_case_once(town: Town) -> None:
    late = await town.dispatched(FRIDAY_5PM, category="E09009")
    on_time = await town.dispatched(FRIDAY_5PM, street=2)
    # The marker runs on the real clock: put one deadline just behind it, one ahead.
    now = dt.datetime.now(dt.UTC)
    await Case.filter(id=late.id).update(deadline_at=now - dt.timedelta(minutes=1))
    await Case.filter(id=on_time.id).update(deadline_at=now + dt.timedelta(days=1))

    written = await mark_overdue_now()
    assert len(written) == 1
    assert await mark_overdue_now() == []

    assert (await Case.get(id=late.id)).overdue
    assert not (await Case.get(id=on_time.id)).overdue
    events = await CaseEvent.filter(action="overdue").values(
        "case_id", "actor_kind", "from_status", "to_status"
    )
    assert events == [
        {
            "case_id": late.id,
            "actor_kind": "system",
            "from_status": "dispatched",
            "to_status": "dispatched",
        }
    ]
    item = await OutboxItem.get(id=written[0])
    jj = await Department.get(code="JJ")
    assert item.kind == "notify.staff"
    keys = ("case_id", "action", "audience", "department_id", "stage")
    assert {k: item.payload[k] for k in keys} == {
        "case_id": late.id,
        "action": "overdue",
        "audience": "department",  # a late 处置 is the department's to answer for
        "department_id": jj.id,
        "stage": "handle",
    }
    # Not a person's move: the version a person saw stays valid.
    assert (await Case.get(id=late.id)).version == late.version


async def _principal(username: str) -> Principal:
    staff = await Staff.get(username=username)
    return Principal(
        "staff",
        staff.id,
        staff.display_name,
        roles=frozenset(staff.roles),
        department_id=staff.department_id,
    )


async def test_a_one_day_extension_is_one_calendar_day(db: None, settings: Settings) -> None:
    await seed_demo(settings)
    monday_9am = dt.datetime(2026, 11, 23, 9, tzinfo=CST)
    clock = FixedClock(monday_9am)
    deps = await _deps(settings, clock)
    # 暴露垃圾, class B: 1 工作日, from Monday 09:00 to Tuesday 09:00.
    case = await _inspector_report(deps, settings, 3, "E06010")
    assert case.deadline_at == dt.datetime(2026, 11, 24, 9, tzinfo=CST)

    clock.now = dt.datetime(2026, 11, 23, 9, 30, tzinfo=CST)
    asked = ExtendIn(note="需调配清运车辆", amount=1, unit=TimeUnit.DAY)
    handler = await _principal("handler_hw")
    await transition(case.id, Action.EXTEND, asked, actor=handler, deps=deps)
    clock.now = dt.datetime(2026, 11, 23, 10, tzinfo=CST)
    dispatcher = await _principal("dispatcher")
    yes = DecisionIn(approved=True)
    await transition(case.id, Action.APPROVE_EXTENSION, yes, actor=dispatcher, deps=deps)

    # 1 天 is one calendar day after the old deadline: Wednesday 09:00, not Friday.
    row = await Case.get(id=case.id)
    assert row.deadline_at == dt.datetime(2026, 11, 25, 9, tzinfo=CST)
    assert row.pending_request is None
