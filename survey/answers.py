"""Answers: by link (once), by an agent on the phone, and the shift lead's review of 不满意."""

from __future__ import annotations

import datetime as dt

from tortoise.transactions import in_transaction

from cases import (
    Action,
    CaseChanged,
    InvalidTransition,
    NoteIn,
    deps_of,
    transition_in_transaction,
)
from core.auth.service import Principal
from core.errors import Conflict, NotFound, ValidationFailed
from core.jobs import outbox
from core.runtime import Runtime
from survey import tokens
from survey.config import Questions
from survey.const import TELL_REVIEW, Answer, Attempt, Review, SurveyStatus, Via
from survey.deps import survey_of
from survey.models import Survey, SurveyAttempt
from survey.schemas import AnswerIn, CallIn, ReviewIn


class SurveyClosed(Conflict):
    code = "survey_closed"
    message = "该回访已结束，无法再评价"


async def by_token(runtime: Runtime, token: str) -> Survey:
    """The survey a link names (BadRequest if forged, TokenExpired past its viewing time)."""
    now = deps_of(runtime).now()
    named = tokens.read(survey_of(runtime).signing_key(), token, now=now)
    survey = await Survey.get_or_none(id=named.survey_id)
    if survey is None or survey.nonce != named.nonce:
        raise tokens.invalid()
    return survey


def questions_of(runtime: Runtime, survey: Survey) -> Questions:
    """The wording the survey was made with."""
    return survey_of(runtime).profile.wording(survey.questions_key)


async def answer(
    runtime: Runtime, survey: Survey, given: AnswerIn, *, agent: Principal | None = None
) -> Survey:
    """Record the answer once: a second one is 409, a late one 410, nothing changed."""
    now = deps_of(runtime).now()
    _check_open(survey, now)
    _check_aspects(questions_of(runtime, survey), given)
    review = Review.PENDING if given.answer == Answer.UNSATISFIED else None
    changed = await Survey.filter(id=survey.id, status=SurveyStatus.ASKED).update(
        status=SurveyStatus.ANSWERED,
        answer=given.answer.value,
        aspects={k: v.value for k, v in given.aspects.items()},
        comment=given.comment,
        answered_at=now,
        answered_by_id=agent.id if agent else None,
        review=review,
    )
    fresh = await Survey.get(id=survey.id)
    if not changed:
        _check_open(fresh, now)  # someone answered first: say what happened
        raise SurveyClosed(f"survey {survey.id} is {fresh.status}")
    return fresh


def _check_open(survey: Survey, now: dt.datetime) -> None:
    if survey.status == SurveyStatus.ANSWERED:
        raise Conflict(
            f"survey {survey.id} answered",
            code="already_answered",
            message="您已评价过，感谢您的反馈",
        )
    if survey.status == SurveyStatus.EXPIRED or (
        survey.expires_at is not None and now >= survey.expires_at
    ):
        raise tokens.TokenExpired(f"survey {survey.id} expired")
    if survey.status != SurveyStatus.ASKED:
        raise SurveyClosed(f"survey {survey.id} is {survey.status}")


def _check_aspects(questions: Questions, given: AnswerIn) -> None:
    unknown = sorted(set(given.aspects) - set(questions.aspects))
    if unknown:
        raise ValidationFailed(
            f"unknown aspects {unknown}",
            code="unknown_aspect",
            message=f"没有这一评价项：{'、'.join(unknown)}",
        )
    if given.comment and not questions.comment:
        raise ValidationFailed(
            "no comment asked", code="no_comment", message="本回访不收集文字意见"
        )


async def call(runtime: Runtime, survey_id: int, given: CallIn, *, agent: Principal) -> Survey:
    """An agent's callback: the answer, or an unanswered call (the last one ends it: 未回访)."""
    survey = await Survey.get_or_none(id=survey_id, via=Via.CALLBACK)
    if survey is None:
        raise NotFound(f"no callback survey {survey_id}", message="没有这条回访电话任务")
    if given.answer is not None:
        async with in_transaction():  # the answer and the call's record, or neither
            answered = await answer(runtime, survey, given.answer, agent=agent)
            await SurveyAttempt.create(
                survey_id=survey.id,
                via=Via.CALLBACK,
                outcome=Attempt.ANSWERED,
                detail=given.note or "已接通",
                agent_id=agent.id,
            )
        return answered
    _check_open(survey, deps_of(runtime).now())
    async with in_transaction():
        await SurveyAttempt.create(
            survey_id=survey.id,
            via=Via.CALLBACK,
            outcome=Attempt.NO_ANSWER,
            detail=given.note or "未接通",
            agent_id=agent.id,
        )
        calls = await SurveyAttempt.filter(survey_id=survey.id, outcome=Attempt.NO_ANSWER).count()
        if calls >= survey_of(runtime).profile.callback_attempts:
            await Survey.filter(id=survey.id, status=SurveyStatus.ASKED).update(
                status=SurveyStatus.UNREACHABLE
            )
    return await Survey.get(id=survey.id)


async def review(runtime: Runtime, survey_id: int, given: ReviewIn, *, lead: Principal) -> Survey:
    """Decide a 不满意: justified → 重办 (the case reopens to its department); else the reason
    is kept and the reporter told."""
    deps = deps_of(runtime)
    survey = await Survey.get_or_none(id=survey_id)
    if survey is None:
        raise NotFound(f"no survey {survey_id}", message="没有这条回访")
    if survey.review != Review.PENDING:
        raise Conflict(
            f"survey {survey_id} review is {survey.review}",
            code="not_pending_review",
            message="该评价不在待研判状态（可能已处理）",
        )
    kick: list[int] = []
    async with in_transaction():
        taken = await Survey.filter(id=survey.id, review=Review.PENDING).update(
            review=Review.JUSTIFIED if given.justified else Review.UNJUSTIFIED,
            review_reason=given.reason,
            reviewed_by_id=lead.id,
            reviewed_at=deps.now(),
        )
        if not taken:
            raise Conflict(
                "review taken meanwhile", code="not_pending_review", message="该评价已被处理"
            )
        if given.justified:
            kick = await _reopen(runtime, survey, given.reason, lead)
        else:
            kick = outbox.kickable(await outbox.add(TELL_REVIEW, {"survey_id": survey.id}))
    await deps.kick(kick)
    return await Survey.get(id=survey.id)


async def _reopen(runtime: Runtime, survey: Survey, reason: str, lead: Principal) -> list[int]:
    """重办 in the caller's transaction: the decision and the reopening commit together."""
    note = f"回访不满意，研判重办：{reason}"
    try:
        _, kick = await transition_in_transaction(
            survey.case_id, Action.REOPEN, NoteIn(note=note), actor=lead, deps=deps_of(runtime)
        )
        return kick
    except (InvalidTransition, CaseChanged) as err:
        raise Conflict(
            f"case {survey.case_id} cannot be reopened: {err}",
            code="case_not_closed",
            message="案件当前不是已结案状态，无法重办",
        ) from err
