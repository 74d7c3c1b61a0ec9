"""arq worker settings, built from `Settings` in one place.

`cityloop worker` and a plain `arq core.jobs.worker.WorkerSettings` run the same thing: the
class is made by `worker_settings(settings)` from the environment's settings, with the
outbox runner, the sweeper and one cron per periodic job of the enabled packages.
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
from arq import cron
from arq.connections import RedisSettings

from core.config import Settings, load_settings
from core.db import database
from core.jobs import outbox
from core.jobs.queues import ArqQueue
from core.jobs.registry import JobContext, Periodic, PeriodicContext, periodic_jobs

log = logging.getLogger(__name__)
ARQ_MAX_TRIES = 5  # arq retries only on Retry and cancellation; the outbox does the rest


async def run_outbox(ctx: dict[str, Any], outbox_id: int) -> str:
    """Run one outbox row (arq job)."""
    runtime = ctx["runtime"]
    context = JobContext(runtime, outbox_id, 0)
    return await outbox.run_item(outbox_id, context=context, lease_s=runtime.settings.job_timeout_s)


async def sweep_outbox(ctx: dict[str, Any]) -> int:
    """Queue again the rows that were never queued or whose runner died (arq cron)."""
    settings: Settings = ctx["settings"]
    rows = await outbox.due(stale_s=settings.outbox_stale_s)
    sent = await ArqQueue(ctx["redis"], settings).enqueue(rows)
    if sent:
        log.info("sweeper queued %s outbox rows", sent)
    return sent


async def startup(ctx: dict[str, Any]) -> None:
    """Open the database and the HTTP session; start the enabled packages."""
    from core.runtime import build_runtime, start_packages

    settings: Settings = ctx["settings"]
    runtime = build_runtime(settings, process="worker")
    ctx["db"] = database(settings, global_fallback=True)
    await ctx["db"].__aenter__()
    runtime.http = ctx["http"] = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
    runtime.use_redis(ctx["redis"])
    runtime.queue = ArqQueue(ctx["redis"], settings)
    await runtime.grids.refresh()
    ctx["runtime"] = runtime
    await start_packages(runtime)


async def shutdown(ctx: dict[str, Any]) -> None:
    """Stop the packages, close what startup opened."""
    from core.runtime import stop_packages

    if "runtime" in ctx:
        await stop_packages(ctx["runtime"])
    if "http" in ctx:
        await ctx["http"].close()
    if "db" in ctx:
        await ctx["db"].__aexit__(None, None, None)


def _periodic_crons(queue: str) -> list[Any]:
    """One arq cron per registered periodic job (their modules must be loaded first).

    Named after the queue too: arq's cron job ids are global to the Redis database, and two
    deployments sharing one Redis would otherwise take turns running each other's crons.
    """
    crons = []
    for job in periodic_jobs():

        async def run(ctx: dict[str, Any], job: Periodic = job) -> None:
            runtime = ctx["runtime"]
            await job.fn(PeriodicContext(runtime, ArqQueue(ctx["redis"], runtime.settings)))

        run.__qualname__ = run.__name__ = job.name.replace(".", "_")
        crons.append(cron(run, name=f"{queue}:{job.name}", second=_every(job.every_s), unique=True))
    return crons


def _every(seconds: int) -> set[int]:
    step = max(1, min(seconds, 60))
    return set(range(0, 60, step))


def worker_settings(settings: Settings) -> type[Any]:
    """Build the arq WorkerSettings class for these settings (loads the packages' jobs)."""
    from core.jobs.registry import load_modules
    from core.packages import job_modules

    dsn = settings.redis_dsn
    if not dsn:
        raise ValueError("CITYLOOP_REDIS_URL is not set: jobs run inside `cityloop serve`")
    load_modules(job_modules(settings))
    attrs = {
        "__doc__": "What arq runs: the outbox, the sweeper and every periodic job.",
        "functions": [run_outbox],
        "cron_jobs": [
            cron(
                sweep_outbox,
                name=f"{settings.queue_name}:sweep_outbox",
                second=_every(settings.outbox_sweep_s),
                run_at_startup=True,
            ),
            *_periodic_crons(settings.queue_name),
        ],
        "on_startup": startup,
        "on_shutdown": shutdown,
        "redis_settings": RedisSettings.from_dsn(dsn),
        "queue_name": settings.queue_name,
        "job_timeout": settings.job_timeout_s,
        "max_tries": ARQ_MAX_TRIES,
        "ctx": {"settings": settings},
    }
    return type("WorkerSettings", (), attrs)


def __getattr__(name: str) -> Any:
    # `arq core.jobs.worker.WorkerSettings` reads this attribute: build it from the environment.
    if name == "WorkerSettings":
        return worker_settings(load_settings())
    raise AttributeError(name)
