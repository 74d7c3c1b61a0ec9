"""Running the app: one listener, and the JSON error shape even for requests aiohttp's own
parser refuses before any route or middleware sees them (a 9 KB header line, a bad method).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError, LineTooLong
from aiohttp.web_protocol import RequestHandler
from aiohttp.web_request import BaseRequest
from aiohttp.web_runner import GracefulExit
from aiohttp.web_server import Server

from core.config import Settings
from core.const import REQUEST_ID_HEADER
from core.logs import request_id_var
from core.web.app import create_app
from core.web.middleware import error_body, new_request_id

log = logging.getLogger("cityloop.http")  # the access log of every other request


class _JsonErrorHandler(RequestHandler):
    """aiohttp's connection handler, answering its own parser errors in our JSON shape."""

    def handle_error(
        self,
        request: BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if status >= 500:  # a handler's own failure: aiohttp logs it and answers 500
            return super().handle_error(request, status, exc, message)
        rid = new_request_id()
        token = request_id_var.set(rid)  # the log filter stamps it, as on every other line
        try:
            # The kind of error only: its text holds the raw bytes the client sent.
            log.info(
                "refused by the HTTP parser: %s %s",
                status,
                type(exc).__name__ if exc else "-",
                extra={"status": status},
            )
        finally:
            request_id_var.reset(token)
        if request.writer.output_size > 0:
            raise ConnectionError("response already started")
        code, text = _code_of(exc)
        response = web.Response(
            status=status,
            text=json.dumps(error_body(code, text, rid), ensure_ascii=False),
            content_type="application/json",
            headers={REQUEST_ID_HEADER: rid},
        )
        response.force_close()
        return response


def _code_of(exc: BaseException | None) -> tuple[str, str]:
    """The stable code and the Chinese message of a parser error."""
    if isinstance(exc, LineTooLong):
        return "header_too_long", "请求行或请求头过长"
    if isinstance(exc, HttpProcessingError) and exc.code == 413:
        return "payload_too_large", "请求内容过大"
    return "bad_http_request", "请求格式不正确"


class _JsonErrorServer(Server):
    def __call__(self) -> RequestHandler:
        return _JsonErrorHandler(self, loop=self._loop, **self._kwargs)


async def _serve(settings: Settings, *, reuse_port: bool) -> None:
    runner = web.AppRunner(create_app(settings), access_log=None, handle_signals=True)
    await runner.setup()
    server = runner.server
    if server is None:
        raise RuntimeError("the app runner built no server")
    # Same server, our connection handler (the runner built it from the app's own factory).
    server.__class__ = _JsonErrorServer
    try:
        site = web.TCPSite(runner, settings.host, settings.port, reuse_port=reuse_port)
        await site.start()
        await asyncio.Event().wait()  # until SIGINT/SIGTERM (GracefulExit)
    finally:
        await runner.cleanup()


def serve(settings: Settings, *, reuse_port: bool = False) -> None:
    """Run the app until interrupted (the access log is our middleware's)."""
    with (
        contextlib.suppress(GracefulExit, KeyboardInterrupt),
        asyncio.Runner(loop_factory=_loop_factory(settings)) as runner,
    ):
        runner.run(_serve(settings, reuse_port=reuse_port))


def _loop_factory(settings: Settings) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop where the settings ask for it and it is installed, else asyncio's."""
    if settings.event_loop != "uvloop":
        return None
    try:
        import uvloop
    except ImportError:
        log.warning("CITYLOOP_EVENT_LOOP=uvloop but uvloop is not installed: asyncio's loop runs")
        return None
    return uvloop.new_event_loop
