"""Surveys made and voided by case moves: one per citizen reporter after each 结案."""

from __future__ import annotations

import datetime as dt
import logging
import secrets

from cases import CaseEventPayload, case_view, citizen_reporters, deps_of
from core.jobs import outbox
from core.jobs.registry import JobContext
from survey.const import ASK, NONCE_BYTES, OPEN_STATUSES, Review, SurveyStatus
from survey.deps import survey_of
from survey.models import Survey
from survey.timing import first_ask

log = logging.getLogger(__name__)


async def schedule(ctx: JobContext, event: CaseEventPayload) -> list[Survey]:
    """Make the surveys of a 结案: each citizen reporter once (merged duplicates' reporters
    too), except those who asked not to be contacted; staff and cameras are no citizens."""
    deps, now = survey_of(ctx.runtime), deps_of(ctx).now()
    view = await case_view(event.case_id, viewer=None, deps=deps_of(ctx))
    closed_at = view.closed_at or event.at
    due = first_ask(closed_at, calendar=deps.calendar, profile=deps.profile)
    made, seen = [], set()
    for reporter in await citizen_reporters(event.case_id):
        if reporter.no_callback or reporter.citizen_id in seen:
            continue
        seen.add(reporter.citizen_id)
        key, _ = deps.profile.questions_for(
            category_code=event.category_code, source=reporter.source.value
        )
        survey, created = await Survey.get_or_create(
            report_id=reporter.report_id,
            close_event_id=event.event_id,
            defaults={
                "case_id": event.case_id,
                "citizen_id": reporter.citizen_id,
                "number": event.number or view.number or "",
                "source": reporter.source.value,
                "category_code": event.category_code,
                "category_name": view.category_name,
                "department_id": event.department_id,
                "grid_id": event.grid_id,
                "questions_key": key,
                "closed_at": closed_at,
                "due_at": due,
                "nonce": secrets.token_hex(NONCE_BYTES),
            },
        )
        if created:
            item = await outbox.add(ASK, {"survey_id": survey.id}, delay_s=_seconds(due - now))
            ctx.kick_after_commit(outbox.kickable(item) if due <= now else [])
            made.append(survey)
    return made


def _seconds(delta: dt.timedelta) -> float:
    return max(0.0, delta.total_seconds())


async def void(event: CaseEventPayload) -> int:
    """A 重办 voids the case's open surveys (a new one follows the next 结案), and links a
    justified 不满意 to the timeline row that reopened the case."""
    voided = await Survey.filter(case_id=event.case_id, status__in=list(OPEN_STATUSES)).update(
        status=SurveyStatus.VOIDED
    )
    await Survey.filter(
        case_id=event.case_id, review=Review.JUSTIFIED, reopen_event_id__isnull=True
    ).update(reopen_event_id=event.event_id)
    if voided:
        log.info("case %s reopened: %d open survey(s) voided", event.case_id, voided)
    return voided
