"""The aiohttp app factory: typed state, cleanup contexts, routes of every enabled package."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from core.auth.service import configure_hasher
from core.config import Settings
from core.db import database
from core.jobs.queues import ArqQueue, LocalQueue
from core.packages import route_tables
from core.runtime import build_runtime, start_packages, stop_packages
from core.web import health
from core.web.keys import CALENDAR, GRIDS, HTTP, JOBS, REDIS, RUNTIME, SETTINGS, STORAGE
from core.web.middleware import request_context

log = logging.getLogger(__name__)
# Above the media upload limit: multipart bodies are counted as they stream (media views).
_BODY_SLACK = 64 * 1024


async def _db_ctx(app: web.Application) -> AsyncIterator[None]:
    async with database(app[SETTINGS]):
        yield


async def _redis_ctx(app: web.Application) -> AsyncIterator[None]:
    runtime = app[RUNTIME]
    dsn = app[SETTINGS].redis_dsn
    if not dsn:
        app[REDIS] = None
        yield
        return
    from arq.connections import RedisSettings, create_pool

    pool = await create_pool(RedisSettings.from_dsn(dsn))
    app[REDIS] = pool
    runtime.use_redis(pool)
    try:
        yield
    finally:
        await pool.aclose()


async def _http_ctx(app: web.Application) -> AsyncIterator[None]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        app[HTTP] = app[RUNTIME].http = session
        yield


async def _jobs_ctx(app: web.Application) -> AsyncIterator[None]:
    runtime = app[RUNTIME]
    if runtime.redis is not None:
        runtime.queue = ArqQueue(runtime.redis, runtime.settings)
    else:
        local = LocalQueue(runtime)
        local.start()
        runtime.queue = local
    app[JOBS] = runtime.queue
    try:
        yield
    finally:
        await runtime.queue.close()


async def _grids_ctx(app: web.Application) -> AsyncIterator[None]:
    await app[GRIDS].refresh()
    yield


async def _packages_ctx(app: web.Application) -> AsyncIterator[None]:
    runtime = app[RUNTIME]
    await start_packages(runtime)
    try:
        yield
    finally:
        await stop_packages(runtime)


async def _closing(app: web.Application) -> None:
    app[RUNTIME].closing.set()


def create_app(settings: Settings) -> web.Application:
    """Build the application for these settings; nothing connects until it starts.

    A package's `configure` runs here: a bad city profile or package setting stops the start.
    """
    app = web.Application(
        middlewares=[request_context],
        client_max_size=settings.upload_max_bytes + _BODY_SLACK,
    )
    app[SETTINGS] = settings
    configure_hasher(
        time_cost=settings.password_time_cost,
        memory_kib=settings.password_memory_kib,
        workers=settings.password_workers,
        max_waiting=settings.password_max_waiting,
    )
    runtime = build_runtime(settings, process="web")
    app[RUNTIME] = runtime
    app[CALENDAR] = runtime.calendar
    app[GRIDS] = runtime.grids
    app[STORAGE] = runtime.storage
    app.on_shutdown.append(_closing)
    app.cleanup_ctx.extend([_db_ctx, _redis_ctx, _http_ctx, _jobs_ctx, _grids_ctx, _packages_ctx])
    app.router.add_routes(health.routes)
    for table in route_tables(settings):
        app.router.add_routes(table)
    return app
