"""`cityloop serve --demo` and `cityloop wechat simulate`, run as a newcomer runs them: the
simulator plays WeChat against the demo server (safe mode, as the demo configures it) and the
citizen gets a case number back."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from core.config import Settings
from tests.cases.helpers import jpeg
from tests.core.processes import base_env, free_port


async def _ready(base: str, server: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline and server.poll() is None:
            try:
                async with http.get(base + "/readyz") as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    pytest.fail(f"server did not come up:\n{log.read_text()[-3000:]}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


async def test_the_simulator_reports_through_the_demo_server(
    settings: Settings, tmp_path: Path
) -> None:
    api_port = free_port()
    env = base_env(
        settings,
        redis=False,
        path=[str(Path.cwd())],
        CITYLOOP_WECHAT_API_BASE=f"http://127.0.0.1:{api_port}",
    )
    base = f"http://127.0.0.1:{env['CITYLOOP_PORT']}"
    log = tmp_path / "serve.log"
    with log.open("ab") as out:
        server = await asyncio.to_thread(
            subprocess.Popen,
            [sys.executable, "-m", "core.cli", "serve", "--demo"],
            env=env,
            stdout=out,
            stderr=out,
        )
    try:
        await _ready(base, server, log)
        printed = log.read_text()
        assert "cityloop wechat simulate" in printed  # serve --demo says how to try it
        photo = tmp_path / "photo.jpg"
        photo.write_bytes(jpeg())
        # After 1 the photo may still be on its way: then the number follows as a 客服消息.
        lines = ["/subscribe", f"/photo {photo}", "/location", "路口垃圾桶满了溢出来", "1"]
        script = "\n".join([*lines, "/wait 4", "查询", "/quit", ""])
        sim = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "core.cli", "wechat", "simulate"),
            *("--url", base + "/wechat/oa", "--linger", "0"),
            env=env,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        shown, _ = await asyncio.wait_for(sim.communicate(script.encode()), 60)
        text = shown.decode()
        assert "安全模式" in text and "感谢关注" in text, text
        assert "已收到照片（共1张）" in text and "上报成功！案件编号：" in text, text
        number = text.split("上报成功！案件编号：")[1][:16]
        assert f"{number}  待受理" in text  # 查询 lists it
    finally:
        _stop(server)
