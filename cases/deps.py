"""What the case services need from the running process: policy, calendar, queue, clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from tortoise import timezone

from cases.dispatch import DispatchCache
from cases.policy import CasePolicy
from core.calendar import WorkCalendar
from core.jobs.queues import JobQueue
from core.org.service import GridCache


@dataclass(frozen=True)
class Deps:
    """Passed to every case service function; tests may fix `now`."""

    policy: CasePolicy
    calendar: WorkCalendar
    dispatch: DispatchCache = field(default_factory=DispatchCache)
    queue: JobQueue | None = None
    grids: GridCache | None = None
    now: Callable[[], dt.datetime] = field(default=timezone.now)

    async def kick(self, outbox_ids: Iterable[int]) -> None:
        """Queue committed outbox rows (the sweeper catches any this misses)."""
        ids = list(outbox_ids)
        if ids and self.queue is not None:
            await self.queue.kick(ids)
