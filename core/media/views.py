"""Uploading photos and serving their public copies."""

from __future__ import annotations

from aiohttp import BodyPartReader, web

from core.auth.scope import CITYWIDE
from core.auth.service import Principal
from core.errors import BadRequest, NotFound
from core.media import service
from core.media.access import may_see
from core.media.images import ALLOWED_MIME_TYPES, too_large
from core.media.models import MediaObject
from core.media.schemas import MediaOut
from core.types import ID_ROUTE
from core.web.body import read_multipart, read_part
from core.web.endpoint import ANY_STAFF, PUBLIC, Call, endpoint
from core.web.keys import RUNTIME, SETTINGS, STORAGE

routes = web.RouteTableDef()
UPLOADERS = ANY_STAFF | {"citizen"}


def sees_evidence(who: Principal, media: MediaObject) -> bool:
    """The original and its EXIF: the centre's roles, and the staff member who took it.

    Departments and inspectors reach the originals of their own cases' photos through the
    case (GET /api/v1/cases/{id}/media/{media_id}/original).
    """
    return who.has_any(CITYWIDE) or (who.is_staff and media.uploaded_by_staff_id == who.id)


def media_out(media: MediaObject, *, staff: bool) -> MediaOut:
    """Show a media row; EXIF evidence and the original only where `staff` (sees_evidence)."""
    return MediaOut(
        id=media.id,
        sha256=media.sha256,
        mime=media.mime,
        size=media.size,
        width=media.width,
        height=media.height,
        public_url=service.public_url(media.public_token, media.public_ext),
        thumb_url=service.thumb_url(media.public_token),
        original_url=f"{service.MEDIA_BASE}/{media.id}/original" if staff else None,
        gps_lon=media.gps_lon if staff else None,
        gps_lat=media.gps_lat if staff else None,
        taken_at=media.taken_at if staff else None,
    )


async def _read_file_part(request: web.Request, max_bytes: int) -> bytes:
    if not request.content_type.startswith("multipart/"):
        raise BadRequest(
            "expected multipart/form-data",
            code="multipart_required",
            message="请以 multipart/form-data 上传，文件字段名为 file",
        )
    return await read_multipart(lambda: _file_part(request, max_bytes))


async def _file_part(request: web.Request, max_bytes: int) -> bytes:
    reader = await request.multipart()
    found: bytes | None = None
    while (part := await reader.next()) is not None:
        # One `file` part and nothing else: every other part is refused, not skipped (a
        # 30 MiB extra part, or 20,000 of them, must not be read for nothing).
        if not isinstance(part, BodyPartReader) or part.name != "file" or found is not None:
            raise BadRequest(
                "unexpected part", code="unknown_part", message="只接受一个文件字段 file"
            )
        found = await read_part(part, max_bytes, message=too_large(max_bytes))
    if found is None:
        raise BadRequest("no 'file' part", code="file_missing", message="缺少文件字段 file")
    return found


@routes.post("/api/v1/media")
@endpoint(
    roles=UPLOADERS,
    summary="上传图片（multipart，字段 file）",
    response=MediaOut,
    status=201,
    tags=["media"],
    errors=(400, 413, 415),
    content="multipart/form-data",
)
async def upload(request: web.Request, call: Call) -> MediaOut:
    """Accept one photo: JPEG, PNG or WEBP within the size and pixel limits."""
    settings = request.app[SETTINGS]
    data = await _read_file_part(request, settings.upload_max_bytes)
    who = call.who
    media = await service.ingest(
        data,
        settings=settings,
        storage=request.app[STORAGE],
        staff_id=who.id if who.is_staff else None,
        citizen_id=None if who.is_staff else who.id,
    )
    return media_out(media, staff=sees_evidence(who, media))


@routes.get("/api/v1/media/{media_id:" + ID_ROUTE + "}")
@endpoint(roles=UPLOADERS, summary="图片信息", response=MediaOut, tags=["media"], errors=(404,))
async def info(request: web.Request, call: Call) -> MediaOut:
    """Describe a stored photo to its uploader, the centre, or one who may see its case."""
    media_id = int(request.match_info["media_id"])
    media = await MediaObject.get_or_none(id=media_id)
    # Its public URL is in the answer: a photo nobody vouches for is not there at all.
    if media is None or not await may_see(request.app[RUNTIME], call.who, media):
        raise NotFound(f"media {media_id} not visible", message="未找到该图片")
    return media_out(media, staff=sees_evidence(call.who, media))


@routes.get("/api/v1/media/{media_id:" + ID_ROUTE + "}/original")
@endpoint(
    roles=ANY_STAFF,
    summary="原始图片（含 EXIF，仅限工作人员）",
    tags=["media"],
    errors=(404,),
    produces=ALLOWED_MIME_TYPES,
)
async def original(request: web.Request, call: Call) -> web.Response:
    """Send the untouched original, EXIF included (the centre, or the one who took it)."""
    media = await service.get_media(int(request.match_info["media_id"]))
    if not sees_evidence(call.who, media):
        raise NotFound(
            f"original of {media.id} not for staff {call.who.id}", message="未找到该图片"
        )
    return await send_original(request, media)


async def send_original(request: web.Request, media: MediaObject) -> web.Response:
    """Answer with a photo's untouched original, never cached by a proxy."""
    data = await request.app[STORAGE].get(service.original_key(media))
    # A polyglot (a JPEG with a script tail) must never be run as a page: no sniffing, and
    # saved rather than shown inline.
    headers = _private() | {
        "X-Content-Type-Options": "nosniff",
        "Content-Disposition": f'attachment; filename="{media.id}.{media.ext}"',
    }
    return web.Response(body=data, content_type=media.mime, headers=headers)


@routes.get("/api/v1/media/{kind:public|thumb}/{token:[A-Za-z0-9_-]{16,32}}.{ext:jpg|png}")
@endpoint(
    roles=PUBLIC,
    summary="公开图片与缩略图（已去除元数据）",
    tags=["media"],
    errors=(404,),
    produces=("image/jpeg", "image/png"),
)
async def public(request: web.Request, call: Call) -> web.Response:
    """Send a metadata-free copy; its URL holds a random token, so it cannot be enumerated."""
    kind, token, ext = (request.match_info[k] for k in ("kind", "token", "ext"))
    media = await MediaObject.get_or_none(public_token=token)
    wanted = media.public_ext if kind == "public" and media else service.THUMB_EXT
    if media is None or ext != wanted:
        raise NotFound("no such public photo", message="未找到该图片")
    if kind == "public":
        key = service.public_key(media.sha256, media.public_ext)
    else:
        key = service.thumb_key(media.sha256)
    data = await request.app[STORAGE].get(key)
    return web.Response(
        body=data,
        content_type="image/png" if ext == "png" else "image/jpeg",
        headers={
            "Cache-Control": "public, max-age=31536000, immutable",
            "X-Content-Type-Options": "nosniff",
        },
    )


def _private() -> dict[str, str]:
    return {"Cache-Control": "private, no-store"}
