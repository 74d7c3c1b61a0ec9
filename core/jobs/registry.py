"""Job handlers by name: producers name a job, they never import its consumer."""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import aiohttp

    from core.config import Settings


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
