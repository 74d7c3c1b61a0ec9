"""The 公众号's jobs: notices, photos from WeChat's media API, late submits, 客服消息, upkeep."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Iterable
from typing import Any

from tortoise import timezone

from cases import STATUS_NAMES, deps_of
from channels.base import notify_job
from channels.wechat import WeChatError, WeChatUnavailable
from channels.wechat.const import QUOTA, UNREACHABLE
from channels.wechat_oa import CHANNEL_OBJECT, drafts, messages
from channels.wechat_oa.account import OA, account_of
from channels.wechat_oa.const import (
    CHANNEL,
    FETCH_PHOTO,
    MESSAGE_KEYS_DAYS,
    PURGE,
    SEND_TEXT,
    SUBMIT_DRAFT,
    USER_INFO,
    DraftStatus,
    PhotoState,
)
from channels.wechat_oa.models import Draft, Follower, Inbound
from core.auth.service import citizen_identity
from core.errors import CityloopError
from core.jobs import outbox
from core.jobs.registry import JobContext, PeriodicContext, RetryAfter, job, periodic
from core.media.service import ingest

log = logging.getLogger(__name__)

job(f"notify.{CHANNEL_OBJECT.name}")(notify_job(CHANNEL_OBJECT))


@job(FETCH_PHOTO)
async def fetch_photo(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Fetch a photo a citizen sent into media storage, checked like any upload."""
    message = await Inbound.get_or_none(id=int(payload["inbound_id"]))
    if message is None or message.photo_state != PhotoState.PENDING or not message.media_id:
        return
    follower = await Follower.get(openid=message.openid)
    last_try = ctx.attempt >= ctx.settings.job_max_attempts
    try:
        data = (
            await account_of(ctx.runtime)
            .client(ctx.runtime)
            .download_media(message.media_id, max_bytes=ctx.settings.upload_max_bytes)
        )
        media = await ingest(
            data, settings=ctx.settings, storage=ctx.runtime.storage, citizen_id=follower.citizen_id
        )
    except WeChatUnavailable:
        if not last_try:
            raise
        reason = "微信服务暂时无法访问"
    except WeChatError as err:
        reason = "照片已过期或无效" if err.errcode != -3 else "照片过大"
    except CityloopError as err:  # refused like any upload: not an image, too big, a bomb
        if err.status >= 500:
            raise
        reason = err.message
    else:
        await Inbound.filter(id=message.id).update(
            photo_state=PhotoState.STORED, media_object_id=media.id
        )
        return
    await Inbound.filter(id=message.id).update(photo_state=PhotoState.FAILED)
    await tell(follower.openid, messages.photo_failed(reason), ctx=ctx)


@job(SUBMIT_DRAFT)
async def submit_draft(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Submit a report confirmed while its photos were being fetched; tell the number."""
    draft = await Draft.get_or_none(id=int(payload["draft_id"]))
    if draft is None or draft.status != DraftStatus.SUBMITTING:
        return
    shots = await drafts.photos(draft)
    waited = (timezone.now() - draft.updated_at).total_seconds()
    if shots.pending and waited < account_of(ctx.runtime).config.photo_wait_s:
        raise RetryAfter(2, "photos still being fetched", counts=False)
    # The case's own rows are queued once this job's transaction has committed.
    deps = dataclasses.replace(deps_of(ctx), queue=_AfterCommit(ctx))
    try:
        result = await drafts.submit_draft(draft, deps=deps, shots=shots)
    except CityloopError as err:
        if err.status >= 500:
            raise
        # Back to 确认: the citizen may add what was missing and confirm again.
        await drafts.update(draft, now=timezone.now(), ttl=_ttl(ctx), status=DraftStatus.CONFIRMING)
        await tell(draft.openid, messages.submit_failed(err.message), ctx=ctx)
        return
    number = result.case.number or str(result.case.id)
    status = STATUS_NAMES[result.case.status]
    text = messages.merged(number, status) if result.merged else messages.submitted(number, status)
    await tell(draft.openid, text, ctx=ctx)


class _AfterCommit:
    """A job queue for the case core inside a job: kicks wait for the job's commit."""

    def __init__(self, ctx: JobContext) -> None:
        self._ctx = ctx

    async def kick(self, ids: Iterable[int]) -> None:
        self._ctx.kick_after_commit(ids)

    async def close(self) -> None:
        return None


def _ttl(ctx: JobContext) -> dt.timedelta:
    return dt.timedelta(minutes=account_of(ctx.runtime).config.draft_minutes)


async def tell(openid: str, text: str, *, ctx: JobContext) -> None:
    """A 客服消息 to the citizen, as a job of its own (a failed send retries alone)."""
    row = await outbox.add(SEND_TEXT, {"openid": openid, "text": text})
    ctx.kick_after_commit([row.id])


@job(USER_INFO)
async def user_info(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Keep a new follower's unionid: the same person in the 小程序 is then one citizen."""
    openid = str(payload["openid"])
    try:
        info = await account_of(ctx.runtime).client(ctx.runtime).user_info(openid)
    except WeChatUnavailable:
        raise  # try again later
    except WeChatError as err:  # not bound to a 开放平台, unsubscribed…: no unionid, fine
        log.info("user info of a follower not available: WeChat error %s", err.errcode)
        return
    union_id = info.get("unionid")
    if isinstance(union_id, str) and union_id:
        await citizen_identity(channel=CHANNEL, external_id=openid, union_id=union_id[:128])


@job(SEND_TEXT)
async def send_text(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Send one 客服消息; a citizen who cannot be reached is logged, not retried."""
    try:
        await (
            account_of(ctx.runtime)
            .client(ctx.runtime)
            .send_text(payload["openid"], payload["text"])
        )
    except WeChatError as err:
        if err.errcode in UNREACHABLE:
            log.info("客服消息 not delivered: WeChat error %s", err.errcode)
            return
        if err.errcode in QUOTA:
            raise RetryAfter(600, f"WeChat quota {err.errcode}", counts=False) from err
        raise


@periodic(PURGE, every_s=600)
async def purge(ctx: PeriodicContext) -> None:
    """Close drafts left idle past their time (and tell the citizen); forget old message keys."""
    now = timezone.now()
    if OA not in ctx.runtime:
        return  # the 公众号 is off in this process
    minutes = ctx.runtime[OA].config.draft_minutes
    ids: list[int] = []
    for draft in await Draft.filter(status__in=list(drafts.LIVE), expires_at__lte=now).limit(500):
        try:
            await drafts.close(draft, DraftStatus.EXPIRED)
        except drafts.DraftChanged:
            continue  # the citizen wrote just now
        text = messages.expired_note(minutes).strip().strip("（）")
        row = await outbox.add(SEND_TEXT, {"openid": draft.openid, "text": text})
        ids.append(row.id)
    await Inbound.filter(created_at__lt=now - dt.timedelta(days=MESSAGE_KEYS_DAYS)).delete()
    if ids:
        await ctx.queue.kick(ids)
