"""Periodic jobs of the case core: mark overdue stages and raise 督办 notices."""

from __future__ import annotations

import logging

from tortoise import timezone
from tortoise.transactions import in_transaction

from cases import events
from cases.const import OPEN_STATUSES, OVERDUE_JOB, Action, CaseStatus
from cases.deps import Deps, deps_of
from cases.models import Case, CaseEvent
from core.jobs.registry import PeriodicContext, periodic

log = logging.getLogger(__name__)
BATCH = 500


@periodic(OVERDUE_JOB, every_s=60)
async def mark_overdue(ctx: PeriodicContext) -> None:
    """Flag cases whose stage deadline passed, once per stage, and tell who answers for it."""
    # A row of a kind nobody here runs is claimed once and left to wait: lateness is rare.
    await ctx.queue.kick(await mark_overdue_now(deps_of(ctx)))


async def mark_overdue_now(deps: Deps | None = None) -> list[int]:
    """Do one pass of the overdue marker; return the ids of the outbox rows it wrote.

    Without deps (a test, a script), notices follow the default workflow.
    """
    now = timezone.now()
    running = [s for s in OPEN_STATUSES if s != CaseStatus.SUSPENDED]
    due = (
        await Case.filter(overdue=False, deadline_at__lt=now, status__in=running)
        .order_by("deadline_at")
        .limit(BATCH)
    )
    outbox_ids: list[int] = []
    marked = 0
    for case in due:
        deadline = case.deadline_at
        if deadline is None:  # not after the filter above; narrows the type
            continue
        async with in_transaction():
            # Not a status change, and not a version bump: a person's pending action stays valid.
            # Only if the same stage is still late: a person may have moved the case meanwhile.
            still_late = Case.filter(
                id=case.id, overdue=False, stage=case.stage, deadline_at=deadline
            )
            if not await still_late.update(overdue=True):
                continue  # moved on, or another worker got there first
            event = await CaseEvent.create(
                case_id=case.id,
                action=Action.OVERDUE,
                from_status=case.status,
                to_status=case.status,
                actor_kind="system",
                data={"stage": case.stage, "deadline_at": deadline.isoformat()},
            )
            marked += 1
            outbox_ids += await events.publish(case, event, deps=deps, every_row=True)
    if due:
        log.info("marked %d cases overdue", marked)
    return outbox_ids
