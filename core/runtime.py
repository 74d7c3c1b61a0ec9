"""What a running process shares with request handlers, jobs and packages: one `Runtime`.

The web app, an arq worker, a CLI command and a test each build one with `build_runtime`;
packages put their own services into it under typed keys (`ServiceKey`) in their `configure`
hook, so that a handler, a job and a test get the same objects without building them by hand.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, cast

from core.calendar import WorkCalendar
from core.jobs.registry import load_modules
from core.kv import DatabaseKV, KeyValue, RedisKV
from core.media.storage import LocalStorage, Storage
from core.org.service import GridCache
from core.packages import Package, enabled, job_modules

if TYPE_CHECKING:
    import aiohttp
    from arq.connections import ArqRedis

    from core.config import Settings
    from core.jobs.queues import JobQueue

log = logging.getLogger(__name__)
T = TypeVar("T")
Process = Literal["web", "worker", "cli"]


class ServiceKey(Generic[T]):
    """A typed name for a package's service in the runtime (like aiohttp's AppKey)."""

    def __init__(self, name: str, kind: type[T] | None = None) -> None:
        # `kind` only lets a type checker infer T: ServiceKey("cases.deps", Deps).
        self.name = name

    def __repr__(self) -> str:
        return f"ServiceKey({self.name!r})"


@dataclass
class Runtime:
    """Settings, the enabled packages, shared clients and the packages' services."""

    settings: Settings
    packages: tuple[Package, ...]
    process: Process
    calendar: WorkCalendar
    grids: GridCache  # point → grid, shared by requests and jobs
    # Media files (photos as uploaded, public copies, thumbnails).
    storage: Storage
    kv: KeyValue = field(default_factory=DatabaseKV)
    http: aiohttp.ClientSession | None = None  # the shared session, once opened
    redis: ArqRedis | None = None  # when CITYLOOP_REDIS_URL is set, once connected
    queue: JobQueue | None = None  # where committed outbox rows are kicked
    # Set when the web server starts to shut down: long-lived responses (event streams) end
    # at once instead of holding the shutdown for its whole timeout.
    closing: asyncio.Event = field(default_factory=asyncio.Event)
    _services: dict[ServiceKey[Any], Any] = field(default_factory=dict)
    _started: list[Package] = field(default_factory=list)

    def __getitem__(self, key: ServiceKey[T]) -> T:
        try:
            return cast(T, self._services[key])
        except KeyError:
            raise LookupError(
                f"{key.name} is not in this runtime: is its package enabled?"
            ) from None

    def __setitem__(self, key: ServiceKey[T], value: T) -> None:
        self._services[key] = value

    def __contains__(self, key: ServiceKey[Any]) -> bool:
        return key in self._services

    def use_redis(self, redis: ArqRedis) -> None:
        """Share this Redis: short-lived state moves there from the database."""
        self.redis = redis
        self.kv = RedisKV(redis, namespace=self.settings.queue_name)

    def package(self, name: str) -> Package | None:
        """The enabled package of this name."""
        return next((p for p in self.packages if p.name == name), None)


def build_runtime(settings: Settings, *, process: Process) -> Runtime:
    """Load the enabled packages' job modules and run their `configure` hooks."""
    packages = enabled(settings)
    load_modules(job_modules(settings))
    runtime = Runtime(
        settings=settings,
        packages=packages,
        process=process,
        calendar=WorkCalendar.from_profile(settings.profile),
        grids=GridCache(),
        storage=LocalStorage(settings.media_dir),
    )
    for package in packages:
        if package.configure is not None:
            package.configure(runtime)
    return runtime


async def start_packages(runtime: Runtime) -> None:
    """Run each enabled package's `setup` (after the database, Redis and HTTP are open)."""
    for package in runtime.packages:
        if package.setup is not None:
            await package.setup(runtime)
        runtime._started.append(package)


async def stop_packages(runtime: Runtime) -> None:
    """Run the `cleanup` of each started package, last first; one failing stops no other."""
    while runtime._started:
        package = runtime._started.pop()
        if package.cleanup is None:
            continue
        try:
            await package.cleanup(runtime)
        except Exception:
            log.exception("cleanup of package %s failed", package.name)
