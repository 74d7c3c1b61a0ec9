"""The vision package's case-event subscribers."""

from __future__ import annotations

from cases import Action, CaseEventPayload, on
from core.jobs.registry import JobContext
from vision import recheck
from vision.const import ON_HANDLE


@on(Action.HANDLE, name=ON_HANDLE)
async def watch_again(ctx: JobContext, event: CaseEventPayload) -> None:
    """A 处置 of a camera's case: its zone is watched again (智能核查)."""
    await recheck.watch(ctx.runtime, event)
