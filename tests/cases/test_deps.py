"""The case services' dependencies (cases/deps.py): a queue that is down does not fail a
committed move (kick swallows the error; the sweeper queues the rows)."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from pydantic import SecretStr

from cases.models import Case, CaseEvent
from core.config import Settings
from core.demo import seed_demo
from core.jobs.models import OutboxItem
from core.web import create_app
from core.web.keys import GRIDS
from tests.cases.helpers import City


@dataclass
class RedisServer:
    """A private redis-server on a loopback port, stopped by the test or at teardown."""

    process: subprocess.Popen[bytes]
    url: str

    async def stop(self) -> None:
        """Stop the server and wait until it is gone."""
        self.process.terminate()
        await asyncio.to_thread(self.process.wait, 10)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"redis-server exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"redis-server did not listen on {port}")


@pytest.fixture
def private_redis() -> Iterator[RedisServer]:
    """Start a throwaway redis-server; always stop it."""
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.skip("redis-server is not installed")
    port = _free_port()
    args = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    process = subprocess.Popen(
        [exe, *args, "--daemonize", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_listening(port, process)
        yield RedisServer(process, f"redis://127.0.0.1:{port}/0")
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


async def test_redis_down_does_not_fail_a_committed_urge(
    aiohttp_client: Any, settings: Settings, private_redis: RedisServer
) -> None:
    own = settings.model_copy(update={"redis_url": SecretStr(private_redis.url)})
    client: TestClient[Any, Any] = await aiohttp_client(create_app(own))
    logins = await seed_demo(own)
    await client.app[GRIDS].refresh(force=True)
    city = City(client, own, {u: p for u, p, _ in logins})
    case = await city.dispatched(1, "消防通道违停")
    cid = case["id"]

    await private_redis.stop()
    status, out = await city.act(cid, "urge", "shift_lead", note="群众反映强烈，请尽快处置")
    assert status == 200, out
    assert out["urge_count"] == 1
    assert (await Case.get(id=cid)).urge_count == 1
    event = await CaseEvent.get(case_id=cid, action="urge")
    rows = [
        r
        for r in await OutboxItem.filter(kind="notify.staff").order_by("id")
        if r.payload.get("event_id") == event.id
    ]
    assert [(r.status, r.payload["department_id"]) for r in rows] == [
        ("pending", case["department_id"])
    ]
