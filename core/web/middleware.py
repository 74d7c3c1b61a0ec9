"""The error boundary and request ids: every failure becomes status + code + Chinese message."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid

from aiohttp import web
from aiohttp.typedefs import Handler

from core.const import REQUEST_ID_HEADER
from core.errors import CityloopError
from core.logs import request_id_var
from core.privacy import redact
from core.web.keys import REQUEST_ID

log = logging.getLogger("cityloop.http")
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")

# aiohttp's own HTTP errors (404 route, 405 method, 413 body) keep their status with our shape.
_HTTP_CODES = {
    400: ("bad_request", "请求格式不正确"),
    404: ("not_found", "未找到请求的地址"),
    405: ("method_not_allowed", "不支持该请求方法"),
    413: ("payload_too_large", "请求内容过大"),
    415: ("unsupported_media_type", "不支持的内容类型"),
}


def _unmasked(rid: str) -> bool:
    # An id the log masking would change (a run of digits reads as a phone or 身份证 number)
    # could not be found in the logs, and may be personal data: it is not used.
    return redact(rid) == rid


def new_request_id() -> str:
    """A request id of our own (a uuid4 in hex, never one the log masking would change)."""
    while not _unmasked(rid := uuid.uuid4().hex):
        pass
    return rid


def error_body(code: str, message: str, request_id: str, **extra: object) -> dict[str, object]:
    """Build the JSON error document every client sees."""
    return {"code": code, "message": message, "request_id": request_id, **extra}


def _json(status: int, body: dict[str, object]) -> web.Response:
    return web.json_response(body, status=status, dumps=lambda o: json.dumps(o, ensure_ascii=False))


@web.middleware
async def request_context(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Give each request an id, map our errors to JSON, log one line per request."""
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    rid = incoming if _SAFE_ID.match(incoming) and _unmasked(incoming) else new_request_id()
    request[REQUEST_ID] = rid
    token = request_id_var.set(rid)
    started = time.perf_counter()
    try:
        response = await _guarded(request, handler, rid)
        response.headers[REQUEST_ID_HEADER] = rid
        # The access line while the id is still set: the log filter stamps it on the record.
        log.info(
            "%s %s %s",
            request.method,
            request.path,  # never the query string: it may carry personal data
            response.status,
            extra={
                "request_id": rid,
                "status": response.status,
                "ms": round((time.perf_counter() - started) * 1000, 1),
            },
        )
    finally:
        request_id_var.reset(token)
    return response


async def _guarded(request: web.Request, handler: Handler, rid: str) -> web.StreamResponse:
    try:
        return await handler(request)
    except CityloopError as err:
        level = logging.ERROR if err.status >= 500 else logging.INFO
        log.log(level, "%s %s: %s", err.status, err.code, err.detail)
        return _json(err.status, error_body(err.code, err.message, rid, **err.extra))
    except web.HTTPException as err:
        if err.status < 400:
            raise
        code, message = _HTTP_CODES.get(err.status, ("http_error", "请求失败"))
        response = _json(err.status, error_body(code, message, rid))
        if "Allow" in err.headers:  # 405 must say which methods are allowed (RFC 9110)
            response.headers["Allow"] = err.headers["Allow"]
        return response
    except Exception:
        log.exception("unhandled error")
        return _json(500, error_body("internal_error", "服务器内部错误，请稍后再试", rid))
