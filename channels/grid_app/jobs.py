"""The field app's jobs: staff notices of the case core become messages in their people's
feeds (notify.staff); each batch of new messages wakes the streams and goes out through the
vendor transports (grid_app.push); old messages and sync answers are purged."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from tortoise import timezone

from cases import StaffNotice, case_brief, deps_of, task_of
from channels.grid_app import messages, push
from channels.grid_app.const import KEEP_DAYS, PURGE_JOB, PUSH_JOB, STAFF_NOTICE
from channels.grid_app.deps import field_of
from channels.grid_app.models import Device, PushMessage, SyncItem
from core import rows
from core.auth.const import Role
from core.auth.models import Staff
from core.jobs import outbox
from core.jobs.registry import JobContext, PeriodicContext, job, periodic

log = logging.getLogger(__name__)


async def recipients(notice: StaffNotice) -> list[int]:
    """Who carries this notice on a phone: the task's inspector, the department's handlers.
    The centre's notices are for its desks (the centre's own lists), not a phone."""
    if notice.audience == "inspector" and notice.inspector_id is not None:
        found = await Staff.filter(id=notice.inspector_id, is_active=True).values_list(
            "id", flat=True
        )
        return [int(str(i)) for i in found]
    if notice.audience == "department" and notice.department_id is not None:
        staff = await Staff.filter(department_id=notice.department_id, is_active=True).values(
            "id", "roles"
        )
        return sorted(int(r["id"]) for r in staff if Role.HANDLER.value in (r["roles"] or []))
    return []


@job(STAFF_NOTICE)
async def notify_staff(ctx: JobContext, payload: dict[str, Any]) -> None:
    """One notice: a message in each recipient's feed, then one push of them all."""
    notice = StaffNotice.model_validate(payload)
    people = await recipients(notice)
    if not people:
        return
    case = await case_brief(notice.case_id, deps_of(ctx))
    if case is None:
        return  # the case is gone (a test database, a purge): nothing to tell
    task = await task_of(notice.task_id) if notice.task_id is not None else None
    title = messages.title_of(notice)
    text = messages.text_of(notice, case, task_deadline=task.deadline_at if task else None)
    # Each person's rows locked, in order, before their messages are written: a message id is
    # then taken only after the previous one of that person committed, so a stream that sent
    # id N never meets a smaller id committing later (PostgreSQL runs jobs side by side;
    # SQLite one transaction at a time). Whole rows: tortoise drops FOR UPDATE from a
    # values_list().
    if rows.dialect(Staff) == "postgres":
        await Staff.filter(id__in=people).order_by("id").select_for_update()
    # One INSERT for all. They commit with the notice's row marked done, so a rerun after a
    # crash finds none written (the unique key says so too).
    written = [
        PushMessage(
            staff_id=staff_id,
            key=f"{ctx.outbox_id}:{staff_id}",
            kind=messages.kind_of(notice),
            case_id=notice.case_id,
            task_id=notice.task_id,
            title=title,
            text=text,
            created_at=timezone.now(),
        )
        for staff_id in people
    ]
    await rows.insert(written)
    ids = [m.id for m in written]
    # The push wakes streams and calls vendors once these rows are committed. Where nobody
    # can be listening (one process, no stream of theirs open here, no vendor), the phones
    # find the messages in their feed when they connect: no push to run.
    field = field_of(ctx.runtime)
    listening = ctx.runtime.redis is not None or field.hub.transports or field.hub.listens(people)
    if listening:
        row = await outbox.add(PUSH_JOB, {"message_ids": ids})
        ctx.kick_after_commit(outbox.kickable(row))


@job(PUSH_JOB)
async def deliver(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Committed messages: wake their people's streams, then each vendor device gets them."""
    deps = field_of(ctx.runtime)
    batch = await PushMessage.filter(id__in=list(payload.get("message_ids", []))).order_by("id")
    await push.announce(ctx.runtime, deps.hub, (m.staff_id for m in batch))
    transports = deps.hub.transports
    if not transports or not batch:
        return
    devices = await Device.filter(
        staff_id__in=sorted({m.staff_id for m in batch}),
        transport__in=sorted(transports),
        push_token__not_isnull=True,
    )
    for m in batch:
        out = push.message_out(m)
        for d in devices:
            if d.staff_id == m.staff_id and d.push_token:
                ref = push.DeviceRef(d.id, d.staff_id, d.platform, d.push_token)
                await transports[d.transport].send(ctx, ref, out)


@periodic(PURGE_JOB, every_s=6 * 3600)
async def purge(ctx: PeriodicContext) -> None:
    """Forget push messages and sync answers older than a phone could still ask about."""
    before = timezone.now() - dt.timedelta(days=KEEP_DAYS)
    gone = await PushMessage.filter(created_at__lt=before).delete()
    answers = await SyncItem.filter(created_at__lt=before).delete()
    if gone or answers:
        log.info("grid_app purge: %d push messages, %d sync answers", gone, answers)
