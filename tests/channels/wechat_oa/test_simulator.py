"""`cityloop serve --demo` and `cityloop wechat simulate`, run as a newcomer runs them: the
simulator plays WeChat against the demo server (safe mode, as the demo configures it) and the
citizen gets a case number back."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from core.config import Settings
from tests.cases.helpers import jpeg
from tests.core.processes import base_env, free_port, wait_ready


async def test_the_simulator_reports_through_the_demo_server(
    settings: Settings, tmp_path: Path, runners: list[subprocess.Popen[bytes]]
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
    runners.append(server)  # stopped at the end, whatever happens
    await wait_ready(base, runners, log)
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
