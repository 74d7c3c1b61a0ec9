"""The survey's subscribers (结案 makes surveys, 重办 voids them) and its outbox jobs."""

from __future__ import annotations

from typing import Any

from cases import Action, CaseEventPayload, on
from core.jobs.registry import JobContext, job
from survey import delivery, service
from survey.const import ASK, EXPIRE, TELL_REVIEW


@on(Action.CLOSE, name="survey.schedule")
async def schedule(ctx: JobContext, event: CaseEventPayload) -> None:
    """A 结案: one survey per citizen reporter, asked the next working day."""
    await service.schedule(ctx, event)


@on(Action.REOPEN, name="survey.void")
async def void(ctx: JobContext, event: CaseEventPayload) -> None:
    """A 重办: the case's open surveys are void (the next 结案 makes new ones)."""
    await service.void(event)


@job(ASK)
async def ask(ctx: JobContext, payload: dict[str, Any]) -> None:
    """The first ask or a reminder of one survey."""
    await delivery.ask(ctx, int(payload["survey_id"]))


@job(EXPIRE)
async def expire(ctx: JobContext, payload: dict[str, Any]) -> None:
    """No answer in time: 未回访."""
    await delivery.expire(ctx, int(payload["survey_id"]))


@job(TELL_REVIEW)
async def tell_review(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Tell the reporter the centre's decision on their 不满意."""
    await delivery.tell_review(ctx, int(payload["survey_id"]))
