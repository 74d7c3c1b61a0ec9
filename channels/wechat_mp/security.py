"""WeChat's content security (内容安全, v2), when CITYLOOP_WECHAT_MP_CONTENT_CHECK is on.

Text is checked before filing: risky text is refused and nothing is filed. Photos go to the
asynchronous image check after filing (a job); WeChat pushes the verdict to POST /wechat/mp,
and a risky photo flags the report for a person. WeChat being down never blocks a report: it is
filed and flagged `unchecked`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from channels.wechat import WeChatError
from channels.wechat_mp.const import Check
from channels.wechat_mp.models import MediaCheck, MpReport, Session
from core.auth.service import Principal
from core.errors import ValidationFailed
from core.runtime import Runtime

if TYPE_CHECKING:
    from channels.wechat_mp.account import MiniProgram
    from channels.wechat_mp.schemas import MpReportIn

log = logging.getLogger(__name__)


async def openid_of(citizen_id: int) -> str | None:
    """The 小程序 openid of a citizen (from their login)."""
    session = await Session.get_or_none(citizen_id=citizen_id)
    return session.openid if session else None


async def check_text(
    body: MpReportIn, who: Principal, program: MiniProgram, runtime: Runtime
) -> str:
    """WeChat's verdict on the report's words; refuse risky ones (422 content_risky)."""
    text = "\n".join(t for t in (body.description.strip(), body.address.strip()) if t)
    if not program.config.content_check or not text:
        return Check.PASS
    openid = await openid_of(who.id)
    if openid is None:
        return Check.UNCHECKED
    try:
        suggest = await program.client(runtime).text_check(openid, text[:2500])
    except WeChatError as err:  # down, or refusing: file it, and a person looks
        log.warning("text check not available (WeChat error %s): filed unchecked", err.errcode)
        return Check.UNCHECKED
    if suggest == Check.RISKY:
        raise ValidationFailed(
            "text judged risky",
            code="content_risky",
            message="内容含有不宜发布的信息，请修改后再提交",
            extra={"fields": [{"field": "description", "message": "内容未通过安全检测"}]},
        )
    return str(suggest)


async def media_verdict(payload: dict[str, Any]) -> bool:
    """Apply a pushed wxa_media_check result to its report; tell whether it was ours."""
    result = payload.get("result")
    suggest = result.get("suggest") if isinstance(result, dict) else None
    check = await MediaCheck.get_or_none(trace_id=str(payload.get("trace_id") or "")[:128])
    if check is None or suggest not in ("pass", "review", "risky"):
        return False
    await MediaCheck.filter(id=check.id).update(suggest=suggest)
    rows = await MediaCheck.filter(report_id=check.report_id).values_list("suggest", flat=True)
    verdicts: list[str | None] = [None if v is None else str(v) for v in rows]
    worst = next((v for v in ("risky", "review") if v in verdicts), None)
    if worst is not None:
        label = result.get("label", "") if isinstance(result, dict) else ""
        await MpReport.filter(id=check.report_id).update(
            check=Check(worst), check_detail=f"图片内容安全：{worst} {label}"[:200]
        )
    elif None not in verdicts:
        await MpReport.filter(id=check.report_id, check=Check.PENDING).update(check=Check.PASS)
    return True
