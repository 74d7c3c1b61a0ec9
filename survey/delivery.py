"""Asking a reporter: through their own channel first, then the others they can be reached by.

The order: the channel they reported through; another WeChat identity of the same person
(the same unionid); then by phone, an agent's callback task or an SMS as the city chose.
A 小程序 reporter without a subscribe authorisation left is asked through the next one.
Reminders go the way the first ask went; nothing is sent in the quiet hours.
"""

from __future__ import annotations

import datetime as dt
import logging

from cases import deps_of
from core.auth.models import Citizen
from core.jobs import outbox
from core.jobs.registry import JobContext, RetryAfter
from core.messaging import Invitation, Purpose, Reach, messengers
from survey import messages, tokens
from survey.const import ASK, EXPIRE, Attempt, SurveyStatus, Via
from survey.deps import SurveyDeps, survey_of
from survey.models import Survey, SurveyAttempt
from survey.timing import expiry, next_reminder, out_of_quiet

log = logging.getLogger(__name__)
REVIEW_VIEW_DAYS = 30  # an answered survey's link shows the centre's decision this long


async def ask(ctx: JobContext, survey_id: int) -> None:
    """Send one survey's first ask or next reminder, if it is still open and due."""
    deps, now = survey_of(ctx.runtime), deps_of(ctx).now()
    survey = await Survey.get_or_none(id=survey_id)
    if survey is None or survey.status not in (SurveyStatus.SCHEDULED, SurveyStatus.ASKED):
        return  # answered, expired or voided meanwhile: no reminder
    _wait_until(survey.due_at, now)
    _wait_until(out_of_quiet(now, calendar=deps.calendar, profile=deps.profile), now)
    reminder = survey.asks > 0
    if reminder and (survey.via == Via.CALLBACK or survey.asks > deps.profile.reminders):
        return
    if survey.expires_at is not None and now >= survey.expires_at:
        return
    expires_at = survey.expires_at or expiry(now, profile=deps.profile)
    via = await _reach(ctx, deps, survey, expires_at, reminder=reminder)
    if via is None:
        if not reminder:
            await Survey.filter(id=survey.id, status=SurveyStatus.SCHEDULED).update(
                status=SurveyStatus.UNREACHABLE
            )
        return
    await _asked(ctx, deps, survey, via, now, expires_at)


def _wait_until(at: dt.datetime, now: dt.datetime) -> None:
    if at > now:
        # Not a failure: the row comes back then (a quiet night, a clock that runs behind).
        raise RetryAfter((at - now).total_seconds(), "survey not due yet", counts=False)


async def _asked(
    ctx: JobContext,
    deps: SurveyDeps,
    survey: Survey,
    via: str,
    now: dt.datetime,
    expires_at: dt.datetime,
) -> None:
    asks = survey.asks + 1
    changes: dict[str, object] = {
        "asks": asks,
        "via": via,
        "status": SurveyStatus.ASKED,
        "expires_at": expires_at,
    }
    if survey.asks == 0:
        changes["asked_at"] = now
    reminder_at = next_reminder(now, calendar=deps.calendar, profile=deps.profile)
    more = via != Via.CALLBACK and asks <= deps.profile.reminders and reminder_at < expires_at
    if more:
        changes["due_at"] = reminder_at
    # Only if nobody answered meanwhile (an answer is never written over by a reminder).
    open_now = [SurveyStatus.SCHEDULED, SurveyStatus.ASKED]
    if not await Survey.filter(id=survey.id, asks=survey.asks, status__in=open_now).update(
        **changes
    ):
        return
    if survey.asks == 0:
        # Due only at expiry: the sweeper queues it then (as it does the reminders).
        await outbox.add(EXPIRE, {"survey_id": survey.id}, delay_s=_s(expires_at - now))
    if more:
        await outbox.add(ASK, {"survey_id": survey.id}, delay_s=_s(reminder_at - now))


def _s(delta: dt.timedelta) -> float:
    return max(0.0, delta.total_seconds())


async def _reach(
    ctx: JobContext, deps: SurveyDeps, survey: Survey, expires_at: dt.datetime, *, reminder: bool
) -> str | None:
    """Try the ways to this reporter in order; the first that sends wins."""
    citizen = await Citizen.get(id=survey.citizen_id)
    ways = (
        [survey.via]
        if reminder and survey.via
        else await ways_to(citizen, survey, deps, set(messengers(ctx.runtime)))
    )
    token = _token(deps, survey, expires_at)
    purpose = Purpose.SURVEY_REMINDER if reminder else Purpose.SURVEY
    for way in ways:
        reach, detail = await _try(ctx, deps, survey, citizen, way, token, purpose)
        await _record(ctx, survey, way, reach, detail, reminder=reminder)
        if reach == Reach.SENT:
            return way
    return None


def _token(deps: SurveyDeps, survey: Survey, from_: dt.datetime) -> str:
    """A survey's link token, good for showing the outcome some time after `from_`."""
    until = from_ + dt.timedelta(days=REVIEW_VIEW_DAYS)
    return tokens.make(
        deps.signing_key(), survey_id=survey.id, nonce=survey.nonce, expires_at=until
    )


async def ways_to(
    citizen: Citizen, survey: Survey, deps: SurveyDeps, channels: set[str]
) -> list[str]:
    """The ways to try for a reporter, their own channel first (`channels`: those with a
    messenger in this process)."""
    ways = [survey.source, citizen.channel]
    if citizen.union_id:
        others = await Citizen.filter(union_id=citizen.union_id).exclude(id=citizen.id)
        ways += sorted(c.channel for c in others)
    ways = [w for i, w in enumerate(ways) if w in channels and w not in ways[:i]]
    if phone_of(citizen):
        ways.append(Via.CALLBACK if deps.profile.by_phone == "callback" else Via.SMS)
    return ways


def phone_of(citizen: Citizen) -> str | None:
    """A number to call or text: the one they gave, or the one they called from."""
    if citizen.phone:
        return citizen.phone
    if citizen.channel == "hotline" and citizen.external_id.lstrip("+").isdigit():
        return citizen.external_id
    return None


async def _try(
    ctx: JobContext,
    deps: SurveyDeps,
    survey: Survey,
    citizen: Citizen,
    way: str,
    token: str,
    purpose: Purpose,
) -> tuple[Reach, str]:
    if way == Via.CALLBACK:
        return Reach.SENT, "已生成回访电话任务"
    questions = deps.profile.wording(survey.questions_key)
    text = messages.invitation(questions, survey.number, reminder=purpose != Purpose.SURVEY)
    if way == Via.SMS:
        return await _sms(ctx, deps, citizen, text, token, key=f"survey-{survey.id}-{survey.asks}")
    return await _send(ctx, deps, survey, citizen, way, token, text, purpose, questions.title)


async def _sms(
    ctx: JobContext, deps: SurveyDeps, citizen: Citizen, text: str, token: str, *, key: str
) -> tuple[Reach, str]:
    """Through the city's SMS provider, with the link."""
    phone = phone_of(citizen)
    if phone is None:
        return Reach.UNREACHABLE, "无手机号"
    return await deps.sms.send(
        ctx, phone=phone, text=messages.sms(text, deps.answer_url(token)), key=key
    )


async def _send(
    ctx: JobContext,
    deps: SurveyDeps,
    survey: Survey,
    citizen: Citizen,
    way: str,
    token: str,
    text: str,
    purpose: Purpose = Purpose.SURVEY_REVIEW,
    title: str = "回访结果",
) -> tuple[Reach, str]:
    """Through a channel's messenger, to the person's identity in that channel."""
    messenger = messengers(ctx.runtime).get(way)
    if messenger is None:
        return Reach.UNREACHABLE, f"渠道 {way} 未启用"
    target = citizen.id if way == citizen.channel else await _identity(citizen, way)
    if target is None:
        return Reach.UNREACHABLE, "该渠道无此市民"
    invitation = Invitation(
        key=f"survey-{survey.id}-{purpose.value}-{survey.asks}",
        citizen_id=target,
        case_id=survey.case_id,
        purpose=purpose,
        number=survey.number,
        title=title,
        text=text,
        url=deps.answer_url(token),
        mp_page=deps.config.mp_page.format(token=token),
    )
    return await messenger.invite(ctx, invitation)


async def _identity(citizen: Citizen, channel: str) -> int | None:
    if not citizen.union_id:
        return None
    other = await Citizen.filter(union_id=citizen.union_id, channel=channel).first()
    return other.id if other else None


async def expire(ctx: JobContext, survey_id: int) -> None:
    """An unanswered survey past its expiry counts as 未回访."""
    now = deps_of(ctx).now()
    survey = await Survey.get_or_none(id=survey_id)
    if survey is None or survey.status != SurveyStatus.ASKED or survey.expires_at is None:
        return
    _wait_until(survey.expires_at, now)
    await Survey.filter(id=survey.id, status=SurveyStatus.ASKED).update(status=SurveyStatus.EXPIRED)


async def tell_review(ctx: JobContext, survey_id: int) -> None:
    """Tell a reporter why their 不满意 does not reopen the case, the way they were asked."""
    deps = survey_of(ctx.runtime)
    survey = await Survey.get_or_none(id=survey_id)
    if survey is None or survey.via in (None, Via.CALLBACK):
        return  # an agent told them on the phone; the page shows it too
    citizen = await Citizen.get(id=survey.citizen_id)
    text = messages.review(survey.number, survey.review_reason)
    token = _token(deps, survey, deps_of(ctx).now())
    if survey.via == Via.SMS:
        reach, detail = await _sms(
            ctx, deps, citizen, text, token, key=f"survey-{survey.id}-review"
        )
    else:
        reach, detail = await _send(ctx, deps, survey, citizen, survey.via, token, text)
    await _record(ctx, survey, survey.via, reach, "研判结果：" + detail)


async def _record(
    ctx: JobContext, survey: Survey, via: str, reach: Reach, detail: str, *, reminder: bool = False
) -> None:
    """One row of the audit trail: which way, whether it went, why not."""
    await SurveyAttempt.create(
        survey_id=survey.id,
        outbox_id=ctx.outbox_id,
        via=via,
        reminder=reminder,
        outcome=Attempt.SENT if reach == Reach.SENT else Attempt.UNREACHABLE,
        detail=detail[:200],
    )
