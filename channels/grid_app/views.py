"""The field app's API under /api/v1/field besides the sync (handlers.py): duty and tracks,
coverage, the work list, the push stream (server-sent events) and the phones' registry."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Final

from aiohttp import web
from aiohttp_sse import EventSourceResponse

from cases import deps_of
from channels.grid_app import coverage, duty, push, service, track
from channels.grid_app.deps import FIELD, FieldDeps
from channels.grid_app.schemas import (
    CoverageOut,
    CoverageQuery,
    DeviceIn,
    DeviceList,
    DeviceOut,
    DutyIn,
    DutyOut,
    MessagePage,
    MessageQuery,
    TrackAnswer,
    TrackIn,
    TrackOut,
    TrackQuery,
    WorkOut,
    WorkQuery,
)
from core.auth.const import Role
from core.errors import BadRequest, ValidationFailed
from core.types import BIGID_ROUTE
from core.web.endpoint import ANY_STAFF, Call, endpoint
from core.web.keys import RUNTIME

routes = web.RouteTableDef()
TAGS: Final = ("城管通",)
FIELD_ROLES: Final = frozenset({Role.INSPECTOR, Role.HANDLER})
BASE: Final = "/api/v1/field"


def _field(request: web.Request) -> FieldDeps:
    return request.app[RUNTIME][FIELD]


@routes.post(f"{BASE}/track")
@endpoint(
    roles=FIELD_ROLES,
    summary="上传轨迹点（重复上传的点不会重复保存）",
    body=TrackIn,
    response=TrackAnswer,
    tags=TAGS,
)
async def upload_track(request: web.Request, call: Call) -> TrackAnswer:
    """Keep a batch of the caller's GPS points."""
    points = call.body(TrackIn).points
    limit = _field(request).config.track_max_points
    if len(points) > limit:
        raise ValidationFailed(
            "too many points", code="too_many_points", message=f"一次最多上传 {limit} 个轨迹点"
        )
    return await track.store(call.who.id, points, now=deps_of(request).now())


@routes.get(f"{BASE}/track")
@endpoint(
    roles=service.CENTRE | FIELD_ROLES,
    summary="某人某日的轨迹（标出信号中断、异常跳点、低精度点）",
    query=TrackQuery,
    response=TrackOut,
    tags=TAGS,
    errors=(403,),
)
async def read_track(request: web.Request, call: Call) -> TrackOut:
    """One person's track of a day, every point marked for audit."""
    q = call.query(TrackQuery)
    owner = service.track_owner(call.who, q.staff_id)
    return await track.audit(owner, q.date, _field(request).config)


@routes.get(f"{BASE}/coverage")
@endpoint(
    roles=service.CENTRE | {Role.INSPECTOR},
    summary="网格巡查覆盖率（某日轨迹覆盖网格面积的比例）",
    query=CoverageQuery,
    response=CoverageOut,
    tags=TAGS,
    errors=(403, 422),
)
async def grid_coverage(request: web.Request, call: Call) -> CoverageOut:
    """How much of each grid its inspectors walked on a day."""
    q, who = call.query(CoverageQuery), call.who
    # An inspector sees their own walks; the centre everyone's, or one inspector's.
    mine = q.staff_id is not None or not who.has_any(service.CENTRE)
    staff = service.track_owner(who, q.staff_id) if mine else None
    return await coverage.coverage(
        day=q.date,
        grid_ids=service.coverage_grids(who, q.grid_id),
        staff_id=staff,
        config=_field(request).config,
    )


@routes.get(f"{BASE}/duty")
@endpoint(roles=FIELD_ROLES, summary="当前在岗状态", response=DutyOut, tags=TAGS)
async def duty_now(request: web.Request, call: Call) -> DutyOut:
    """Whether the caller is on duty."""
    return await duty.current(call.who.id)


@routes.post(f"{BASE}/duty")
@endpoint(
    roles=FIELD_ROLES,
    summary="上岗 / 下岗（附当前位置）",
    body=DutyIn,
    response=DutyOut,
    tags=TAGS,
    errors=(409,),
)
async def duty_toggle(request: web.Request, call: Call) -> DutyOut:
    """Go on duty or off, now."""
    inputs = call.body(DutyIn)
    now = deps_of(request).now()
    return await duty.toggle(call.who.id, on=inputs.on, where=inputs.location, at=now)


@routes.get(f"{BASE}/work")
@endpoint(
    roles=FIELD_ROLES,
    summary="我的待办（监督员：任务由近及远；处置人员：本部门案件及最新消息）",
    query=WorkQuery,
    response=WorkOut,
    tags=TAGS,
)
async def my_work(request: web.Request, call: Call) -> WorkOut:
    """What the phone shows first."""
    return await service.work(call.who, call.query(WorkQuery), deps_of(request))


@routes.get(f"{BASE}/messages")
@endpoint(
    roles=ANY_STAFF,
    summary="推送消息（给出 after：只取其后的）",
    query=MessageQuery,
    response=MessagePage,
    tags=TAGS,
)
async def read_messages(request: web.Request, call: Call) -> MessagePage:
    """The caller's messages after the one they have."""
    q = call.query(MessageQuery)
    items = await push.after(call.who.id, q.after, limit=q.limit)
    return MessagePage(items=items, last_id=items[-1].id if items else q.after)


@routes.get(f"{BASE}/stream")
@endpoint(
    roles=ANY_STAFF,
    summary="推送流（server-sent events；断线后带 Last-Event-ID 续传，不漏不重）",
    query=MessageQuery,
    tags=TAGS,
    errors=(400,),
    produces=("text/event-stream",),
)
async def stream(request: web.Request, call: Call) -> web.StreamResponse:
    """Every new message of the caller as it is written, from after the last one they had."""
    deps, who = _field(request), call.who
    q = call.query(MessageQuery)
    resumed = _last_event_id(request)
    start = resumed if resumed is not None else q.after or await push.last_id(who.id)
    response = EventSourceResponse(ping_interval=deps.config.sse_ping_s)
    await response.prepare(request)
    closing = request.app[RUNTIME].closing
    async with response:
        with contextlib.suppress(ConnectionResetError, TimeoutError):
            if resumed is None and not q.after:  # a new stream: where to resume from
                await response.send(json.dumps({"last_id": start}), id=str(start), event="ready")
            await _pump(response, deps, who.id, start, closing, q.limit)
    return response


async def _pump(
    response: EventSourceResponse,
    deps: FieldDeps,
    staff_id: int,
    last: int,
    closing: asyncio.Event,
    limit: int,
) -> None:
    with deps.hub.listen(staff_id) as woken:
        while not closing.is_set() and response.is_connected():
            woken.clear()  # before reading: a message written meanwhile wakes the next wait
            batch = await push.after(staff_id, last, limit=limit)
            for m in batch:
                await response.send(m.model_dump_json(), id=str(m.id))
                last = m.id
            if len(batch) == limit:
                continue
            await _either(woken, closing, within_s=deps.config.sse_ping_s)


async def _either(a: asyncio.Event, b: asyncio.Event, *, within_s: float) -> None:
    waits = [asyncio.ensure_future(a.wait()), asyncio.ensure_future(b.wait())]
    try:
        await asyncio.wait(waits, timeout=within_s, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waits:
            w.cancel()


def _last_event_id(request: web.Request) -> int | None:
    raw = request.headers.get(EventSourceResponse.DEFAULT_LAST_EVENT_HEADER)
    if raw is None or not raw.strip():
        return None
    if not raw.strip().isdigit() or len(raw.strip()) > 18:
        raise BadRequest(
            "bad Last-Event-ID", code="bad_last_event_id", message="Last-Event-ID 应为消息编号"
        )
    return int(raw.strip())


@routes.post(f"{BASE}/devices")
@endpoint(
    roles=ANY_STAFF,
    summary="登记手机（推送通道：sse 或已配置的厂商推送）",
    body=DeviceIn,
    response=DeviceOut,
    tags=TAGS,
)
async def add_device(request: web.Request, call: Call) -> DeviceOut:
    """Register or refresh one of the caller's phones."""
    return await service.register_device(call.who, call.body(DeviceIn), _field(request).hub)


@routes.get(f"{BASE}/devices")
@endpoint(roles=ANY_STAFF, summary="我的手机", response=DeviceList, tags=TAGS)
async def list_devices(request: web.Request, call: Call) -> DeviceList:
    """The caller's phones."""
    return await service.devices(call.who)


@routes.delete(f"{BASE}/devices/{{device_id:{BIGID_ROUTE}}}")
@endpoint(roles=ANY_STAFF, summary="注销手机", tags=TAGS, errors=(404,), status=204)
async def drop_device(request: web.Request, call: Call) -> web.Response:
    """Forget one of the caller's phones."""
    await service.forget_device(call.who, int(request.match_info["device_id"]))
    return web.Response(status=204)
