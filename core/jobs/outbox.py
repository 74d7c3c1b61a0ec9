"""Writing outbox rows and running them exactly once in effect."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from tortoise import timezone
from tortoise.expressions import F, Q
from tortoise.transactions import in_transaction

from core.jobs.models import OutboxItem, OutboxStatus
from core.jobs.registry import JobContext, RetryAfter, handler_for, registered

log = logging.getLogger(__name__)
# With the defaults (10 attempts, 5 s doubling, at most 1 h a wait) about 2.5 hours of
# back-off in all; then the row is failed and a person looks (GET /api/v1/outbox).
MAX_BACKOFF_S = 3600
HANDLER_WAIT_S = 600  # a row whose handler is not loaded here is looked at again this late


async def add(kind: str, payload: dict[str, Any], *, delay_s: float = 0) -> OutboxItem:
    """Write an outbox row (inside the caller's transaction, if any); kick it after commit."""
    return await OutboxItem.create(
        kind=kind,
        payload=payload,
        available_at=timezone.now() + dt.timedelta(seconds=delay_s),
    )


def kickable(item: OutboxItem) -> list[int]:
    """The row's id to kick after commit, if some handler here runs its kind; else none.

    A row nobody here can run (a channel not installed yet) just waits in the table: kicking
    it would only cost a claim and a release per row.
    """
    return [item.id] if handler_for(item.kind) is not None else []


async def claim(outbox_id: int, *, lease_s: int) -> OutboxItem | None:
    """Take a row for this runner until the lease ends; None if done or held by another."""
    now = timezone.now()
    free = Q(status=OutboxStatus.PENDING) | Q(status=OutboxStatus.RUNNING, claimed_until__lt=now)
    taken = await OutboxItem.filter(free, id=outbox_id, available_at__lte=now).update(
        status=OutboxStatus.RUNNING,
        claimed_until=now + dt.timedelta(seconds=lease_s),
        attempts=F("attempts") + 1,
    )
    if not taken:
        return None
    return await OutboxItem.get(id=outbox_id)


async def run_item(outbox_id: int, *, context: JobContext, lease_s: int) -> str:
    """Run one outbox row: claim it, run its handler and mark it done in one transaction."""
    item = await claim(outbox_id, lease_s=lease_s)
    if item is None:
        return "skipped"
    handler = handler_for(item.kind)
    if handler is None:
        await _wait_for_handler(item)
        return "waiting"
    ctx = JobContext(context.runtime, item.id, item.attempts)
    try:
        # The handler's own writes commit together with DONE: a crash before commit leaves
        # neither, and the row is run again once its lease ends.
        async with in_transaction():
            await handler(ctx, item.payload)
            marked = await OutboxItem.filter(
                id=item.id, status=OutboxStatus.RUNNING, attempts=item.attempts
            ).update(status=OutboxStatus.DONE, done_at=timezone.now(), last_error=None)
            if not marked:
                raise LeaseLost(f"outbox {item.id} was taken over by another runner")
    except LeaseLost:
        log.warning("outbox %s lease lost; the other runner finishes it", item.id)
        return "lost"
    except RetryAfter as wait:
        log.info("outbox %s (%s) waits %ss: %s", item.id, item.kind, wait.delay_s, wait.reason)
        final = wait.counts and item.attempts >= context.settings.job_max_attempts
        await _fail(item, wait.reason, final=final, wait=wait.delay_s, counts=wait.counts)
        return "retry"
    except Exception as err:
        log.warning("outbox %s (%s) attempt %s failed: %r", item.id, item.kind, item.attempts, err)
        ctx.after_commit.clear()
        settings = context.settings
        backoff = min(2**item.attempts * settings.job_retry_base_s, MAX_BACKOFF_S)
        await _fail(item, repr(err), final=item.attempts >= settings.job_max_attempts, wait=backoff)
        return "retry"
    await _kick(ctx)
    return "done"


async def _kick(ctx: JobContext) -> None:
    queue = ctx.runtime.queue
    if not ctx.after_commit or queue is None:
        return
    try:
        await queue.kick(ctx.after_commit)
    except Exception:
        # Committed rows: the sweeper queues them.
        log.exception("could not queue outbox rows %s; the sweeper will", ctx.after_commit)


class LeaseLost(Exception):
    """Another runner claimed the row after our lease expired."""


async def _wait_for_handler(item: OutboxItem) -> None:
    # Rows for a channel that is not installed yet wait for it: they do not use up attempts.
    await OutboxItem.filter(id=item.id, attempts=item.attempts).update(
        status=OutboxStatus.PENDING,
        attempts=item.attempts - 1,
        available_at=timezone.now() + dt.timedelta(seconds=HANDLER_WAIT_S),
        claimed_until=None,
        last_error=f"no handler registered for {item.kind!r} in this process",
    )


async def _fail(
    item: OutboxItem, error: str, *, final: bool, wait: float, counts: bool = True
) -> None:
    await OutboxItem.filter(id=item.id, attempts=item.attempts).update(
        status=OutboxStatus.FAILED if final else OutboxStatus.PENDING,
        attempts=item.attempts if counts else item.attempts - 1,
        available_at=timezone.now() + dt.timedelta(seconds=wait),
        claimed_until=None,
        last_error=error[:2000],
    )
    if final:
        log.error("outbox %s (%s) failed for good: %s", item.id, item.kind, error[:200])


async def due(*, stale_s: int, limit: int = 500) -> list[tuple[int, str]]:
    """List (id, turn) of rows to queue: due and not done, or lease expired (see job_id)."""
    now = timezone.now()
    # A row younger than stale_s was just kicked by its producer: leave it to that kick.
    pending = Q(status=OutboxStatus.PENDING, available_at__lte=now - dt.timedelta(seconds=stale_s))
    expired = Q(status=OutboxStatus.RUNNING, claimed_until__lt=now)
    rows = (
        await OutboxItem.filter(pending | expired, kind__in=registered() or [""])
        .order_by("id")
        .limit(limit)
        .values_list("id", "attempts", "available_at")
    )
    return [(int(i), f"{a}:{int(at.timestamp())}") for i, a, at in rows]
