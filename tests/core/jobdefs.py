"""Job handlers used by the job tests, loaded through the `job_modules` setting (a plug-in)."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

from tortoise import timezone

from core.jobs.events import subscribe
from core.jobs.models import OutboxItem
from core.jobs.registry import JobContext, RetryAfter, job


@job("test.chain")
async def chain(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Write a follow-up row (the effect), then, on the first attempt only, take a while."""
    await OutboxItem.create(
        kind="test.noop",
        payload={"parent": ctx.outbox_id},
        # Far in the future: the follow-up only counts how often the effect happened.
        available_at=timezone.now() + dt.timedelta(days=365),
    )
    if marker := payload.get("marker"):
        Path(f"{marker}.{ctx.attempt}").write_text("started")
    if ctx.attempt == 1:
        await asyncio.sleep(float(payload.get("first_sleep_s", 0)))


@job("test.fail_once")
async def fail_once(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Fail on the first attempt, succeed after."""
    await OutboxItem.create(
        kind="test.noop",
        payload={"parent": ctx.outbox_id},
        available_at=timezone.now() + dt.timedelta(days=365),
    )
    if ctx.attempt == 1:
        raise RuntimeError("upstream said 502")


@job("test.noop")
async def noop(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Do nothing."""


# Two subscribers of one event (core.jobs.events): one records, one always fails. The event
# name is the tests' own, so no case event of another test ever reaches them.
@subscribe("test.happened", name="test.recorder")
async def recorder(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Record the event (the effect commits with done)."""
    await OutboxItem.create(
        kind="test.noop",
        payload={"parent": ctx.outbox_id, "seen": payload.get("n")},
        available_at=timezone.now() + dt.timedelta(days=365),
    )


@subscribe("test.happened", name="test.broken")
async def broken(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Fail every time, as a subscriber whose upstream is down would."""
    raise RuntimeError("upstream said 503")


@job("test.quota")
async def quota(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Write an effect, then wait for the other side's quota (no attempt used)."""
    await OutboxItem.create(
        kind="test.noop",
        payload={"parent": ctx.outbox_id},
        available_at=timezone.now() + dt.timedelta(days=365),
    )
    raise RetryAfter(3600, "quota spent until midnight", counts=False)


@job("test.follow_up")
async def follow_up(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Write a due row of another kind and ask for it to be queued after the commit."""
    row = await OutboxItem.create(
        kind="test.chain", payload={"parent": ctx.outbox_id}, available_at=timezone.now()
    )
    ctx.kick_after_commit([row.id])
