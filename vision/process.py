"""A vision process outside the web server: the database, the runtime, the shared HTTP
session and the job queue, open for `vision run` and `vision import`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import AsyncIterator

import aiohttp

from core.config import load_settings
from core.db import database
from core.errors import CityloopError
from core.jobs.queues import ArqQueue, JobQueue, LocalQueue
from core.packages import config_of
from core.runtime import Runtime, build_runtime, start_packages, stop_packages
from vision import service
from vision.config import VisionConfig
from vision.const import NAME

log = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def running() -> AsyncIterator[Runtime]:
    """Open what a worker process opens; kick outbox rows to Redis, else run them here (the
    web server's sweeper runs any this process leaves)."""
    settings = load_settings()
    runtime = build_runtime(settings, process="worker")
    async with database(settings), aiohttp.ClientSession() as http:
        runtime.http = http
        pool = None
        if settings.redis_dsn:
            from arq.connections import RedisSettings, create_pool

            pool = await create_pool(RedisSettings.from_dsn(settings.redis_dsn))
            runtime.use_redis(pool)
        queue: JobQueue = ArqQueue(pool, settings) if pool else LocalQueue(runtime)
        runtime.queue = queue
        await runtime.grids.refresh(force=True)
        await start_packages(runtime)
        try:
            yield runtime
        finally:
            await stop_packages(runtime)
            await queue.close()
            if pool is not None:
                await pool.aclose()


async def watch(shard: tuple[int, int] = (1, 1)) -> int:
    """`cityloop vision run [--shard i/n]`: watch the cameras until SIGINT or SIGTERM."""
    from vision.detector import OnnxDetector
    from vision.runner import Runner

    try:
        async with running() as runtime:
            config = config_of(runtime.settings, NAME, VisionConfig)
            detector = await asyncio.to_thread(OnnxDetector, config)
            http = runtime.http
            if http is None:
                raise RuntimeError("running() opens the HTTP session")
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            print(
                f"vision: {detector.name} ({detector.layout}) on {detector.provider}; "
                f"watching the enabled cameras (share {shard[0]}/{shard[1]}; Ctrl-C stops)",
                flush=True,
            )
            await Runner(runtime, detector, config, http, shard=shard).run(stop)
    except CityloopError as err:
        print(f"cityloop vision run: {err.detail}", file=sys.stderr)
        return 2
    return 0


async def import_cameras(text: str) -> int:
    """`cityloop vision import FILE`: all the file's cameras, or none."""
    try:
        async with running() as runtime:
            counts = await service.import_file(runtime, text)
    except CityloopError as err:  # a refused file, or no database to write to
        print(f"cityloop vision import: {err.message}", file=sys.stderr)
        for problem in err.extra.get("fields", []):
            print(f"  {problem['field']}: {problem['message']}", file=sys.stderr)
        if not err.extra.get("fields"):
            print(f"  {err.detail}", file=sys.stderr)
        return 2
    print(f"摄像头：新增 {counts['created']}，更新 {counts['updated']}")
    return 0
