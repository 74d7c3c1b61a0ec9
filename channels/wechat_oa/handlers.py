"""WeChat's requests (GET/POST /wechat/oa, as its 服务器配置 page expects) and the case page."""

from __future__ import annotations

import secrets

from aiohttp import web

from cases import case_view, citizen_viewer, deps_of
from channels.wechat_oa.account import OA
from channels.wechat_oa.const import MAX_BODY
from channels.wechat_oa.page import case_page, not_found_page
from channels.wechat_oa.service import receive
from core.errors import NotFound
from core.web.body import read_body
from core.web.endpoint import PUBLIC, Call, endpoint
from core.web.keys import RUNTIME

routes = web.RouteTableDef()
TAGS = ("公众号",)


@routes.get("/wechat/oa")
@endpoint(
    roles=PUBLIC,
    summary="微信服务器配置的 URL 校验（回显 echostr）",
    tags=TAGS,
    errors=(400, 403),
    produces=("text/plain",),
)
async def verify_url(request: web.Request, call: Call) -> web.Response:
    """WeChat's URL check: echo `echostr` if the request is signed with our token."""
    account = request.app[RUNTIME][OA]
    return web.Response(text=account.protocol.verify_url(dict(request.query)))


@routes.post("/wechat/oa")
@endpoint(
    roles=PUBLIC,
    summary="微信推送的消息与事件（明文、兼容或安全模式）",
    tags=TAGS,
    errors=(400, 403, 413),
    content="application/xml",
    produces=("application/xml", "text/plain"),
)
async def message(request: web.Request, call: Call) -> web.Response:
    """A message or event from a citizen: answer at once (anything slow is a job)."""
    runtime = request.app[RUNTIME]
    account = runtime[OA]
    body = await read_body(request, MAX_BODY, message="消息过大")  # more than WeChat sends
    query = dict(request.query)
    incoming = account.protocol.open(query, body)
    reply = await receive(incoming, runtime=runtime, config=account.config, profile=account.profile)
    if not reply:
        return web.Response(text="success")  # WeChat's word for "no reply"
    nonce = query.get("nonce") or secrets.token_hex(8)
    xml = account.protocol.reply(incoming, reply, nonce=nonce)
    return web.Response(text=xml, content_type="application/xml")


@routes.get("/wechat/oa/cases/{case_id:[0-9]{1,10}}")
@endpoint(
    roles=PUBLIC,
    summary="模板消息链接的案件页（HTML，链接带签名）",
    tags=TAGS,
    errors=(404,),
    produces=("text/html",),
    error_media="text/html",
)
async def case(request: web.Request, call: Call) -> web.Response:
    """The page a template message links to: the case as its reporter sees it."""
    runtime = request.app[RUNTIME]
    account = runtime[OA]
    case_id = int(request.match_info["case_id"])
    citizen = request.query.get("c", "")
    sig = request.query.get("s", "")
    if not (citizen.isdigit() and len(citizen) <= 10) or not account.link_valid(
        case_id, int(citizen), sig
    ):
        return _html(not_found_page(), status=404)
    try:
        view = await case_view(case_id, viewer=citizen_viewer(int(citizen)), deps=deps_of(request))
    except NotFound:
        return _html(not_found_page(), status=404)
    return _html(case_page(view, city=runtime.settings.profile.name))


def _html(text: str, *, status: int = 200) -> web.Response:
    return web.Response(
        text=text,
        status=status,
        content_type="text/html",
        headers={"Cache-Control": "private, no-store", "Referrer-Policy": "no-referrer"},
    )
