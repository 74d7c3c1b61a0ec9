"""Job handlers by name: producers name a job, they never import its consumer."""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import aiohttp

    from core.config import Settings
    from core.jobs.queues import JobQueue


@dataclass(frozen=True)
class JobContext:
    """What a handler gets besides its payload."""

    settings: Settings
    http: aiohttp.ClientSession | None
    outbox_id: int
    attempt: int


JobHandler = Callable[[JobContext, dict[str, Any]], Awaitable[None]]
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
    """What a periodic job gets: settings, and the queue for the outbox rows it writes."""

    settings: Settings
    queue: JobQueue


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
