"""The plug-in's jobs: effects are outbox rows of kind testplugin.effect (never run)."""

from __future__ import annotations

import datetime as dt

from tortoise import timezone

from cases import Action, CaseEventPayload, on
from core.jobs.models import OutboxItem
from core.jobs.registry import JobContext, PeriodicContext, periodic

EFFECT = "testplugin.effect"


async def _effect(what: str, **payload: object) -> None:
    # Far in the future and of a kind nobody runs: the row only counts what happened.
    await OutboxItem.create(
        kind=EFFECT,
        payload={"what": what, **payload},
        available_at=timezone.now() + dt.timedelta(days=365),
    )


@on(Action.CLOSE, name="testplugin.on_close")
async def on_close(ctx: JobContext, event: CaseEventPayload) -> None:
    """Record each closure once (the write commits together with the row's done)."""
    await _effect("closed", case_id=event.case_id, event_id=event.event_id, outbox=ctx.outbox_id)


@on(Action.CLOSE, name="testplugin.flaky")
async def flaky(ctx: JobContext, event: CaseEventPayload) -> None:
    """Always fail, as a subscriber whose upstream is down would."""
    await _effect("flaky-attempt", case_id=event.case_id)  # rolled back with the failure
    raise RuntimeError("upstream said 503")


@periodic("testplugin.tick", every_s=1)
async def tick(ctx: PeriodicContext) -> None:
    """Note that the periodic job ran (once a second)."""
    await ctx.runtime.kv.set("testplugin:tick", timezone.now().isoformat(), ttl_s=600)
