"""What the case services need from the running process: policy, calendar, queue, clock.

`deps_of(x)` gives them to a request handler (`deps_of(request)`), a job (`deps_of(ctx)`), a
periodic job, or a test (`deps_of(app)`, `deps_of(runtime)`); nobody builds them by hand.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from tortoise import timezone

from cases.dispatch import DispatchCache
from cases.hooks import CityHooks, checked_hook, load_hooks
from cases.policy import CasePolicy, load_policy
from cases.rules.service import RulesCache
from core.calendar import WorkCalendar
from core.jobs.queues import JobQueue
from core.org.service import GridCache
from core.runtime import Runtime, ServiceKey

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Deps:
    """Passed to every case service function; tests may fix `now` (dataclasses.replace)."""

    policy: CasePolicy
    calendar: WorkCalendar
    dispatch: DispatchCache = field(default_factory=DispatchCache)
    queue: JobQueue | None = None
    grids: GridCache | None = None
    now: Callable[[], dt.datetime] = field(default=timezone.now)
    hooks: CityHooks = field(default_factory=CityHooks)
    rules: RulesCache = field(default_factory=RulesCache)

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


DEPS: ServiceKey[Deps] = ServiceKey("cases.deps")


def configure(runtime: Runtime) -> None:
    """Validate the city's case policy and hooks (a bad profile stops the start)."""
    profile = runtime.settings.profile
    runtime[DEPS] = Deps(
        policy=load_policy(profile),
        calendar=runtime.calendar,
        grids=runtime.grids,
        hooks=load_hooks(profile),
    )


def offer_hook(runtime: Runtime, name: str, hook: Any) -> bool:
    """Make `hook` the default of a named hook (cases/hooks.py) in this process, unless the
    city profile names its own; return whether it is the one in force."""
    checked = checked_hook(name, hook, f"hook {name} offered by a package")
    if name in runtime.settings.profile.hooks:
        return False
    deps = runtime[DEPS]
    runtime[DEPS] = dataclasses.replace(
        deps, hooks=dataclasses.replace(deps.hooks, **{name: checked})
    )
    return True


def deps_of(source: Any) -> Deps:
    """The case core's Deps of a runtime, a request, an app, a job or periodic context."""
    runtime = _runtime(source)
    deps = runtime[DEPS]
    # The queue is known only once the process started (the web app's jobs context).
    if deps.queue is not runtime.queue:
        deps = dataclasses.replace(deps, queue=runtime.queue)
        runtime[DEPS] = deps
    return deps


def _runtime(source: Any) -> Runtime:
    if isinstance(source, Runtime):
        return source
    if isinstance(getattr(source, "runtime", None), Runtime):  # JobContext, PeriodicContext
        return source.runtime  # type: ignore[no-any-return]
    from core.web.keys import RUNTIME

    app = getattr(source, "app", source)  # a request, or the app itself
    return app[RUNTIME]  # type: ignore[no-any-return]
