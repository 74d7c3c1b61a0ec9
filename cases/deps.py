"""What the case services need from the running process: policy, calendar, queue, clock."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from tortoise import timezone

from cases.dispatch import DispatchCache
from cases.policy import CasePolicy
from core.calendar import WorkCalendar
from core.jobs.queues import JobQueue
from core.org.service import GridCache

log = logging.getLogger(__name__)


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
        if not ids or self.queue is None:
            return
        try:
            await self.queue.kick(ids)
        except Exception:
            # The rows are committed; the sweeper queues them. The person's action succeeded.
            log.exception("could not queue outbox rows %s; the sweeper will", ids)
