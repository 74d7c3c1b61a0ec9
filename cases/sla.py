"""Stage clocks: deadlines from the working-time calendar, lights, pause (挂账) and extension."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from cases.const import Light, Stage
from cases.policy import Limit
from core.calendar import TimeUnit, WorkCalendar

GREEN_BELOW = 0.8  # share of the limit used: below is green, up to 1.0 yellow, beyond red


@dataclass(frozen=True, slots=True)
class Clock:
    """The clock of one stage. Seconds count working time for 工作时/工作日, wall time else."""

    stage: Stage
    unit: TimeUnit
    limit_s: int
    used_s: int = 0  # consumed before the clock last (re)started
    started_at: dt.datetime | None = None  # None: stopped (挂账)
    deadline_at: dt.datetime | None = None


def _seconds(limit: Limit, cal: WorkCalendar) -> int:
    return round(limit.amount * cal.unit_length(limit.unit).total_seconds())


def _deadline(cal: WorkCalendar, start: dt.datetime, unit: TimeUnit, seconds: int) -> dt.datetime:
    # Hours of the unit's kind: working hours for working units, wall hours otherwise.
    kind = TimeUnit.WORK_HOUR if unit.is_working_time else TimeUnit.HOUR
    return cal.deadline(start, max(seconds, 0) / 3600, kind)


def start(cal: WorkCalendar, stage: Stage, limit: Limit, now: dt.datetime) -> Clock:
    """Start a stage's clock now."""
    seconds = _seconds(limit, cal)
    return Clock(stage, limit.unit, seconds, 0, now, _deadline(cal, now, limit.unit, seconds))


def used(cal: WorkCalendar, clock: Clock, now: dt.datetime) -> int:
    """Seconds of the limit consumed so far."""
    if clock.started_at is None:
        return clock.used_s
    run = cal.elapsed(clock.started_at, now, clock.unit).total_seconds()
    return clock.used_s + int(run)


def light(cal: WorkCalendar, clock: Clock | None, now: dt.datetime) -> Light:
    """Green below 80 % of the limit, yellow to 100 %, red beyond; none without a clock."""
    if clock is None or clock.limit_s <= 0:
        return Light.NONE
    share = used(cal, clock, now) / clock.limit_s
    if share < GREEN_BELOW:
        return Light.GREEN
    return Light.YELLOW if share <= 1 else Light.RED


def pause(cal: WorkCalendar, clock: Clock, now: dt.datetime) -> Clock:
    """Stop the clock (挂账): what was used is kept, the deadline is gone."""
    if clock.started_at is None:
        return clock
    return replace(clock, used_s=used(cal, clock, now), started_at=None, deadline_at=None)


def resume(cal: WorkCalendar, clock: Clock, now: dt.datetime) -> Clock:
    """Start the clock again; the deadline is what remained of the limit from now."""
    if clock.started_at is not None:
        return clock
    remaining = clock.limit_s - clock.used_s
    return replace(clock, started_at=now, deadline_at=_deadline(cal, now, clock.unit, remaining))


def extend(cal: WorkCalendar, clock: Clock, extra: Limit, now: dt.datetime) -> Clock:
    """Add time to the limit (延期); a running clock gets a later deadline."""
    # An extension in another kind of unit is counted by its nominal length (1 工作日 = 8 h).
    longer = replace(clock, limit_s=clock.limit_s + _seconds(extra, cal))
    if longer.started_at is None:
        return longer
    remaining = longer.limit_s - used(cal, longer, now)
    return replace(longer, deadline_at=_deadline(cal, now, clock.unit, remaining))
