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
    warn_at: dt.datetime | None = None  # when the light turns yellow (80 % used)


def _seconds(limit: Limit, cal: WorkCalendar) -> int:
    return round(limit.amount * cal.unit_length(limit.unit).total_seconds())


def _deadline(cal: WorkCalendar, start: dt.datetime, unit: TimeUnit, seconds: int) -> dt.datetime:
    # Hours of the unit's kind: working hours for working units, wall hours otherwise.
    kind = TimeUnit.WORK_HOUR if unit.is_working_time else TimeUnit.HOUR
    return cal.deadline(start, max(seconds, 0) / 3600, kind)


def _run(cal: WorkCalendar, clock: Clock, now: dt.datetime) -> Clock:
    """Set a running clock's start, deadline and yellow instant from what remains."""
    remaining = clock.limit_s - clock.used_s
    to_warn = round(clock.limit_s * GREEN_BELOW) - clock.used_s
    return replace(
        clock,
        started_at=now,
        deadline_at=_deadline(cal, now, clock.unit, remaining),
        warn_at=_deadline(cal, now, clock.unit, to_warn),
    )


def start(cal: WorkCalendar, stage: Stage, limit: Limit, now: dt.datetime) -> Clock:
    """Start a stage's clock now."""
    return _run(cal, Clock(stage, limit.unit, _seconds(limit, cal)), now)


def used(cal: WorkCalendar, clock: Clock, now: dt.datetime) -> int:
    """Seconds of the limit consumed so far."""
    if clock.started_at is None:
        return clock.used_s
    run = cal.elapsed(clock.started_at, now, clock.unit).total_seconds()
    return clock.used_s + int(run)


def light(cal: WorkCalendar, clock: Clock | None, now: dt.datetime) -> Light:
    """Green below 80 % of the limit, yellow to 100 %, red beyond; none when stopped (挂账)."""
    if clock is None or clock.limit_s <= 0 or clock.started_at is None:
        return Light.NONE
    if clock.warn_at is not None and clock.deadline_at is not None:
        # The instants stored with the clock say it without walking the calendar (a page of
        # a list reads fifty of them), and they are what the light filter of a list compares.
        if now < clock.warn_at:
            return Light.GREEN
        return Light.YELLOW if now <= clock.deadline_at else Light.RED
    share = used(cal, clock, now) / clock.limit_s
    if share < GREEN_BELOW:
        return Light.GREEN
    return Light.YELLOW if share <= 1 else Light.RED


def pause(cal: WorkCalendar, clock: Clock, now: dt.datetime) -> Clock:
    """Stop the clock (挂账): what was used is kept, the deadline is gone."""
    if clock.started_at is None:
        return clock
    return replace(
        clock, used_s=used(cal, clock, now), started_at=None, deadline_at=None, warn_at=None
    )


def resume(cal: WorkCalendar, clock: Clock, now: dt.datetime) -> Clock:
    """Start the clock again; the deadline is what remained of the limit from now."""
    if clock.started_at is not None:
        return clock
    return _run(cal, clock, now)


def extend(cal: WorkCalendar, clock: Clock, extra: Limit, now: dt.datetime) -> Clock:
    """Add time to the limit (延期); a running clock gets a later deadline."""
    if clock.deadline_at is None:  # stopped: count the extension by its nominal length
        return replace(clock, limit_s=clock.limit_s + _seconds(extra, cal))
    # Apply the extension in its own unit to the deadline (1 天 is a calendar day, not 24
    # working hours), then add what that is in the clock's own unit to the limit.
    later = cal.deadline(clock.deadline_at, extra.amount, extra.unit)
    added = cal.elapsed(clock.deadline_at, later, clock.unit).total_seconds()
    longer = replace(clock, limit_s=clock.limit_s + round(added))
    return _run(cal, replace(longer, used_s=used(cal, longer, now)), now)
