"""Where kicked outbox rows go: arq on Redis, or tasks inside this process."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol

from redis.exceptions import RedisError

from core.jobs import outbox
from core.jobs.registry import JobContext, Periodic, PeriodicContext, periodic_jobs

if TYPE_CHECKING:
    from arq.connections import ArqRedis

    from core.config import Settings
    from core.runtime import Runtime

log = logging.getLogger(__name__)
RUN_OUTBOX = "run_outbox"  # the arq function name (see core.jobs.worker)


class JobQueue(Protocol):
    """Queue committed outbox rows for running."""

    async def kick(self, ids: Iterable[int]) -> None: ...

    async def close(self) -> None: ...


def job_id(queue: str, outbox_id: int, turn: str) -> str:
    """Name the arq job of one turn of a row: arq drops a second enqueue of the same id.

    The queue name is part of it because arq's job keys are global to the Redis database,
    and two deployments (or a database restored from a backup) reuse outbox ids. The turn
    (first kick, or attempts and due time) changes whenever the row is due again, so that
    arq, which remembers finished ids for an hour, does not drop a retry.
    """
    return f"{queue}:outbox:{outbox_id}:{turn}"


class ArqQueue:
    """Enqueue on Redis for arq workers; if Redis is down the rows wait for the sweeper."""

    def __init__(self, pool: ArqRedis, settings: Settings) -> None:
        self._pool = pool
        self._queue = settings.queue_name

    async def kick(self, ids: Iterable[int]) -> None:
        """Enqueue the first turn of each row."""
        await self.enqueue([(i, "new") for i in ids])

    async def enqueue(self, rows: Iterable[tuple[int, str]]) -> int:
        """Enqueue rows by (id, turn); return how many arq took (not already queued)."""
        sent = 0
        for outbox_id, turn in rows:
            try:
                job = await self._pool.enqueue_job(
                    RUN_OUTBOX,
                    outbox_id,
                    _job_id=job_id(self._queue, outbox_id, turn),
                    _queue_name=self._queue,
                )
                sent += job is not None
            except (RedisError, OSError, TimeoutError) as err:
                log.warning(
                    "redis unavailable, outbox %s waits for the sweeper: %r", outbox_id, err
                )
                break
        return sent

    async def close(self) -> None:
        """Nothing to stop: the pool belongs to the app."""


class LocalQueue:
    """Run rows as tasks in this process, and sweep now and then (the embedded default)."""

    def __init__(self, runtime: Runtime) -> None:
        self._settings = runtime.settings
        self._runtime = runtime
        self._context = JobContext(runtime, 0, 0)
        self._tasks: set[asyncio.Task[object]] = set()
        self._sweeper: asyncio.Task[None] | None = None
        self._loops: list[asyncio.Task[None]] = []

    def start(self) -> None:
        """Start the sweeper and every registered periodic job."""
        self._sweeper = asyncio.create_task(self._sweep_forever(), name="outbox-sweeper")
        for job in periodic_jobs():
            self._loops.append(asyncio.create_task(self._every(job), name=job.name))

    async def _every(self, job: Periodic) -> None:
        context = PeriodicContext(self._runtime, self)
        while True:
            await asyncio.sleep(job.every_s)
            try:
                await job.fn(context)
            except Exception:
                log.exception("periodic job %s failed; it runs again in %ss", job.name, job.every_s)

    async def kick(self, ids: Iterable[int]) -> None:
        """Run each row soon, in a task of its own."""
        for outbox_id in ids:
            self._spawn(outbox_id)

    def _spawn(self, outbox_id: int) -> None:
        task = asyncio.create_task(
            outbox.run_item(outbox_id, context=self._context, lease_s=self._settings.job_timeout_s),
            name=f"outbox-{outbox_id}",
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def sweep_once(self) -> int:
        """Run every row that is due; return how many were started."""
        rows = await outbox.due(stale_s=self._settings.outbox_stale_s)
        for outbox_id, _ in rows:
            self._spawn(outbox_id)
        return len(rows)

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(self._settings.outbox_sweep_s)
            try:
                await self.sweep_once()
            except Exception:
                log.exception("outbox sweep failed; trying again later")

    async def drain(self) -> None:
        """Wait for the running tasks (tests, shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
            # The done-callbacks that discard finished tasks run on the loop's next turn;
            # awaiting only finished tasks never yields, so without this the loop spins.
            await asyncio.sleep(0)

    async def close(self) -> None:
        """Stop sweeping and let running rows finish."""
        loops = [t for t in (self._sweeper, *self._loops) if t is not None]
        for task in loops:
            task.cancel()
        await asyncio.gather(*loops, return_exceptions=True)
        await self.drain()
