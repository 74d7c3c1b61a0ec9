"""The field app's backend (城管通): grid inspectors and department handlers on their phones.

Inspectors go on duty with their position and upload their GPS tracks (kept for audit, with
gaps and jumps marked; coverage per grid and day); they report problems with photos whose
EXIF is checked on the server (doubts are flags the centre sees on the case), do their
核实/核查 tasks nearest first, and fix small problems on the spot (自行处置). Handlers work
their department's cases. The phone queues everything while out of signal and syncs it in
one batch (`POST /api/v1/field/sync`), each item answered on its own and done once. New
tasks, cases, 督办 and 返工 reach the phone on a server-sent event stream that resumes from
the last event it had, and through a vendor push service a city plugs in.

On by default (it needs nothing outside); it becomes the `inspector` hook's default: the
grid's nearest on-duty inspector gets a task.
"""

from __future__ import annotations

import asyncio
import contextlib

from cases import offer_hook
from channels.grid_app.assign import NearestOnDuty
from channels.grid_app.config import GridAppConfig
from channels.grid_app.const import NAME
from channels.grid_app.deps import FIELD, FieldDeps
from channels.grid_app.push import PushHub, listen_redis, load_transports
from core.packages import Package, config_of
from core.runtime import Runtime


def _configure(runtime: Runtime) -> None:
    """Load the vendor transports; offer the nearest on-duty inspector as the task hook."""
    config = config_of(runtime.settings, NAME, GridAppConfig)
    hub = PushHub(transports=load_transports(config.push_transports))
    runtime[FIELD] = FieldDeps(config=config, hub=hub)
    offer_hook(runtime, "inspector", NearestOnDuty(config))


async def _setup(runtime: Runtime) -> None:
    """A web process listens for the other processes' wake-ups of its streams."""
    deps = runtime[FIELD]
    if runtime.process == "web" and runtime.redis is not None:
        deps.listener = asyncio.create_task(listen_redis(runtime, deps.hub))


async def _cleanup(runtime: Runtime) -> None:
    deps = runtime[FIELD]
    if deps.listener is not None:
        deps.listener.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await deps.listener
        deps.listener = None


PACKAGE = Package(
    name=NAME,
    title="城管通（监督员、处置人员的手机端：上报、任务、轨迹、离线同步、推送）",
    routes=("channels.grid_app.handlers", "channels.grid_app.views"),
    jobs=("channels.grid_app.jobs",),
    models=("channels.grid_app.models",),
    requires=("cases", "channels"),
    config=GridAppConfig,
    configure=_configure,
    setup=_setup,
    cleanup=_cleanup,
    demo_hint='城管通: POST /api/v1/field/sync as inspector1 (README, "The field app"); '
    "GET /api/v1/field/stream for the pushes",
)

__all__ = ["PACKAGE", "NearestOnDuty"]
