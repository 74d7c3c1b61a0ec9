"""schemathesis over /api/v1/mp of a running server (`cityloop serve --demo`) with a citizen's
token: no generated request gets a 5xx, and every answer (status, media type, body) is the one
its document lists."""

from __future__ import annotations

import asyncio
import shutil
import sys
from pathlib import Path

import aiohttp
import pytest

from core.config import Settings
from tests.channels.wechat_server import APP_ID, APP_SECRET, FakeWeChatAPI
from tests.core.processes import base_env

ST = Path(sys.executable).with_name("st")
# What .ci/fuzz checks for the rest of the API: no 5xx, no status or media type the document
# does not list, no answer off its schema.
CHECKS = (
    "not_a_server_error,status_code_conformance,content_type_conformance,"
    "response_schema_conformance"
)


async def _until_ready(base: str, proc: asyncio.subprocess.Process, log: Path) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(300):
            if proc.returncode is not None:
                break
            try:
                async with http.get(base + "/readyz") as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    pytest.fail(f"server did not come up:\n{log.read_text()[-3000:]}")


async def test_schemathesis_finds_no_5xx_in_the_mini_program_api(
    settings: Settings, tmp_path: Path, wechat_api: tuple[FakeWeChatAPI, str]
) -> None:
    if not ST.exists() and shutil.which("st") is None:
        pytest.skip("schemathesis is not installed: pip install -e '.[test]'")
    api, api_base = wechat_api
    api.login_codes["st-login"] = "oMP_schemathesis_000000001"
    env = base_env(
        settings,
        redis=False,
        path=[str(Path.cwd())],
        CITYLOOP_WECHAT_API_BASE=api_base,
        CITYLOOP_WECHAT_MP_APP_ID=APP_ID,
        CITYLOOP_WECHAT_MP_APP_SECRET=APP_SECRET,
        CITYLOOP_WECHAT_MP_CONTENT_CHECK="true",
        CITYLOOP_WECHAT_MP_TOKEN="pushtoken",
        CITYLOOP_WECHAT_MP_REPORTS_PER_HOUR="1000",
    )
    base = f"http://127.0.0.1:{env['CITYLOOP_PORT']}"
    log = tmp_path / "serve.log"
    with log.open("ab") as out:
        server = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "core.cli", "serve", "--demo"), env=env, stdout=out, stderr=out
        )
    try:
        await _until_ready(base, server, log)
        async with (
            aiohttp.ClientSession() as http,
            http.post(base + "/api/v1/mp/login", json={"code": "st-login"}) as r,
        ):
            assert r.status == 200, await r.text()
            token = (await r.json())["token"]
        st = await asyncio.create_subprocess_exec(
            str(ST if ST.exists() else shutil.which("st")),
            *("run", f"{base}/api/openapi.json"),
            *("--include-path-regex", "^/api/v1/mp"),
            *("--checks", CHECKS),
            *("--header", f"Authorization: Bearer {token}"),
            *("--max-examples", "30", "--request-timeout", "10", "--generation-deterministic"),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env={**env, "SCHEMATHESIS_HOOKS": ""},
        )
        shown, _ = await asyncio.wait_for(st.communicate(), 300)
        assert st.returncode == 0, shown.decode()[-6000:]
    finally:
        if server.returncode is None:
            server.terminate()
            await asyncio.wait_for(server.wait(), 15)
