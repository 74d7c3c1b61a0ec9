"""The vision API: the camera registry with its health, the events (the review queue among
them) and the 智能核查 watches."""

from __future__ import annotations

from typing import TypeVar

from aiohttp import web
from tortoise.models import Model
from tortoise.queryset import QuerySet

from cases import deps_of
from core.auth.const import Role
from core.errors import Conflict
from core.web.body import read_body
from core.web.endpoint import Call, endpoint
from core.web.keys import RUNTIME
from vision import review, service
from vision.config import CameraIn
from vision.const import EVENT_NAMES, HEALTH_NAMES
from vision.models import Camera, VisionCheck, VisionEvent
from vision.schemas import (
    CameraList,
    CameraOut,
    CameraQuery,
    CheckList,
    CheckOut,
    CheckQuery,
    ConfirmIn,
    DismissIn,
    ImportOut,
    SightingList,
    SightingOut,
    SightingQuery,
)

M = TypeVar("M", bound=Model)
routes = web.RouteTableDef()
TAGS = ("视频识别",)
CODE = "{code:[A-Za-z0-9][A-Za-z0-9_.-]{0,31}}"
ID = "{event_id:[0-9]{1,18}}"
CENTRE = frozenset({Role.ADMIN, Role.ACCEPTOR, Role.SHIFT_LEAD, Role.DISPATCHER})
DECIDERS = frozenset({Role.ACCEPTOR, Role.SHIFT_LEAD})  # 受理 decides what becomes a case
_FILE_LIMIT = 8 * 1024 * 1024


def _where(query: QuerySet[M], **given: object) -> QuerySet[M]:
    """The query narrowed by the filters that were given (None: not asked for)."""
    return query.filter(**{k: v for k, v in given.items() if v is not None})


def _camera_out(request: web.Request, call: Call, row: Camera) -> CameraOut:
    spec = service.declared(row)
    if Role.ADMIN not in call.who.roles:  # a stream's password is the admin's to see
        spec = spec.model_copy(update={"source": service.masked_source(spec.source)})
    health = service.health_now(row, deps_of(request.app[RUNTIME]).now())
    return CameraOut(
        id=row.id,
        code=row.code,
        name=row.name,
        enabled=row.enabled,
        kind=spec.source_kind,
        grid_id=row.grid_id,
        health=health,
        health_name=HEALTH_NAMES[health],
        health_detail=row.health_detail,
        last_frame_at=row.last_frame_at,
        declared=spec,
    )


@routes.get("/api/v1/vision/cameras")
@endpoint(
    roles=CENTRE,
    summary="摄像头列表（含在线状态）",
    query=CameraQuery,
    response=CameraList,
    tags=TAGS,
)
async def list_cameras(request: web.Request, call: Call) -> CameraList:
    """The registered cameras by code, a page at a time."""
    q = call.query(CameraQuery)
    query = _where(Camera.all(), enabled=q.enabled, health=q.health, code__gt=q.after)
    rows = await query.order_by("code").limit(q.limit + 1)
    more = len(rows) > q.limit
    rows = rows[: q.limit]
    return CameraList(
        items=[_camera_out(request, call, r) for r in rows],
        next_after=rows[-1].code if more else None,
    )


@routes.post("/api/v1/vision/cameras")
@endpoint(
    roles={Role.ADMIN},
    summary="登记摄像头",
    body=CameraIn,
    response=CameraOut,
    status=201,
    tags=TAGS,
    errors=(409, 422),
)
async def create_camera(request: web.Request, call: Call) -> CameraOut:
    """Register a camera (its zones checked against the frame, the labels and the catalog)."""
    camera = call.body(CameraIn)
    if await Camera.exists(code=camera.code):
        raise Conflict(
            f"camera {camera.code} exists",
            code="camera_exists",
            message="该摄像头编码已登记，请用修改",
        )
    row, _ = await service.save(request.app[RUNTIME], camera)
    return _camera_out(request, call, row)


@routes.get(f"/api/v1/vision/cameras/{CODE}")
@endpoint(roles=CENTRE, summary="摄像头详情", response=CameraOut, tags=TAGS, errors=(404,))
async def camera_detail(request: web.Request, call: Call) -> CameraOut:
    """One camera."""
    return _camera_out(request, call, await service.get(request.match_info["code"]))


@routes.put(f"/api/v1/vision/cameras/{CODE}")
@endpoint(
    roles={Role.ADMIN},
    summary="修改摄像头（整体替换）",
    body=CameraIn,
    response=CameraOut,
    tags=TAGS,
    errors=(404, 422),
)
async def replace_camera(request: web.Request, call: Call) -> CameraOut:
    """Replace a camera's declaration (`enabled: false` stops watching it)."""
    code = request.match_info["code"]
    await service.get(code)
    row, _ = await service.save(request.app[RUNTIME], call.body(CameraIn), code=code)
    return _camera_out(request, call, row)


@routes.post("/api/v1/vision/cameras/import")
@endpoint(
    roles={Role.ADMIN},
    summary="批量导入摄像头（TOML 文件，全部成功或全部不变）",
    response=ImportOut,
    tags=TAGS,
    errors=(413, 422),
    content="text/plain",  # a TOML file; any Content-Type is read as text,
)
async def import_cameras(request: web.Request, call: Call) -> ImportOut:
    """Create or replace every camera of a camera file; any error changes nothing."""
    raw = await read_body(request, _FILE_LIMIT, message="摄像头配置文件过大")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = "\ufffd"  # read_file refuses it as TOML, naming the file
    counts = await service.import_file(request.app[RUNTIME], text)
    return ImportOut(**counts)


async def _events_out(request: web.Request, rows: list[VisionEvent]) -> list[SightingOut]:
    policy = deps_of(request.app[RUNTIME]).policy
    cameras = {c.id: c for c in await Camera.filter(id__in=sorted({r.camera_id for r in rows}))}
    out = []
    for r in rows:
        category = policy.category(r.category_code)
        camera = cameras[r.camera_id]
        out.append(
            SightingOut(
                id=r.id,
                camera=camera.code,
                camera_name=camera.name,
                zone=r.zone,
                category_code=r.category_code,
                category_name=category.name if category else None,
                label=r.label,
                score=r.score,
                box=list(r.box),
                since_at=r.since_at,
                fired_at=r.fired_at,
                status=r.status,
                status_name=EVENT_NAMES[r.status],
                evidence_id=r.evidence_id,
                frame_id=r.frame_id,
                case_id=r.case_id,
                merged=r.merged,
                reviewed_at=r.reviewed_at,
                review_note=r.review_note,
            )
        )
    return out


@routes.get("/api/v1/vision/events")
@endpoint(
    roles=CENTRE,
    summary="识别事件（status=review 为待确认队列）",
    query=SightingQuery,
    response=SightingList,
    tags=TAGS,
)
async def list_events(request: web.Request, call: Call) -> SightingList:
    """The newest events first, filtered."""
    q = call.query(SightingQuery)
    query = _where(VisionEvent.all(), status=q.status, case_id=q.case_id, camera__code=q.camera)
    rows = await query.order_by("-id").limit(q.limit)
    return SightingList(items=await _events_out(request, rows))


@routes.post(f"/api/v1/vision/events/{ID}/confirm")
@endpoint(
    roles=DECIDERS,
    summary="确认识别结果并立案",
    body=ConfirmIn,
    response=SightingOut,
    tags=TAGS,
    errors=(404, 409, 422),
)
async def confirm_event(request: web.Request, call: Call) -> SightingOut:
    """Confirm a queued event: it becomes a case."""
    event = await review.confirm(
        request.app[RUNTIME],
        int(request.match_info["event_id"]),
        who=call.who,
        note=call.body(ConfirmIn).note,
    )
    return (await _events_out(request, [event]))[0]


@routes.post(f"/api/v1/vision/events/{ID}/dismiss")
@endpoint(
    roles=DECIDERS,
    summary="驳回识别结果（误报）",
    body=DismissIn,
    response=SightingOut,
    tags=TAGS,
    errors=(404, 409, 422),
)
async def dismiss_event(request: web.Request, call: Call) -> SightingOut:
    """Dismiss a queued event, with the reason: no case."""
    event = await review.dismiss(
        request.app[RUNTIME],
        int(request.match_info["event_id"]),
        who=call.who,
        reason=call.body(DismissIn).reason,
    )
    return (await _events_out(request, [event]))[0]


@routes.get("/api/v1/vision/checks")
@endpoint(roles=CENTRE, summary="视频智能核查记录", query=CheckQuery, response=CheckList, tags=TAGS)
async def list_checks(request: web.Request, call: Call) -> CheckList:
    """The newest 智能核查 watches first."""
    q = call.query(CheckQuery)
    query = _where(VisionCheck.all(), case_id=q.case_id, status=q.status)
    rows = await query.order_by("-id").limit(q.limit).prefetch_related("camera")
    return CheckList(
        items=[
            CheckOut(
                id=r.id,
                case_id=r.case_id,
                camera=r.camera.code,
                status=r.status,
                samples=r.samples,
                evidence_id=r.evidence_id,
                detail=r.detail,
                created_at=r.created_at,
                done_at=r.done_at,
            )
            for r in rows
        ]
    )
