"""The 小程序's API under /api/v1/mp (in OpenAPI), and WeChat's push (GET/POST /wechat/mp)."""

from __future__ import annotations

import json

from aiohttp import web

from cases import CaseView, case_view, deps_of
from channels.wechat.signature import check_signed
from channels.wechat_mp import security, service
from channels.wechat_mp.account import MP
from channels.wechat_mp.const import PREFIX
from channels.wechat_mp.form import FORM_SCHEMA, MAX_PHOTOS, read_form, require_multipart
from channels.wechat_mp.schemas import (
    CategoryItem,
    FlaggedList,
    LoginOut,
    Me,
    MinePage,
    MineQuery,
    MpCategoryList,
    MpLoginIn,
    MpReportIn,
    MpReportOut,
    NearbyList,
    NearbyQuery,
    PhoneIn,
    QuotaList,
    SubscriptionsIn,
)
from core.auth.const import Role
from core.errors import BadRequest, Forbidden, NotFound, PayloadTooLarge, ValidationFailed
from core.media.service import ingest
from core.web.endpoint import CITIZEN_ONLY, PUBLIC, Call, endpoint
from core.web.keys import RUNTIME

routes = web.RouteTableDef()
TAGS = ("小程序",)
ID = "{case_id:[0-9]{1,10}}"
PUSH_WINDOW_S = 300  # a push signed longer ago is a replay


def _mine(call: Call) -> None:
    if call.who.channel != "wechat_mp":
        raise Forbidden("not a 小程序 token", code="role_forbidden", message="请在小程序内登录")


@routes.post(f"{PREFIX}/login")
@endpoint(
    roles=PUBLIC,
    summary="小程序登录（wx.login 的 code）",
    body=MpLoginIn,
    response=LoginOut,
    tags=TAGS,
    errors=(400, 429, 503),
)
async def login(request: web.Request, call: Call) -> LoginOut:
    """Exchange wx.login's code for a cityloop token."""
    runtime = request.app[RUNTIME]
    return await service.login(call.body(MpLoginIn).code, program=runtime[MP], runtime=runtime)


@routes.post(f"{PREFIX}/phone")
@endpoint(
    roles=CITIZEN_ONLY,
    summary="绑定手机号（getPhoneNumber 的 code）",
    body=PhoneIn,
    response=Me,
    tags=TAGS,
    errors=(400, 503),
)
async def phone(request: web.Request, call: Call) -> Me:
    """Keep the citizen's phone number (shown masked)."""
    _mine(call)
    runtime = request.app[RUNTIME]
    code = call.body(PhoneIn).code
    return await service.bind_phone(code, who=call.who, program=runtime[MP], runtime=runtime)


@routes.post(f"{PREFIX}/reports")
@endpoint(
    roles=CITIZEN_ONLY,
    summary="随手拍上报",
    body=MpReportIn,
    response=MpReportOut,
    status=201,
    tags=TAGS,
    errors=(409, 422, 429),
    replay=True,
)
async def report(request: web.Request, call: Call) -> web.StreamResponse | MpReportOut:
    """File a report (the same idempotency key answers the same case, 200)."""
    _mine(call)
    runtime = request.app[RUNTIME]
    out = await service.report(
        call.body(MpReportIn),
        who=call.who,
        program=runtime[MP],
        runtime=runtime,
        deps=deps_of(request),
    )
    if not out.created:
        return web.json_response(out.model_dump(mode="json"), status=200)
    return out


@routes.post(f"{PREFIX}/reports/form")
@endpoint(
    roles=CITIZEN_ONLY,
    summary="随手拍上报（照片随表单：part report 为 JSON，part file 为照片，可多个）",
    response=MpReportOut,
    status=201,
    tags=TAGS,
    errors=(400, 409, 413, 415, 422, 429),
    content="multipart/form-data",
    replay=True,
    form=FORM_SCHEMA,
)
async def report_form(request: web.Request, call: Call) -> web.StreamResponse | MpReportOut:
    """File a report with its photos in the same request (wx.uploadFile sends one per call;
    a page that gathers them sends them together)."""
    _mine(call)
    runtime = request.app[RUNTIME]
    settings = runtime.settings
    require_multipart(request.content_type)
    try:
        reader = await request.multipart()
    except ValueError as err:  # no boundary
        raise BadRequest(
            "malformed multipart", code="malformed_multipart", message="上传内容格式不正确"
        ) from err
    body, photos = await read_form(reader, max_bytes=settings.upload_max_bytes)
    ids = list(body.photos)
    for data in photos:
        media = await ingest(
            data, settings=settings, storage=runtime.storage, citizen_id=call.who.id
        )
        ids.append(media.id)
    if len(ids) > MAX_PHOTOS:
        raise ValidationFailed(
            f"{len(ids)} photos",
            message=f"最多{MAX_PHOTOS}张照片",
            extra={"fields": [{"field": "file", "message": f"最多{MAX_PHOTOS}张"}]},
        )
    body = body.model_copy(update={"photos": ids})
    out = await service.report(
        body, who=call.who, program=runtime[MP], runtime=runtime, deps=deps_of(request)
    )
    if not out.created:
        return web.json_response(out.model_dump(mode="json"), status=200)
    return out


@routes.get(f"{PREFIX}/reports")
@endpoint(
    roles=CITIZEN_ONLY,
    summary="我的上报（新的在前）",
    query=MineQuery,
    response=MinePage,
    tags=TAGS,
)
async def mine(request: web.Request, call: Call) -> MinePage:
    """The citizen's reports, through the 公众号 too."""
    _mine(call)
    q = call.query(MineQuery)
    return await service.mine(call.who, page=q.page, page_size=q.page_size, deps=deps_of(request))


@routes.get(f"{PREFIX}/reports/{ID}")
@endpoint(
    roles=CITIZEN_ONLY,
    summary="上报详情（公开进度与照片）",
    response=CaseView,
    tags=TAGS,
    errors=(404,),
)
async def detail(request: web.Request, call: Call) -> CaseView:
    """One of the citizen's cases: public timeline, before and after photos (public copies)."""
    _mine(call)
    case_id = int(request.match_info["case_id"])
    return await case_view(case_id, viewer=call.who, deps=deps_of(request))


@routes.get(f"{PREFIX}/categories")
@endpoint(roles=CITIZEN_ONLY, summary="问题类别（选择器）", response=MpCategoryList, tags=TAGS)
async def categories(request: web.Request, call: Call) -> MpCategoryList:
    """The city's categories in its wording, with the picker's icon key."""
    runtime = request.app[RUNTIME]
    policy = deps_of(request).policy
    icons = runtime[MP].profile.icons
    items = []
    for code in sorted(policy.categories):
        c = policy.category(code)
        if c is not None:
            icon = icons.get(c.major_code, f"{c.kind}-{c.major_code}")
            items.append(
                CategoryItem(
                    code=c.code, name=c.name, kind=c.kind, major_name=c.major_name, icon=icon
                )
            )
    return MpCategoryList(items=items)


@routes.get(f"{PREFIX}/nearby")
@endpoint(
    roles=CITIZEN_ONLY,
    summary="附近未办结的问题",
    query=NearbyQuery,
    response=NearbyList,
    tags=TAGS,
)
async def nearby(request: web.Request, call: Call) -> NearbyList:
    """Open problems near a point (so that a known pothole is not filed again)."""
    q = call.query(NearbyQuery)
    radius = min(q.radius_m, request.app[RUNTIME][MP].config.nearby_radius_m)
    return NearbyList(items=await service.nearby(q.lon, q.lat, q.crs, radius))


@routes.post(f"{PREFIX}/subscriptions")
@endpoint(
    roles=CITIZEN_ONLY,
    summary="记录订阅消息授权（wx.requestSubscribeMessage 的结果）",
    body=SubscriptionsIn,
    response=QuotaList,
    tags=TAGS,
    errors=(422,),
)
async def subscriptions(request: web.Request, call: Call) -> QuotaList:
    """Count the authorisations the page got, per template."""
    _mine(call)
    results = call.body(SubscriptionsIn).results()
    return await service.subscribed(call.who, results, request.app[RUNTIME][MP])


@routes.get(f"{PREFIX}/subscriptions")
@endpoint(roles=CITIZEN_ONLY, summary="我的订阅消息余量", response=QuotaList, tags=TAGS)
async def quota(request: web.Request, call: Call) -> QuotaList:
    """What the citizen allowed, per template."""
    _mine(call)
    return await service.quotas(call.who)


@routes.get(f"{PREFIX}/flagged")
@endpoint(
    roles={Role.ACCEPTOR, Role.SHIFT_LEAD},
    summary="内容安全待人工查看的小程序上报",
    response=FlaggedList,
    tags=TAGS,
)
async def flagged(request: web.Request, call: Call) -> FlaggedList:
    """Reports WeChat judged risky or for review, or could not check."""
    return await service.flagged()


def _signed(request: web.Request) -> None:
    token = request.app[RUNTIME][MP].config.token
    if token is None:
        raise NotFound("no push token configured", message="未配置消息推送")
    check_signed(token.get_secret_value(), request.query, window_s=PUSH_WINDOW_S)


@routes.get("/wechat/mp")
async def push_check(request: web.Request) -> web.Response:
    """WeChat's URL check of 消息推送: echo `echostr` if signed with our token."""
    _signed(request)
    return web.Response(text=request.query.get("echostr", ""))


@routes.post("/wechat/mp")
async def push(request: web.Request) -> web.Response:
    """WeChat's pushes (JSON, 明文模式): the async image check's verdicts."""
    _signed(request)
    raw = b""
    async for chunk in request.content.iter_chunked(16 * 1024):
        raw += chunk
        if len(raw) > 64 * 1024:
            raise PayloadTooLarge("push too large", message="消息过大")
    try:
        payload = json.loads(raw or b"{}")
    except ValueError:
        payload = {}
    if isinstance(payload, dict) and payload.get("Event") == "wxa_media_check":
        await security.media_verdict(payload)
    return web.Response(text="success")
