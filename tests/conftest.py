"""Fixtures shared by every test: settings, a migrated database, a running app.

The suite runs on SQLite always; set CITYLOOP_TEST_DATABASE_URL (a PostgreSQL server URL) and
CITYLOOP_TEST_REDIS_URL to run the same tests on PostgreSQL and Redis (.ci/run does both).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient, TestServer

from core.auth.service import configure_hasher
from core.config import Settings, load_settings
from core.db import database
from core.web import create_app
from tests.channels.wechat_server import FakeWeChatAPI

PG_URL = os.environ.get("CITYLOOP_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("CITYLOOP_TEST_REDIS_URL")
SHARED = Path(__file__).resolve().parents[2] / "shared"


def _pg_admin_dsn(url: str) -> str:
    return url.replace("postgres://", "postgresql://", 1)


def _with_db(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


async def _migrate(url: str) -> None:
    async with database(load_settings(database_url=url), migrate=True):
        pass


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Migrate one database per session; tests copy (SQLite) or truncate (PostgreSQL) it."""
    if PG_URL:
        name = f"cityloop_test_{uuid.uuid4().hex[:10]}"
        asyncio.run(_pg_execute(PG_URL, f'CREATE DATABASE "{name}"'))
        url = _with_db(PG_URL, name)
        asyncio.run(_migrate(url))
        yield url
        asyncio.run(_pg_execute(PG_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    else:
        path = tmp_path_factory.mktemp("template") / "template.sqlite3"
        asyncio.run(_migrate(f"sqlite://{path}"))
        yield str(path)


async def _pg_execute(url: str, sql: str) -> None:
    conn = await asyncpg.connect(_pg_admin_dsn(url))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _pg_truncate(url: str) -> None:
    conn = await asyncpg.connect(_pg_admin_dsn(url))
    try:
        tables = await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname='public' "
            "AND tablename <> 'tortoise_migrations'"
        )
        if tables:
            names = ", ".join(f'"{t["tablename"]}"' for t in tables)
            await conn.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    finally:
        await conn.close()


@pytest.fixture
def database_url(template_db: str, tmp_path: Path) -> str:
    """A migrated, empty database for this test."""
    if PG_URL:
        asyncio.run(_pg_truncate(template_db))
        return template_db
    target = tmp_path / "cityloop.sqlite3"
    shutil.copyfile(template_db, target)
    return f"sqlite://{target}"


@pytest.fixture
def settings(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Settings]:
    """Settings for one test: its own database, media folder and queue name (whose Redis
    keys, the arq queue among them, are deleted after the test)."""
    for key in list(os.environ):
        if key.startswith("CITYLOOP_") and not key.startswith("CITYLOOP_TEST_"):
            monkeypatch.delenv(key)
    overrides: dict[str, Any] = {
        "database_url": database_url,
        "media_dir": tmp_path / "media",
        "queue_name": f"cityloop:test:{uuid.uuid4().hex[:8]}",
        "log_format": "text",
        # Cheap hashes: the suite creates hundreds of accounts. Production keeps the defaults.
        "password_time_cost": 1,
        "password_memory_kib": 1024,
    }
    if REDIS_URL:
        overrides["redis_url"] = REDIS_URL
    settings = load_settings(**overrides)
    configure_hasher(time_cost=settings.password_time_cost, memory_kib=settings.password_memory_kib)
    yield settings
    if REDIS_URL:
        _forget(REDIS_URL, settings.queue_name)


def _forget(url: str, queue: str) -> None:
    """Delete a test's Redis keys: its queue and everything named under it."""
    import redis

    client = redis.Redis.from_url(url)
    try:
        keys = [queue, *client.scan_iter(match=f"{queue}:*", count=1000)]
        client.delete(*keys)
    finally:
        client.close()


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[None]:
    """The test's database, open for model queries (for tests without a running app)."""
    async with database(settings):
        yield


@pytest.fixture
async def client(aiohttp_client: Any, settings: Settings) -> TestClient[Any, Any]:
    """A running app on a real socket, with its own database; models can be queried too."""
    return await aiohttp_client(create_app(settings))  # type: ignore[no-any-return]


@pytest.fixture
async def wechat_api() -> AsyncIterator[tuple[FakeWeChatAPI, str]]:
    """WeChat's API host, faked on a real port, and its base URL (CITYLOOP_WECHAT_API_BASE):
    for the channels' tests and for the packages that reach citizens through them."""
    fake = FakeWeChatAPI()
    server = TestServer(fake.app())
    await server.start_server()
    yield fake, str(server.make_url("")).rstrip("/")
    await server.close()


@pytest.fixture
def runners() -> Iterator[list[subprocess.Popen[bytes]]]:
    """The cityloop processes a test starts: stopped (SIGTERM, then SIGKILL) at its end."""
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
