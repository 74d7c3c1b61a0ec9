"""Periodic jobs of the case core: mark overdue stages and raise 督办 notices."""

from __future__ import annotations

import logging
from typing import Any

from tortoise import timezone
from tortoise.transactions import in_transaction

from cases.const import (
    OPEN_STATUSES,
    OVERDUE_JOB,
    STAFF_NOTICE,
    Action,
    CaseStatus,
    Stage,
    TaskStatus,
)
from cases.models import Case, CaseEvent, InspectorTask
from core.jobs import outbox
from core.jobs.registry import PeriodicContext, handler_for, periodic

log = logging.getLogger(__name__)
BATCH = 500


async def _late_stage_owner(row: dict[str, Any]) -> dict[str, Any]:
    """Who answers for a late stage: the department, the task's inspector, or the centre."""
    if row["stage"] == Stage.HANDLE and row["department_id"]:
        return {"audience": "department", "department_id": row["department_id"]}
    if row["stage"] in (Stage.VERIFY, Stage.CHECK):
        task = await InspectorTask.filter(case_id=row["id"], status=TaskStatus.OPEN).first()
        if task is not None and task.inspector_id is not None:
            return {"audience": "inspector", "inspector_id": task.inspector_id}
    return {"audience": "centre"}


@periodic(OVERDUE_JOB, every_s=60)
async def mark_overdue(ctx: PeriodicContext) -> None:
    """Flag cases whose stage deadline passed, once per stage, and tell their department."""
    ids = await mark_overdue_now()
    if handler_for(STAFF_NOTICE) is not None:  # else the notices wait for a channel
        await ctx.queue.kick(ids)


async def mark_overdue_now() -> list[int]:
    """Do one pass of the overdue marker; return the ids of the notices written."""
    now = timezone.now()
    running = [s for s in OPEN_STATUSES if s != CaseStatus.SUSPENDED]
    due = (
        await Case.filter(overdue=False, deadline_at__lt=now, status__in=running)
        .order_by("deadline_at")
        .limit(BATCH)
        .values("id", "status", "stage", "department_id", "deadline_at")
    )
    outbox_ids = []
    for row in due:
        async with in_transaction():
            # Not a status change, and not a version bump: a person's pending action stays valid.
            # Only if the same stage is still late: a person may have moved the case meanwhile.
            still_late = Case.filter(
                id=row["id"], overdue=False, stage=row["stage"], deadline_at=row["deadline_at"]
            )
            if not await still_late.update(overdue=True):
                continue  # moved on, or another worker got there first
            event = await CaseEvent.create(
                case_id=row["id"],
                action=Action.OVERDUE,
                from_status=row["status"],
                to_status=row["status"],
                actor_kind="system",
                data={"stage": row["stage"], "deadline_at": row["deadline_at"].isoformat()},
            )
            item = await outbox.add(
                STAFF_NOTICE,
                {
                    "case_id": row["id"],
                    "event_id": event.id,
                    "action": Action.OVERDUE.value,
                    "stage": row["stage"],
                    **await _late_stage_owner(row),
                },
            )
            outbox_ids.append(item.id)
    if due:
        log.info("marked %d cases overdue", len(outbox_ids))
    return outbox_ids
