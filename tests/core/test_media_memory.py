"""Decode memory of `cityloop serve` under a burst of PNG bombs: tiny files, huge pictures.

A 6000 × 6600 PNG of zeros is about 120 KB on the wire and 119 MB once decoded (RGB). Eight of
them in parallel once took the server to 2.4 GB and left 2 GB resident. Now image work has its
own bounded pool, grey stays one byte a pixel, and freed memory goes back to the system.
"""

from __future__ import annotations

import asyncio
import io
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest
from PIL import Image

from core.auth.accounts import create_staff
from core.config import Settings
from tests.core.processes import base_env, start, wait_ready

MB = 1024 * 1024
PARALLEL = 8
SIZE = (6000, 6600)  # 39.6 MP: under the staff limit (40 MP), over a citizen's (25 MP)
# Before the fix: 2.2 GB peak over the idle server and 0.7-0.9 GB left resident.
PEAK_BOUND = 1024 * MB
RESIDUAL_BOUND = 256 * MB


def _kb(pid: int, field: str) -> int:
    """A field of /proc/<pid>/status (VmRSS, VmHWM) in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise AssertionError(f"{field} not in /proc/{pid}/status")


def _bomb() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", SIZE).save(out, "PNG", compress_level=9)
    return out.getvalue()


async def _upload(http: aiohttp.ClientSession, url: str, token: str, data: bytes) -> int:
    form = aiohttp.FormData()
    form.add_field("file", data, filename="zeros.png", content_type="image/png")
    async with http.post(url, data=form, headers={"Authorization": f"Bearer {token}"}) as r:
        await r.read()
        return r.status


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/<pid>/status")
async def test_eight_png_bombs_in_parallel_stay_within_a_bound(
    db: None, settings: Settings, tmp_path: Path, runners: list[subprocess.Popen[bytes]]
) -> None:
    await create_staff(
        username="xuncha", password="correct-horse-9", display_name="监督员", roles=["inspector"]
    )
    env = base_env(settings, redis=False, path=[])
    base, log = f"http://127.0.0.1:{env['CITYLOOP_PORT']}", tmp_path / "server.log"
    runners.append(server := start("serve", env, log))
    await wait_ready(base, runners, log)
    bomb = _bomb()
    assert len(bomb) < 200 * 1024
    async with aiohttp.ClientSession() as http:
        login = {"username": "xuncha", "password": "correct-horse-9"}
        async with http.post(base + "/api/v1/auth/login", json=login) as r:
            token = (await r.json())["token"]
        small = io.BytesIO()
        Image.new("RGB", (64, 64), "red").save(small, "PNG")  # PIL's plugins loaded, pools up
        assert await _upload(http, base + "/api/v1/media", token, small.getvalue()) == 201
        idle = _kb(server.pid, "VmRSS")
        started = time.monotonic()
        statuses = await asyncio.gather(
            *(_upload(http, base + "/api/v1/media", token, bomb) for _ in range(PARALLEL))
        )
        took = time.monotonic() - started
        await asyncio.sleep(1)
        peak, after = _kb(server.pid, "VmHWM") - idle, _kb(server.pid, "VmRSS") - idle
    # Each is decoded in full before its hash is looked up: eight decodes, two at a time.
    assert statuses == [201] * PARALLEL, statuses
    figure = (
        f"{PARALLEL} × {SIZE[0]}×{SIZE[1]} PNG ({len(bomb) // 1024} KB each) in {took:.1f} s: "
        f"peak {peak / MB:.0f} MB over idle (bound {PEAK_BOUND // MB}), "
        f"{after / MB:.0f} MB left resident (bound {RESIDUAL_BOUND // MB})"
    )
    print(figure)
    assert peak <= PEAK_BOUND, figure
    assert after <= RESIDUAL_BOUND, figure
