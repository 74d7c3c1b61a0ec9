"""The 小程序's API as plain functions: login, phone, report, my reports, nearby, quotas."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Protocol

from tortoise import timezone
from tortoise.exceptions import IntegrityError
from tortoise.expressions import F

from cases import (
    STATUS_NAMES,
    CaseQuery,
    Deps,
    IntakeDraft,
    Location,
    NearbyCase,
    Reporter,
    Source,
    case_page,
    open_near,
    submit,
)
from channels.wechat import WeChatError, WeChatUnavailable
from channels.wechat_mp import security
from channels.wechat_mp.account import MiniProgram
from channels.wechat_mp.const import (
    CHANNEL,
    CODE_INVALID,
    CODE_USED,
    MEDIA_CHECK,
    RATE_LIMITED,
    Check,
)
from channels.wechat_mp.models import MpReport, Quota, Session
from channels.wechat_mp.schemas import (
    FlaggedItem,
    FlaggedList,
    LoginOut,
    Me,
    MineItem,
    MinePage,
    MpReportIn,
    MpReportOut,
    NearbyItem,
    QuotaItem,
    QuotaList,
)
from core.auth.models import Citizen
from core.auth.service import Principal, citizen_identity, issue_token
from core.errors import BadRequest, TooManyRequests, Unavailable, ValidationFailed
from core.geo import CoordSystem, from_wgs84, to_wgs84
from core.jobs import outbox
from core.privacy import mask_phone
from core.runtime import Runtime

log = logging.getLogger(__name__)


class CaseLike(Protocol):
    """What a report answer needs of intake's case."""

    id: int
    number: str | None


async def login(code: str, *, program: MiniProgram, runtime: Runtime) -> LoginOut:
    """wx.login's code → WeChat's openid (and unionid) → the citizen → a cityloop token."""
    try:
        session = await program.client(runtime).code2session(code)
    except WeChatUnavailable as err:
        raise Unavailable(
            "jscode2session failed", message="微信服务暂时不可用，请稍后再试"
        ) from err
    except WeChatError as err:
        raise _code_error(err) from err
    openid = str(session["openid"])
    union = session.get("unionid")
    citizen = await citizen_identity(
        channel=CHANNEL,
        external_id=openid,
        union_id=union if isinstance(union, str) and union else None,
    )
    # The session_key decrypts what the page may send later; it never leaves this table.
    key = str(session.get("session_key", ""))
    updated = await Session.filter(citizen_id=citizen.id).update(openid=openid, session_key=key)
    if not updated:
        try:
            await Session.create(citizen_id=citizen.id, openid=openid, session_key=key)
        except IntegrityError:  # two logins at once: the other one wrote it
            await Session.filter(citizen_id=citizen.id).update(session_key=key)
    ttl = dt.timedelta(hours=runtime.settings.token_ttl_hours)
    token, row = await issue_token(citizen=citizen, ttl=ttl, client=CHANNEL)
    return LoginOut(token=token, expires_at=row.expires_at, me=me(citizen))


def _code_error(err: WeChatError) -> Exception:
    if err.errcode == CODE_USED:
        return BadRequest("code used", code="wx_code_used", message="登录凭证已使用，请重新登录")
    if err.errcode == RATE_LIMITED:
        return TooManyRequests("jscode2session rate", message="登录过于频繁，请稍后再试")
    if err.errcode in CODE_INVALID:
        return BadRequest(
            "code invalid", code="wx_code_invalid", message="登录凭证无效，请重新登录"
        )
    return Unavailable(f"jscode2session {err.errcode}", message="微信登录失败，请稍后再试")


def me(citizen: Citizen) -> Me:
    """The citizen as their own page shows them (the phone masked even to them)."""
    return Me(citizen_id=citizen.id, phone=mask_phone(citizen.phone))


async def bind_phone(code: str, *, who: Principal, program: MiniProgram, runtime: Runtime) -> Me:
    """getPhoneNumber's code → the phone number, kept as personal data (shown masked)."""
    try:
        info = await program.client(runtime).phone_number(code)
    except WeChatUnavailable as err:
        raise Unavailable("phone number failed", message="微信服务暂时不可用，请稍后再试") from err
    except WeChatError as err:
        raise BadRequest(
            f"phone code {err.errcode}", code="wx_code_invalid", message="手机号授权无效，请重试"
        ) from err
    phone = str(info.get("purePhoneNumber") or info.get("phoneNumber") or "")[:20]
    if not phone:
        raise Unavailable("phone_info without a number", message="未能取得手机号，请稍后再试")
    await Citizen.filter(id=who.id).update(phone=phone)
    return me(await Citizen.get(id=who.id))


async def report(
    body: MpReportIn, *, who: Principal, program: MiniProgram, runtime: Runtime, deps: Deps
) -> MpReportOut:
    """File a report: the rate limit, the content check, then the one door in (idempotent)."""
    known = await MpReport.get_or_none(citizen_id=who.id, idempotency_key=body.idempotency_key)
    if known is None:
        await _rate_limit(who.id, program)
    verdict = known.check if known else await security.check_text(body, who, program, runtime)
    location = (
        Location(lon=body.location.lon, lat=body.location.lat, crs=body.location.crs)
        if body.location
        else None
    )
    result = await submit(
        IntakeDraft(
            source=Source.WECHAT_MP,
            idempotency_key=body.idempotency_key,
            reporter=Reporter(citizen_id=who.id),
            category_code=body.category_code,
            description=body.description,
            location=location,
            address=body.address,
            attachments=tuple(body.photos),
            no_callback=body.no_callback,
        ),
        deps=deps,
    )
    if known is None:
        verdict = await _keep(body, who, result.case, verdict, program, deps)
    case = result.case
    return MpReportOut(
        case_id=case.id,
        number=case.number,
        status=case.status.value,
        status_name=STATUS_NAMES[case.status],
        merged=result.merged,
        created=result.created,
        check=verdict,
    )


async def _rate_limit(citizen_id: int, program: MiniProgram) -> None:
    since = timezone.now() - dt.timedelta(hours=1)
    count = await MpReport.filter(citizen_id=citizen_id, created_at__gte=since).count()
    if count >= program.config.reports_per_hour:
        raise TooManyRequests(
            f"{count} reports in the last hour",
            code="too_many_reports",
            message=f"每小时最多上报{program.config.reports_per_hour}次，请稍后再试",
        )


async def _keep(
    body: MpReportIn,
    who: Principal,
    case: CaseLike,
    verdict: str,
    program: MiniProgram,
    deps: Deps,
) -> str:
    """Record the report; send its photos to the async image check (a job) when on."""
    if program.config.content_check and body.photos and verdict != Check.UNCHECKED:
        verdict = Check.PENDING
    try:
        row = await MpReport.create(
            citizen_id=who.id,
            case_id=case.id,
            number=case.number,
            idempotency_key=body.idempotency_key,
            check=verdict,
        )
    except IntegrityError:  # the same key at once: the other request recorded it
        return verdict
    if verdict == Check.PENDING:
        check = await outbox.add(MEDIA_CHECK, {"report_id": row.id, "media_ids": body.photos})
        await deps.kick([check.id])  # committed already (no transaction here): run it now
    return verdict


async def mine(who: Principal, *, page: int, page_size: int, deps: Deps) -> MinePage:
    """The citizen's reports, newest first (all their identities: the 公众号's too)."""
    shown = await case_page(who, CaseQuery(page=page, page_size=page_size), deps)
    items = [
        MineItem(
            case_id=c.id,
            number=c.number,
            status=c.status,
            status_name=c.status_name,
            category_name=c.category_name,
            description=c.description,
            address=c.address,
            created_at=c.created_at,
            closed_at=c.closed_at,
        )
        for c in shown.items
    ]
    return MinePage(items=items, total=shown.total, page=shown.page, page_size=shown.page_size)


async def nearby(lon: float, lat: float, crs: CoordSystem, radius_m: int) -> list[NearbyItem]:
    """Open problems near a point, in the point's coordinate system (the page's map)."""
    wlon, wlat = to_wgs84(lon, lat, crs)
    found: list[NearbyCase] = await open_near(wlon, wlat, radius_m=radius_m)
    items = []
    for n in found:
        mlon, mlat = from_wgs84(n.lon, n.lat, crs)
        items.append(NearbyItem(**(n.model_dump() | {"lon": mlon, "lat": mlat})))
    return items


async def subscribed(who: Principal, results: dict[str, str], program: MiniProgram) -> QuotaList:
    """Count each authorisation the page got (one message each; 长期 until withdrawn)."""
    templates = {t.template_id: t for t in program.profile.templates.values()}
    unknown = sorted(set(results) - set(templates))
    if unknown:
        raise ValidationFailed(
            f"unknown template ids {unknown}",
            code="unknown_template",
            message="订阅的消息模板不属于本市小程序",
            extra={"fields": [{"field": t, "message": "模板不存在"} for t in unknown]},
        )
    for template_id, answer in results.items():
        long_term = templates[template_id].long_term
        row, _ = await Quota.get_or_create(citizen_id=who.id, template_id=template_id)
        if answer == "accept":
            await Quota.filter(id=row.id).update(remaining=F("remaining") + 1, long_term=long_term)
        elif answer in ("reject", "ban"):  # withdrawn: nothing more is sent
            await Quota.filter(id=row.id).update(remaining=0, long_term=False)
    return await quotas(who)


async def quotas(who: Principal) -> QuotaList:
    """What the citizen allowed, per template."""
    rows = await Quota.filter(citizen_id=who.id).order_by("template_id")
    return QuotaList(
        items=[
            QuotaItem(template_id=r.template_id, remaining=r.remaining, long_term=r.long_term)
            for r in rows
        ]
    )


async def flagged(limit: int = 100) -> FlaggedList:
    """Reports a person at the centre should look at (the content check's flags)."""
    rows = (
        await MpReport.filter(check__in=[Check.RISKY, Check.REVIEW, Check.UNCHECKED])
        .order_by("-id")
        .limit(limit)
    )
    return FlaggedList(
        items=[
            FlaggedItem(
                report_id=r.id,
                case_id=r.case_id,
                number=r.number,
                check=r.check.value,
                detail=r.check_detail,
                created_at=r.created_at,
            )
            for r in rows
        ]
    )
