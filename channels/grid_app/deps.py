"""What the field app's services need from the running process, held in its runtime."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from channels.grid_app.config import GridAppConfig
from channels.grid_app.push import PushHub
from core.jobs.registry import RetryAfter
from core.runtime import Runtime, ServiceKey


@dataclass
class FieldDeps:
    """The settings, this process's open streams, and the Redis listener that wakes them."""

    config: GridAppConfig
    hub: PushHub
    listener: asyncio.Task[None] | None = field(default=None)


FIELD: ServiceKey[FieldDeps] = ServiceKey("grid_app.deps", FieldDeps)


def field_of(runtime: Runtime) -> FieldDeps:
    """The field app's deps; a job in a process where the package is off waits."""
    if FIELD not in runtime:
        raise RetryAfter(600, "grid_app is not enabled in this process", counts=False)
    return runtime[FIELD]
