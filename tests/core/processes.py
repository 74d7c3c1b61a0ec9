"""cityloop processes for the tests that run the real server or worker (`cityloop COMMAND`).

Imported as `tests.core.processes`; the `runners` fixture is in tests/core/conftest.py.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from core.config import Settings

REDIS_URL = os.environ.get("CITYLOOP_TEST_REDIS_URL")


def free_port() -> int:
    """A loopback port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def base_env(settings: Settings, *, redis: bool, path: list[str], **extra: str) -> dict[str, str]:
    """The environment of a process on this test's database, media folder and queue."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITYLOOP_")}
    env.update(
        CITYLOOP_DATABASE_URL=settings.database_url,
        CITYLOOP_MEDIA_DIR=str(settings.media_dir),
        CITYLOOP_QUEUE_NAME=settings.queue_name,
        CITYLOOP_PORT=str(free_port()),
        CITYLOOP_LOG_FORMAT="text",
        CITYLOOP_OUTBOX_SWEEP_S="1",
        CITYLOOP_OUTBOX_STALE_S="1",
        PYTHONPATH=os.pathsep.join([*path, env.get("PYTHONPATH", "")]),
        **extra,
    )
    if redis:
        assert REDIS_URL
        env["CITYLOOP_REDIS_URL"] = REDIS_URL
    return env


def start(command: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start `cityloop COMMAND`, its output appended to log."""
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "core.cli", command], env=env, stdout=out, stderr=out
        )


async def wait_ready(base: str, procs: list[subprocess.Popen[bytes]], log: Path) -> None:
    """Wait until the server at base answers /readyz 200; fail with its log if it does not."""
    deadline = time.monotonic() + 60
    async with aiohttp.ClientSession() as http:
        while time.monotonic() < deadline:
            if any(p.poll() is not None for p in procs):
                break
            try:
                async with http.get(base + "/readyz") as r:
                    if r.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
    pytest.fail(f"server did not come up; its log:\n{log.read_text()[-3000:]}")
