"""The phone's offline queue coming in (POST /api/v1/field/sync): the batch as JSON, or as a
form with its photos beside it; each item then goes through sync.py."""

from __future__ import annotations

import json
from typing import Final

from aiohttp import BodyPartReader, web
from pydantic import ValidationError

from channels.grid_app import sync
from channels.grid_app.deps import FIELD, FieldDeps
from channels.grid_app.photos import Uploads, store_parts
from channels.grid_app.schemas import SyncIn, SyncOut
from core.auth.const import Role
from core.errors import BadRequest, PayloadTooLarge, ValidationFailed
from core.media.images import too_large
from core.web.body import MAX_JSON_BODY, read_multipart, read_part
from core.web.endpoint import Call, endpoint, refuse_controls, validation_error
from core.web.keys import RUNTIME

routes = web.RouteTableDef()
FIELD_ROLES: Final = frozenset({Role.INSPECTOR, Role.HANDLER})
_BATCH_PART: Final = "batch"
# The form of a sync with its photos: the batch (JSON text) and any number of photo parts.
_SYNC_FORM: Final = {
    "type": "object",
    "required": [_BATCH_PART],
    "properties": {
        _BATCH_PART: {"type": "string", "description": "the batch as JSON (as the JSON body)"},
    },
    "additionalProperties": {"type": "string", "format": "binary"},
}


def _field(request: web.Request) -> FieldDeps:
    return request.app[RUNTIME][FIELD]


@routes.post("/api/v1/field/sync")
@endpoint(
    roles=FIELD_ROLES,
    summary="同步离线队列（上报、自行处置、任务结果、案件处置、轨迹、上下岗；逐项答复）",
    body=SyncIn,
    form=_SYNC_FORM,
    response=SyncOut,
    tags=("城管通",),
    errors=(400, 413, 415, 422),
)
async def sync_queue(request: web.Request, call: Call) -> SyncOut:
    """Do every item of the phone's queue and answer each; photos may ride in the request."""
    deps, who, runtime = _field(request), call.who, request.app[RUNTIME]
    parts: dict[str, bytes] = {}
    if request.content_type == "multipart/form-data":
        batch, parts = await _read_form(request, deps)
    else:
        batch = call.body(SyncIn)
    if len(batch.items) > deps.config.sync_max_items:  # refused whole: nothing is kept
        raise ValidationFailed(
            "too many items",
            code="too_many_items",
            message=f"一次最多同步 {deps.config.sync_max_items} 项，请分批提交",
        )
    uploads = await store_parts(parts, runtime=runtime, staff_id=who.id) if parts else Uploads()
    answers = await sync.run(batch.items, who, runtime=runtime, uploads=uploads, config=deps.config)
    return SyncOut(items=answers, photos=uploads.stored)


async def _read_form(request: web.Request, deps: FieldDeps) -> tuple[SyncIn, dict[str, bytes]]:
    return await read_multipart(lambda: _parts(request, deps))


async def _parts(request: web.Request, deps: FieldDeps) -> tuple[SyncIn, dict[str, bytes]]:
    reader = await request.multipart()
    settings = request.app[RUNTIME].settings
    batch: SyncIn | None = None
    photos: dict[str, bytes] = {}
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader) or not part.name:
            raise BadRequest("unnamed part", code="unknown_part", message="每个部分都需要名称")
        if part.name == _BATCH_PART:
            batch = _batch(await read_part(part, MAX_JSON_BODY))
            continue
        if len(photos) >= deps.config.sync_max_photos:
            raise PayloadTooLarge(
                "too many photos",
                code="too_many_photos",
                message=f"一次最多附带 {deps.config.sync_max_photos} 张照片",
            )
        if part.name in photos:
            raise BadRequest("a part twice", code="duplicate_part", message="照片名称重复")
        limit = settings.upload_max_bytes
        photos[part.name] = await read_part(part, limit, message=too_large(limit))
    if batch is None:
        raise BadRequest("no batch part", code="batch_missing", message="缺少 batch 部分")
    return batch, photos


def _batch(raw: bytes) -> SyncIn:
    try:
        data = json.loads(raw or b"null")
    except (ValueError, UnicodeDecodeError, RecursionError) as err:
        raise BadRequest(
            "malformed batch JSON", code="malformed_json", message="batch 不是有效的 JSON"
        ) from err
    if not isinstance(data, dict):
        raise ValidationFailed("batch must be an object", message="batch 应为 JSON 对象")
    refuse_controls(data, "batch")
    try:
        return SyncIn.model_validate(data)
    except ValidationError as err:
        raise validation_error(err, "batch") from err
