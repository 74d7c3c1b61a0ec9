"""A report and its photos in one multipart request: every byte counted, unknown parts refused."""

from __future__ import annotations

import json
from typing import Any, Final

from aiohttp import BodyPartReader, MultipartReader
from pydantic import ValidationError

from channels.wechat_mp.schemas import MpReportIn
from core.errors import BadRequest
from core.media.images import too_large
from core.web.body import read_multipart, read_part
from core.web.endpoint import validation_error

MAX_PHOTOS: Final = 9
MAX_REPORT_PART: Final = 16 * 1024  # the JSON of a report is a few hundred bytes
_CHUNK: Final = 64 * 1024
# The parts as OpenAPI names them: `report` is MpReportIn's JSON as text, `file` one per photo.
FORM_SCHEMA: Final[dict[str, Any]] = {
    "type": "object",
    "properties": {
        "report": {"type": "string", "contentMediaType": "application/json"},
        "file": {"type": "array", "items": {"type": "string", "format": "binary"}, "maxItems": 9},
    },
    "required": ["report"],
}


def require_multipart(content_type: str) -> None:
    """400 multipart_required unless the request is multipart/form-data."""
    if not content_type.startswith("multipart/"):
        raise BadRequest(
            "expected multipart/form-data",
            code="multipart_required",
            message="请以 multipart/form-data 提交：report 为 JSON，file 为照片",
        )


async def read_form(reader: MultipartReader, *, max_bytes: int) -> tuple[MpReportIn, list[bytes]]:
    """The `report` part as MpReportIn and the `file` parts' bytes."""
    return await read_multipart(lambda: _parts(reader, max_bytes))


async def _parts(reader: MultipartReader, max_bytes: int) -> tuple[MpReportIn, list[bytes]]:
    report: MpReportIn | None = None
    photos: list[bytes] = []
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader):
            raise BadRequest("nested multipart", code="unknown_part", message="不支持的表单内容")
        if part.name == "report" and report is None:
            report = _report(await read_part(part, MAX_REPORT_PART))
        elif part.name == "file" and len(photos) < MAX_PHOTOS:
            photos.append(await read_part(part, max_bytes, message=too_large(max_bytes)))
        else:
            raise BadRequest(
                f"unexpected part {str(part.name)[:40]!r}",
                code="unknown_part",
                message="表单只接受一个 report 和至多9个 file",
            )
    if report is None:
        raise BadRequest("no report part", code="report_missing", message="缺少 report 字段")
    return report, photos


def _report(raw: bytes) -> MpReportIn:
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as err:
        raise BadRequest(
            "report part is not JSON", code="malformed_json", message="report 不是有效的 JSON"
        ) from err
    try:
        return MpReportIn.model_validate(data)
    except ValidationError as err:
        raise validation_error(err, "report") from err
