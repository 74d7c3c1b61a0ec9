"""Job handlers by name: producers name a job, they never import its consumer."""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import aiohttp
    from arq.connections import ArqRedis

    from core.config import Settings
    from core.jobs.queues import JobQueue
    from core.kv import KeyValue
    from core.runtime import Runtime


@dataclass(frozen=True)
class JobContext:
    """What a handler gets besides its payload: the process's runtime and its outbox row.

    `runtime` holds the settings, the shared HTTP session, Redis (when configured), the
    key-value store and the packages' services (`cases.deps_of(ctx)` gives the case core's).
    `outbox_id` is the idempotency key to pass to an outside service.
    """

    runtime: Runtime
    outbox_id: int
    attempt: int
    # Outbox rows this handler wrote, to queue once its transaction has committed.
    after_commit: list[int] = field(default_factory=list)

    @property
    def settings(self) -> Settings:
        return self.runtime.settings

    def kick_after_commit(self, ids: Iterable[int]) -> None:
        """Queue these new outbox rows as soon as this handler's writes are committed."""
        self.after_commit.extend(ids)

    @property
    def http(self) -> aiohttp.ClientSession | None:
        return self.runtime.http

    @property
    def redis(self) -> ArqRedis | None:
        return self.runtime.redis

    @property
    def kv(self) -> KeyValue:
        return self.runtime.kv


JobHandler = Callable[[JobContext, dict[str, Any]], Awaitable[None]]


class RetryAfter(Exception):
    """Raised by a handler: run this row again in `delay_s` seconds.

    For a wait the other side asked for (a daily quota spent, a photo not fetched yet): with
    `counts=False` it uses up no attempt, so a row that waits for a quota is never given up.
    The handler's writes of this turn are rolled back, as for any exception.
    """

    def __init__(self, delay_s: float, reason: str, *, counts: bool = True) -> None:
        super().__init__(reason)
        self.delay_s = delay_s
        self.reason = reason
        self.counts = counts


_HANDLERS: dict[str, JobHandler] = {}


def job(name: str) -> Callable[[JobHandler], JobHandler]:
    """Register a handler for outbox rows of this kind."""

    def register(fn: JobHandler) -> JobHandler:
        if _HANDLERS.get(name, fn) is not fn:
            raise ValueError(f"job {name!r} registered twice")
        _HANDLERS[name] = fn
        return fn

    return register


@dataclass(frozen=True)
class PeriodicContext:
    """What a periodic job gets: the runtime, and the queue for the outbox rows it writes."""

    runtime: Runtime
    queue: JobQueue

    @property
    def settings(self) -> Settings:
        return self.runtime.settings


PeriodicFn = Callable[[PeriodicContext], Awaitable[None]]


@dataclass(frozen=True)
class Periodic:
    name: str
    every_s: int
    fn: PeriodicFn


_PERIODIC: dict[str, Periodic] = {}


def periodic(name: str, *, every_s: int) -> Callable[[PeriodicFn], PeriodicFn]:
    """Register a job that runs every every_s seconds (arq cron in workers, a loop in serve)."""

    def register(fn: PeriodicFn) -> PeriodicFn:
        if name in _PERIODIC and _PERIODIC[name].fn is not fn:
            raise ValueError(f"periodic job {name!r} registered twice")
        _PERIODIC[name] = Periodic(name, every_s, fn)
        return fn

    return register


def periodic_jobs() -> list[Periodic]:
    """List the registered periodic jobs."""
    return sorted(_PERIODIC.values(), key=lambda p: p.name)


def handler_for(name: str) -> JobHandler | None:
    """Return the handler registered for a job name."""
    return _HANDLERS.get(name)


def registered() -> list[str]:
    """List the registered job names."""
    return sorted(_HANDLERS)


def load_modules(modules: Iterable[str]) -> None:
    """Import the modules whose @job handlers must be known to this process."""
    for module in modules:
        importlib.import_module(module)
