"""Reading a request body with a bound of its own, far below the upload limit of the app, and
the parts of a multipart body, each with its own bound."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Final, TypeVar

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from core.errors import BadRequest, PayloadTooLarge

T = TypeVar("T")

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


async def read_part(part: BodyPartReader, limit: int, *, message: str = "上传内容过大") -> bytes:
    """One part's bytes, or 413 as soon as they pass `limit`: client_max_size does not bound
    streamed multipart reads, so they are counted here."""
    chunks: list[bytes] = []
    size = 0
    while chunk := await part.read_chunk(_CHUNK):
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(
                f"part over {limit} bytes", message=message, extra={"max_bytes": limit}
            )
        chunks.append(chunk)
    return b"".join(chunks)


async def read_multipart(read: Callable[[], Awaitable[T]]) -> T:
    """Run a reader of multipart parts; a broken body or part header is 400, not a 500."""
    try:
        return await read()
    except (ValueError, HttpProcessingError) as err:
        # Not the error's text: it holds the raw header bytes, which must not reach a log.
        raise BadRequest(
            f"malformed multipart ({type(err).__name__})",
            code="malformed_multipart",
            message="上传内容格式不正确",
        ) from None
