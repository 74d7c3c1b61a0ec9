"""Reading a request body with a bound of its own, far below the upload limit of the app."""

from __future__ import annotations

from typing import Final

from aiohttp import web

from core.errors import PayloadTooLarge

MAX_JSON_BODY: Final = 1024 * 1024  # a report, a note, a rule: a few KB; never megabytes
_CHUNK: Final = 64 * 1024


async def read_body(request: web.Request, limit: int, *, message: str = "请求内容过大") -> bytes:
    """The whole body, or 413 as soon as it is known to pass `limit` (declared or counted)."""
    if (request.content_length or 0) > limit:
        raise PayloadTooLarge(
            f"body of {request.content_length} bytes over {limit}", message=message
        )
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(_CHUNK):
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"body over {limit} bytes", message=message)
        chunks.append(chunk)
    return b"".join(chunks)
