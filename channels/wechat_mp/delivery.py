"""Telling a 小程序 citizen of their case: a subscribe message, only while they allowed one.

One-off subscriptions (一次性订阅) allow one message each: the quota row is spent in the same
transaction as the send's record, so a failed send gives it back. A move without a template or
without quota is recorded on the notice (`wechat_mp_delivery`), never sent anyway.
"""

from __future__ import annotations

from tortoise.expressions import F

from cases import ReporterNotice, case_view, citizen_viewer, deps_of
from channels.wechat import WeChatError
from channels.wechat.const import QUOTA, UNREACHABLE
from channels.wechat.templates import invitation_values, notice_values
from channels.wechat_mp.account import program_of
from channels.wechat_mp.const import REFUSED, Delivered
from channels.wechat_mp.models import MpDelivery, Quota
from channels.wechat_mp.security import openid_of
from core.jobs.registry import JobContext, RetryAfter
from core.messaging import Invitation, Reach

QUOTA_WAIT_S = 3600


async def notify(ctx: JobContext, notice: ReporterNotice) -> None:
    """Tell one citizen of one move through a subscribe message (idempotent on the notice)."""
    if await MpDelivery.filter(outbox_id=ctx.outbox_id).exists():
        return
    program = program_of(ctx.runtime)
    template = program.profile.template_for(notice.action.value)
    openid = await openid_of(notice.citizen_id)
    if template is None or openid is None:
        why = "无订阅消息模板" if template is None else "市民未登录小程序"
        await _record(ctx, notice, Delivered.SKIPPED, None, why)
        return
    if not await _spend(notice.citizen_id, template.template_id):
        await _record(ctx, notice, Delivered.NO_QUOTA, None, "市民未授权（或已用完）订阅消息")
        return
    view = await case_view(
        notice.case_id, viewer=citizen_viewer(notice.citizen_id), deps=deps_of(ctx)
    )
    values = notice_values(view, notice, city=ctx.settings.profile.name)
    try:
        await program.client(ctx.runtime).send_subscribe(
            openid,
            template.template_id,
            template.filled(values),
            page=template.page.format(case_id=notice.case_id),
            state=program.config.state,
        )
    except WeChatError as err:
        if err.errcode == REFUSED or err.errcode in UNREACHABLE:
            await Quota.filter(
                citizen_id=notice.citizen_id, template_id=template.template_id
            ).update(remaining=0, long_term=False)
            await _record(ctx, notice, Delivered.UNDELIVERABLE, err.errcode, err.errmsg)
            return
        if err.errcode in QUOTA:
            raise RetryAfter(QUOTA_WAIT_S, f"WeChat quota {err.errcode}", counts=False) from err
        raise  # busy, 5xx, timeouts: retried, and the spent quota comes back with the rollback
    await _record(ctx, notice, Delivered.SENT)


async def _spend(citizen_id: int, template_id: str) -> bool:
    """Use one authorisation (a long-term one is not used up)."""
    mine = Quota.filter(citizen_id=citizen_id, template_id=template_id)
    if await mine.filter(long_term=True).exists():
        return True
    return bool(await mine.filter(remaining__gt=0).update(remaining=F("remaining") - 1))


async def _record(
    ctx: JobContext,
    notice: ReporterNotice,
    status: Delivered,
    errcode: int | None = None,
    detail: str = "",
) -> None:
    await MpDelivery.create(
        outbox_id=ctx.outbox_id,
        case_id=notice.case_id,
        citizen_id=notice.citizen_id,
        action=notice.action.value,
        status=status,
        errcode=errcode,
        detail=detail[:200],
    )


async def invite(ctx: JobContext, invitation: Invitation) -> tuple[Reach, str]:
    """Send an invitation (a 回访) as a subscribe message, only while one is allowed: with
    no template or no authorisation left the caller tries the reporter's next channel."""
    program = program_of(ctx.runtime)
    template = program.profile.template_for_purpose(invitation.purpose)
    openid = await openid_of(invitation.citizen_id)
    if template is None or openid is None:
        return Reach.UNREACHABLE, "无回访订阅消息模板" if template is None else "市民未登录小程序"
    if not await _spend(invitation.citizen_id, template.template_id):
        return Reach.UNREACHABLE, "市民未授权（或已用完）回访订阅消息"
    values = invitation_values(invitation, city=ctx.settings.profile.name)
    try:
        await program.client(ctx.runtime).send_subscribe(
            openid,
            template.template_id,
            template.filled(values),
            page=invitation.mp_page or None,
            state=program.config.state,
        )
    except WeChatError as err:
        if err.errcode == REFUSED or err.errcode in UNREACHABLE:
            await Quota.filter(
                citizen_id=invitation.citizen_id, template_id=template.template_id
            ).update(remaining=0, long_term=False)
            return Reach.UNREACHABLE, f"微信：{err.errcode} {err.errmsg}"
        if err.errcode in QUOTA:
            raise RetryAfter(QUOTA_WAIT_S, f"WeChat quota {err.errcode}", counts=False) from err
        raise  # retried; the spent authorisation comes back with the rollback
    return Reach.SENT, "小程序订阅消息"
