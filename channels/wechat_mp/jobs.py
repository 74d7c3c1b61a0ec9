"""The 小程序's jobs: notices by subscribe message, photos to the async content check."""

from __future__ import annotations

import logging
from typing import Any

from channels.base import notify_job
from channels.wechat import WeChatError, WeChatUnavailable
from channels.wechat_mp import CHANNEL_OBJECT
from channels.wechat_mp.account import program_of
from channels.wechat_mp.const import MEDIA_CHECK, Check
from channels.wechat_mp.models import MediaCheck, MpReport
from channels.wechat_mp.security import openid_of
from core.jobs.registry import JobContext, job
from core.media.models import MediaObject
from core.media.service import public_url

log = logging.getLogger(__name__)

job(f"notify.{CHANNEL_OBJECT.name}")(notify_job(CHANNEL_OBJECT))


@job(MEDIA_CHECK)
async def media_check(ctx: JobContext, payload: dict[str, Any]) -> None:
    """Send a report's photos (their public copies) to WeChat's async image check."""
    program = program_of(ctx.runtime)
    report = await MpReport.get_or_none(id=int(payload["report_id"]))
    if report is None or report.check != Check.PENDING:
        return
    openid = await openid_of(report.citizen_id)
    media = await MediaObject.filter(id__in=[int(i) for i in payload["media_ids"]])
    if openid is None or not media:
        await MpReport.filter(id=report.id).update(check=Check.PASS)
        return
    last_try = ctx.attempt >= ctx.settings.job_max_attempts
    client = program.client(ctx.runtime)
    try:
        for m in media:
            url = program.base_url + public_url(m.public_token, m.public_ext)
            trace = await client.media_check(openid, url)
            if trace:
                await MediaCheck.get_or_create(
                    trace_id=trace[:128], defaults={"report_id": report.id}
                )
    except WeChatUnavailable:
        if not last_try:
            raise
        await MpReport.filter(id=report.id).update(check=Check.UNCHECKED)
    except WeChatError as err:
        log.warning("image check refused (WeChat error %s): report flagged", err.errcode)
        await MpReport.filter(id=report.id).update(
            check=Check.UNCHECKED, check_detail=f"图片未能送检：{err.errcode}"
        )
