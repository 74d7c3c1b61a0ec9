"""The aiohttp app factory: typed state, cleanup contexts, routes of every package."""

from __future__ import annotations

import importlib
import logging
from collections.abc import AsyncIterator

import aiohttp
from aiohttp import web

from core.auth.service import configure_hasher
from core.calendar import WorkCalendar
from core.config import Settings
from core.const import JOB_MODULES, WEB_MODULES
from core.db import database
from core.jobs.queues import ArqQueue, LocalQueue
from core.jobs.registry import load_modules
from core.media.storage import LocalStorage
from core.org.service import GridCache
from core.web import health
from core.web.keys import CALENDAR, GRIDS, HTTP, JOBS, REDIS, SETTINGS, STORAGE
from core.web.middleware import request_context

log = logging.getLogger(__name__)
# Above the media upload limit: multipart bodies are counted as they stream (media views).
_BODY_SLACK = 64 * 1024


async def _db_ctx(app: web.Application) -> AsyncIterator[None]:
    async with database(app[SETTINGS]):
        yield


async def _redis_ctx(app: web.Application) -> AsyncIterator[None]:
    dsn = app[SETTINGS].redis_dsn
    if not dsn:
        app[REDIS] = None
        yield
        return
    from arq.connections import RedisSettings, create_pool

    pool = await create_pool(RedisSettings.from_dsn(dsn))
    app[REDIS] = pool
    try:
        yield
    finally:
        await pool.aclose()


async def _http_ctx(app: web.Application) -> AsyncIterator[None]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        app[HTTP] = session
        yield


async def _jobs_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    load_modules((*JOB_MODULES, *settings.job_modules))
    pool = app[REDIS]
    if pool is not None:
        app[JOBS] = ArqQueue(pool, settings)
    else:
        local = LocalQueue(settings, app[HTTP])
        local.start()
        app[JOBS] = local
    try:
        yield
    finally:
        await app[JOBS].close()


async def _grids_ctx(app: web.Application) -> AsyncIterator[None]:
    app[GRIDS] = GridCache()
    await app[GRIDS].refresh()
    yield


def create_app(settings: Settings) -> web.Application:
    """Build the application for these settings; nothing connects until it starts."""
    app = web.Application(
        middlewares=[request_context],
        client_max_size=settings.upload_max_bytes + _BODY_SLACK,
    )
    app[SETTINGS] = settings
    configure_hasher(time_cost=settings.password_time_cost, memory_kib=settings.password_memory_kib)
    app[CALENDAR] = WorkCalendar.from_profile(settings.profile)
    app[STORAGE] = LocalStorage(settings.media_dir)
    app.cleanup_ctx.extend([_db_ctx, _redis_ctx, _http_ctx, _jobs_ctx, _grids_ctx])
    app.router.add_routes(health.routes)
    for name in WEB_MODULES:
        module = importlib.import_module(name)
        if hasattr(module, "setup"):
            module.setup(app)
        app.router.add_routes(module.routes)
    return app


def serve(settings: Settings, *, reuse_port: bool = False) -> None:
    """Run the app until interrupted (the access log is our middleware's)."""
    web.run_app(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        access_log=None,
        print=None,
        reuse_port=reuse_port,
    )
