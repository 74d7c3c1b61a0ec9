"""Reading and writing a case's stage clock (the Clock of cases/sla.py on the Case row)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from cases import sla
from cases.const import Stage, Urgency
from cases.deps import Deps
from cases.models import Case
from cases.policy import Limit
from core.calendar import TimeUnit
from core.timeutil import utc


def clock_of(case: Case) -> sla.Clock | None:
    """Return the case's running or stopped clock, if a stage has one."""
    if case.stage is None or case.stage_unit is None or case.stage_limit_s is None:
        return None
    return sla.Clock(
        stage=Stage(case.stage),
        unit=TimeUnit(case.stage_unit),
        limit_s=case.stage_limit_s,
        used_s=case.stage_used_s,
        started_at=case.stage_started_at,
        deadline_at=case.deadline_at,
        warn_at=case.warn_at,
    )


def fields(clock: sla.Clock | None) -> dict[str, Any]:
    """Case columns for a clock (all cleared for None); a new clock is not overdue yet."""
    if clock is None:
        return {
            "stage": None,
            "stage_unit": None,
            "stage_limit_s": None,
            "stage_used_s": 0,
            "stage_started_at": None,
            "deadline_at": None,
            "warn_at": None,
            "overdue": False,
        }
    return {
        "stage": clock.stage,
        "stage_unit": clock.unit.value,
        "stage_limit_s": clock.limit_s,
        "stage_used_s": clock.used_s,
        # Stored in UTC: the calendar answers in local time, and SQLite compares text.
        "stage_started_at": utc(clock.started_at),
        "deadline_at": utc(clock.deadline_at),
        "warn_at": utc(clock.warn_at),
    }


def stage_limit(deps: Deps, stage: Stage, *, category: str | None, urgency: Urgency) -> Limit:
    """Return the limit of a stage: 处置 by category and class, tasks by task_minutes."""
    workflow = deps.policy.workflow
    if stage == Stage.HANDLE:
        return deps.policy.handle_limit(category or "", urgency)
    if stage in (Stage.VERIFY, Stage.CHECK):
        return Limit(amount=workflow.task_minutes / 60, unit=workflow.task_unit)
    return workflow.stage_limits.get(stage, Limit(amount=1, unit=TimeUnit.WORK_HOUR))


def start(
    deps: Deps, stage: Stage, *, category: str | None, urgency: Urgency, now: dt.datetime
) -> dict[str, Any]:
    """Case columns for a fresh clock of this stage starting now."""
    limit = stage_limit(deps, stage, category=category, urgency=urgency)
    return fields(sla.start(deps.calendar, stage, limit, now)) | {"overdue": False}
