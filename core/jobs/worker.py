"""arq WorkerSettings: every job and cron of cityloop (`cityloop worker` runs it)."""

from __future__ import annotations

import logging
from typing import Any, ClassVar

import aiohttp
from arq import cron
from arq.connections import RedisSettings

from core.config import Settings, load_settings
from core.const import JOB_MODULES
from core.db import database
from core.jobs import outbox
from core.jobs.queues import ArqQueue
from core.jobs.registry import JobContext, Periodic, PeriodicContext, load_modules, periodic_jobs

log = logging.getLogger(__name__)


async def run_outbox(ctx: dict[str, Any], outbox_id: int) -> str:
    """Run one outbox row (arq job)."""
    settings: Settings = ctx["settings"]
    context = JobContext(settings, ctx["http"], outbox_id, 0)
    return await outbox.run_item(outbox_id, context=context, lease_s=settings.job_timeout_s)


async def sweep_outbox(ctx: dict[str, Any]) -> int:
    """Queue again the rows that were never queued or whose runner died (arq cron)."""
    settings: Settings = ctx["settings"]
    rows = await outbox.due(stale_s=settings.outbox_stale_s)
    sent = await ArqQueue(ctx["redis"], settings).enqueue(rows)
    if sent:
        log.info("sweeper queued %s outbox rows", sent)
    return sent


async def startup(ctx: dict[str, Any]) -> None:
    """Open the database and the HTTP session, load every job module."""
    settings = ctx.get("settings") or load_settings()
    ctx["settings"] = settings
    load_modules((*JOB_MODULES, *settings.job_modules))
    ctx["db"] = database(settings, global_fallback=True)
    await ctx["db"].__aenter__()
    ctx["http"] = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))


async def shutdown(ctx: dict[str, Any]) -> None:
    """Close what startup opened."""
    await ctx["http"].close()
    await ctx["db"].__aexit__(None, None, None)


def _periodic_crons(settings: Settings) -> list[Any]:
    """One arq cron per registered periodic job (their modules must be loaded first)."""
    crons = []
    for job in periodic_jobs():

        async def run(ctx: dict[str, Any], job: Periodic = job) -> None:
            await job.fn(PeriodicContext(ctx["settings"], ArqQueue(ctx["redis"], ctx["settings"])))

        run.__qualname__ = run.__name__ = job.name.replace(".", "_")
        crons.append(cron(run, name=job.name, second=_every(job.every_s), unique=True))
    return crons


def _every(seconds: int) -> set[int]:
    step = max(1, min(seconds, 60))
    return set(range(0, 60, step))


class WorkerSettings:
    """What `arq` runs; cityloop worker fills in Redis, queue and timeouts from Settings."""

    functions: ClassVar[list[Any]] = [run_outbox]
    cron_jobs: ClassVar[list[Any]] = [
        cron(sweep_outbox, second=_every(30), run_at_startup=True, unique=True)
    ]
    on_startup = startup
    on_shutdown = shutdown
    redis_settings = RedisSettings()
    queue_name = "cityloop:queue"
    job_timeout = 60
    max_tries = 5


def worker_options(settings: Settings) -> dict[str, Any]:
    """Build the arq worker options for these settings."""
    load_modules((*JOB_MODULES, *settings.job_modules))
    dsn = settings.redis_dsn
    if not dsn:
        raise ValueError("CITYLOOP_REDIS_URL is not set: jobs run inside `cityloop serve`")
    return {
        "redis_settings": RedisSettings.from_dsn(dsn),
        "queue_name": settings.queue_name,
        "job_timeout": settings.job_timeout_s,
        "cron_jobs": [
            cron(sweep_outbox, second=_every(settings.outbox_sweep_s), run_at_startup=True),
            *_periodic_crons(settings),
        ],
        "ctx": {"settings": settings},
    }
