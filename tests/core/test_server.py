"""`cityloop serve`: requests aiohttp's parser refuses still get our JSON error shape."""

from __future__ import annotations

import asyncio
import json
import subprocess
from pathlib import Path

from core.config import Settings
from tests.core.processes import base_env, start, wait_ready


async def _raw(port: int, request: bytes) -> tuple[str, dict[str, str], bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    await writer.drain()
    data = await asyncio.wait_for(reader.read(), 10)  # the server closes after an error
    writer.close()
    head, _, body = data.partition(b"\r\n\r\n")
    status, *lines = head.decode().split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return status, headers, body


async def test_parser_errors_answer_json_and_log_no_bytes(
    db: None, settings: Settings, tmp_path: Path, runners: list[subprocess.Popen[bytes]]
) -> None:
    env = base_env(settings, redis=False, path=[])
    port, log = int(env["CITYLOOP_PORT"]), tmp_path / "server.log"
    runners.append(start("serve", env, log))
    await wait_ready(f"http://127.0.0.1:{port}", runners, log)
    secret = "13812345678"
    cases = {
        b"GET /readyz HTTP/1.1\r\nHost: x\r\nX-Note: " + secret.encode() * 900 + b"\r\n\r\n": (
            "header_too_long"
        ),
        b"GET /readyz HTTP/1.1\r\nHost: x\r\nX-Bad\x00Name: " + secret.encode() + b"\r\n\r\n": (
            "bad_http_request"
        ),
        b"G(T / HTTP/1.1\r\n\r\n": "bad_http_request",
    }
    for request, code in cases.items():
        status, headers, body = await _raw(port, request)
        assert " 400 " in status, (status, body)
        assert headers["content-type"].startswith("application/json")
        doc = json.loads(body)
        assert doc["code"] == code
        assert "请求" in doc["message"]
        assert doc["request_id"] == headers["x-request-id"]
        assert f"[{doc['request_id']}]" in log.read_text()  # the line names the request
    assert secret not in log.read_text()


def test_the_event_loop_is_uvloop_unless_the_settings_say_asyncio(settings: Settings) -> None:
    import uvloop

    from core.web.server import _loop_factory

    factory = _loop_factory(settings.model_copy(update={"event_loop": "uvloop"}))
    assert factory is not None
    loop = factory()
    try:
        assert isinstance(loop, uvloop.Loop)
    finally:
        loop.close()
    assert _loop_factory(settings.model_copy(update={"event_loop": "asyncio"})) is None
