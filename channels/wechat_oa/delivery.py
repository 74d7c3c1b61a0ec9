"""Telling a citizen of their case: a template message, else a 客服消息 in the 48-hour window.

Each notice (an outbox row notify.wechat_oa) ends in one Delivery row: sent, undeliverable
(WeChat says it can never reach them: unsubscribed, blocked, a bad openid or template), or
skipped (no template for the move and the window closed). A quota error waits for the
quota without using up attempts; timeouts, 5xx and 系统繁忙 retry with the outbox back-off.
"""

from __future__ import annotations

import datetime as dt
import logging

from tortoise import timezone

from cases import (
    Action,
    CaseView,
    ReporterNotice,
    case_view,
    citizen_viewer,
    deps_of,
)
from channels.wechat import WeChatError
from channels.wechat.const import QUOTA, UNREACHABLE
from channels.wechat.templates import Template, invitation_values, notice_values
from channels.wechat_oa import messages
from channels.wechat_oa.account import OfficialAccount, account_of
from channels.wechat_oa.const import CUSTOM_WINDOW_S, DeliveryStatus
from channels.wechat_oa.models import Delivery, Follower
from core.jobs.registry import JobContext, RetryAfter
from core.messaging import Invitation, Reach

log = logging.getLogger(__name__)
QUOTA_WAIT_S = 3600  # a daily quota comes back at midnight; look again every hour


async def notify(ctx: JobContext, notice: ReporterNotice) -> None:
    """Tell one citizen of one move of their case (idempotent on the notice)."""
    if await Delivery.filter(outbox_id=ctx.outbox_id).exists():
        return
    account = account_of(ctx.runtime)
    follower = await Follower.get_or_none(citizen_id=notice.citizen_id)
    if follower is None or not follower.subscribed:
        why = "市民已取消关注" if follower else "市民未关注本公众号"
        await _record(ctx, notice, "none", DeliveryStatus.UNDELIVERABLE, 43004, why)
        return
    view = await case_view(
        notice.case_id, viewer=citizen_viewer(notice.citizen_id), deps=deps_of(ctx)
    )
    window = _window_open(follower)
    template = account.profile.template_for(notice.action.value)
    if notice.action == Action.MESSAGE and window:
        template = None  # the centre's own words read best as a message of their own
    try:
        if template is not None:
            await _send_template(ctx, account, follower.openid, template, view, notice)
            await _record(ctx, notice, "template", DeliveryStatus.SENT)
        elif window:
            text = messages.progress(view, notice.action, notice.status, notice.text)
            await account.client(ctx.runtime).send_text(follower.openid, text)
            await _record(ctx, notice, "custom", DeliveryStatus.SENT)
        else:
            await _record(ctx, notice, "none", DeliveryStatus.SKIPPED, None, "无模板且超过48小时")
    except WeChatError as err:
        await _failed(ctx, notice, follower, err)


async def _failed(
    ctx: JobContext, notice: ReporterNotice, follower: Follower, err: WeChatError
) -> None:
    if err.errcode in UNREACHABLE:
        if err.errcode == 43004:
            await Follower.filter(id=follower.id).update(subscribed=False)
        await _record(ctx, notice, "none", DeliveryStatus.UNDELIVERABLE, err.errcode, err.errmsg)
        return
    if err.errcode in QUOTA:
        raise RetryAfter(QUOTA_WAIT_S, f"WeChat quota {err.errcode}", counts=False) from err
    raise err  # busy, 5xx, a timeout: the outbox tries again later


def _window_open(follower: Follower) -> bool:
    last = follower.last_inbound_at
    return last is not None and timezone.now() - last < dt.timedelta(seconds=CUSTOM_WINDOW_S)


async def _send_template(
    ctx: JobContext,
    account: OfficialAccount,
    openid: str,
    template: Template,
    view: CaseView,
    notice: ReporterNotice,
) -> None:
    values = notice_values(view, notice, city=ctx.settings.profile.name)
    data = template.filled(values)
    await account.client(ctx.runtime).send_template(
        openid,
        template.template_id,
        data,
        url=account.case_link(notice.case_id, notice.citizen_id),
        client_msg_id=f"cityloop-{ctx.outbox_id}",
    )


async def _record(
    ctx: JobContext,
    notice: ReporterNotice,
    kind: str,
    status: DeliveryStatus,
    errcode: int | None = None,
    detail: str = "",
) -> None:
    await Delivery.create(
        outbox_id=ctx.outbox_id,
        case_id=notice.case_id,
        citizen_id=notice.citizen_id,
        action=notice.action.value,
        kind=kind,
        status=status,
        errcode=errcode,
        detail=detail[:200],
    )
    if status != DeliveryStatus.SENT:
        log.info("notice %s of case %s: %s (%s)", ctx.outbox_id, notice.case_id, status, errcode)


async def invite(ctx: JobContext, invitation: Invitation) -> tuple[Reach, str]:
    """Send an invitation with its link (a 回访): its template, else a 客服消息 in the window."""
    account = account_of(ctx.runtime)
    follower = await Follower.get_or_none(citizen_id=invitation.citizen_id)
    if follower is None or not follower.subscribed:
        return Reach.UNREACHABLE, "市民已取消关注" if follower else "市民未关注本公众号"
    template = account.profile.template_for_purpose(invitation.purpose)
    client = account.client(ctx.runtime)
    try:
        if template is not None:
            values = invitation_values(invitation, city=ctx.settings.profile.name)
            await client.send_template(
                follower.openid,
                template.template_id,
                template.filled(values),
                url=invitation.url,
                client_msg_id=f"cityloop-{invitation.key}",
            )
            return Reach.SENT, "公众号模板消息"
        if _window_open(follower):
            await client.send_text(follower.openid, messages.invitation(invitation))
            return Reach.SENT, "公众号客服消息"
        return Reach.UNREACHABLE, "无回访模板且超过48小时"
    except WeChatError as err:
        if err.errcode in UNREACHABLE:
            if err.errcode == 43004:
                await Follower.filter(id=follower.id).update(subscribed=False)
            return Reach.UNREACHABLE, f"微信：{err.errcode} {err.errmsg}"
        if err.errcode in QUOTA:
            raise RetryAfter(QUOTA_WAIT_S, f"WeChat quota {err.errcode}", counts=False) from err
        raise
