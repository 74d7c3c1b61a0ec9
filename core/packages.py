"""Packages around the core: how each declares itself, and how the platform finds them.

A package is one `Package` object, named by one entry point in the group `cityloop.packages`
of its distribution (`cases = "cases:PACKAGE"` in pyproject.toml). A city's own plug-in is a
separate distribution with its own entry point; nothing in core names a sibling package.
"""

from __future__ import annotations

import difflib
import importlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Any, Final, TypeVar

from pydantic import AliasChoices, ValidationError
from pydantic_settings import BaseSettings

from core.errors import ConfigError

if TYPE_CHECKING:
    from core.config import Settings
    from core.runtime import Runtime

log = logging.getLogger(__name__)
GROUP: Final = "cityloop.packages"
C = TypeVar("C", bound=BaseSettings)
Hook = Callable[["Runtime"], Awaitable[None]]


@dataclass(frozen=True)
class Package:
    """What a package brings to the platform; every field but `name` may stay empty."""

    name: str  # also its tortoise app label and its migrations folder
    title: str = ""  # a line for people (`cityloop packages`)
    # Modules whose `routes` (an aiohttp RouteTableDef) the web app mounts.
    routes: tuple[str, ...] = ()
    # Modules to import in every process that runs jobs: their @job, @periodic and @subscribe
    # decorators register handlers, periodic jobs and case-event subscribers.
    jobs: tuple[str, ...] = ()
    # Tortoise model modules (the app is the package's name) and their migrations package.
    models: tuple[str, ...] = ()
    migrations: str | None = None  # default "migrations.<name>"
    # Modules with `async def seed(settings) -> int`, run by `serve --demo` and `seed-demo`.
    demo: tuple[str, ...] = ()
    # Packages whose tables this one's refer to (migration order).
    requires: tuple[str, ...] = ()
    # "module:function" of `(since, *, until) -> async iterator of (event, key, payload)`:
    # the events this package published, oldest first, for `cityloop events replay`.
    history: str | None = None
    # "module:function" of `async (kind, ids) -> {id: why}`: what this package still has open on
    # these rows of core (kind "grid") that is about to be retired; each `why` refuses it.
    holds: str | None = None
    # "module:function" of `async (runtime) -> (status, warnings)` for /readyz: "ok", or
    # "degraded" (still ready: a dead camera does not take the web server out), or anything
    # else (not ready: 503). The warnings are lines for people.
    ready: str | None = None
    # Its own settings (a pydantic BaseSettings with env_prefix "CITYLOOP_<NAME>_").
    config: type[BaseSettings] | None = None
    # False: installed but off (say, no app id configured): mounts and runs nothing.
    enabled: Callable[[Settings], bool] | None = None
    # At build, in every process (web, worker, CLI, tests): validate and put services into
    # the runtime. An error stops the start.
    configure: Callable[[Runtime], None] | None = None
    # After the database, Redis and HTTP session are open / before they close: long-lived
    # resources (a CTI socket, a camera reader). `runtime.process` says which process it is.
    setup: Hook | None = None
    cleanup: Hook | None = None
    # Modules with `add_commands(subparsers)`: the package's own `cityloop <command>`s.
    commands: tuple[str, ...] = ()
    # What `serve --demo` sets when the environment leaves it unset (a demo app id, say),
    # and a line it prints for people trying the demo (how to try this package).
    demo_env: Mapping[str, str] | None = None
    demo_hint: str = ""

    @property
    def migrations_module(self) -> str:
        """The package whose modules are this app's migrations."""
        return self.migrations or f"migrations.{self.name}"


CORE: Final = Package(
    name="core",
    title="平台基础（账号、组织、网格、照片、后台任务）",
    routes=(
        "core.auth.views",
        "core.org.views",
        "core.media.views",
        "core.jobs.views",
        "core.audit.views",
    ),
    jobs=("core.jobs.builtin", "core.audit.jobs"),
    commands=("core.bulk.commands",),
    models=(
        "core.auth.models",
        "core.org.models",
        "core.media.models",
        "core.jobs.models",
        "core.kv.models",
        "core.audit.models",
    ),
)


@cache
def installed() -> tuple[Package, ...]:
    """Every installed package, core first, then in dependency order (ties by name)."""
    found: dict[str, Package] = {}
    for point in entry_points(group=GROUP):
        package = point.load()
        if not isinstance(package, Package):
            raise ConfigError(f"entry point {point.name} = {point.value} is not a Package")
        if package.name in found or package.name == CORE.name:
            raise ConfigError(f"two packages are named {package.name!r}")
        found[package.name] = package
    if not found:
        # Entry points are written by pip: a checkout run without `pip install -e .` has none.
        log.warning("no cityloop packages installed (group %s): run `pip install -e .`", GROUP)
    return (CORE, *_ordered(found))


def _ordered(found: Mapping[str, Package]) -> list[Package]:
    done: dict[str, Package] = {}

    def visit(package: Package, path: tuple[str, ...]) -> None:
        if package.name in done:
            return
        if package.name in path:
            raise ConfigError(f"packages require each other: {' → '.join((*path, package.name))}")
        for need in package.requires:
            if need == CORE.name:
                continue
            if need not in found:
                raise ConfigError(f"package {package.name} requires {need}, which is not installed")
            visit(found[need], (*path, package.name))
        done[package.name] = package

    for name in sorted(found):
        visit(found[name], ())
    return list(done.values())


def check_names(names: Iterable[str]) -> list[str]:
    """Name each of these that is no installed package (with a close match)."""
    known = [p.name for p in installed()]
    problems = []
    for name in names:
        if name not in known:
            hint = difflib.get_close_matches(name, known, n=1)
            problems.append(
                f"{name!r} is not an installed package" + (f" ({hint[0]}?)" if hint else "")
            )
    return problems


def env_names() -> set[str]:
    """Every environment variable an installed package's settings read.

    A field with a validation alias is read by that name without the prefix: two packages can
    share one setting that way (CITYLOOP_WECHAT_API_BASE for both WeChat channels, say).
    """
    names = set()
    for package in installed():
        if package.config is None:
            continue
        prefix = str(package.config.model_config.get("env_prefix", ""))
        for field, info in package.config.model_fields.items():
            alias = info.validation_alias
            if isinstance(alias, str):
                names.add(alias.upper())
            elif isinstance(alias, AliasChoices):
                names |= {c.upper() for c in alias.choices if isinstance(c, str)}
            else:
                names.add((prefix + field).upper())
    return names


def load_configs() -> dict[str, BaseSettings]:
    """Read every package's own settings from the environment; ConfigError names each bad one."""
    from core.config import format_errors

    configs: dict[str, BaseSettings] = {}
    problems: list[str] = []
    for package in installed():
        if package.config is None:
            continue
        prefix = str(package.config.model_config.get("env_prefix", ""))
        try:
            configs[package.name] = package.config()
        except ValidationError as err:
            problems += format_errors(err, "env", prefix=prefix)
    if problems:
        raise ConfigError("\n".join(problems))
    return configs


def config_of(settings: Settings, name: str, kind: type[C]) -> C:
    """The settings of package `name`, as loaded with the process settings."""
    config = settings.package_configs.get(name)
    if not isinstance(config, kind):
        raise ConfigError(f"package {name} has no settings of type {kind.__name__}")
    return config


def enabled(settings: Settings) -> tuple[Package, ...]:
    """The installed packages this configuration turns on (core always); a package whose
    requirement is off is off too."""
    on: dict[str, Package] = {}
    for p in installed():
        if p is CORE:
            on[p.name] = p
            continue
        wanted = p.name not in settings.disabled_packages and (
            p.enabled is None or p.enabled(settings)
        )
        if wanted and all(r in on for r in p.requires):
            on[p.name] = p
        elif wanted:
            log.warning("package %s is off: it requires %s", p.name, ", ".join(p.requires))
    return tuple(on.values())


def db_apps() -> dict[str, tuple[str, ...]]:
    """Tortoise apps of every installed package, in migration order (disabled ones too: their
    tables and history stay)."""
    return {p.name: p.models for p in installed() if p.models}


def migrations_of(label: str) -> str:
    """The migrations package of an app."""
    return next(p.migrations_module for p in installed() if p.name == label)


def job_modules(settings: Settings) -> tuple[str, ...]:
    """Modules whose handlers this process loads: the enabled packages', then the setting's."""
    return (*(m for p in enabled(settings) for m in p.jobs), *settings.job_modules)


def route_tables(settings: Settings) -> list[Any]:
    """The RouteTableDefs of the enabled packages, core first."""
    return [importlib.import_module(m).routes for p in enabled(settings) for m in p.routes]


def _named(ref: str) -> Any:
    """The object a "module:attribute" reference names."""
    module, _, attr = ref.partition(":")
    return getattr(importlib.import_module(module), attr)


def histories(settings: Settings) -> list[Callable[..., AsyncIterator[Any]]]:
    """The event histories of the enabled packages (for replay)."""
    found = []
    for package in enabled(settings):
        if package.history:
            found.append(_named(package.history))
    return found


def readiness_checks(settings: Settings) -> list[tuple[str, Callable[..., Awaitable[Any]]]]:
    """The /readyz checks of the enabled packages, by package name."""
    found = []
    for package in enabled(settings):
        if package.ready:
            found.append((package.name, _named(package.ready)))
    return found


async def holds(kind: str, ids: Iterable[int]) -> dict[int, list[str]]:
    """Why each of these rows of core must stay, by every installed package (disabled ones
    too: their tables stay); the ids no package holds are absent."""
    wanted = sorted(set(ids))
    found: dict[int, list[str]] = {}
    if not wanted:
        return found
    for package in installed():
        if package.holds:
            check = _named(package.holds)
            for row_id, why in (await check(kind, wanted)).items():
                found.setdefault(int(row_id), []).append(str(why))
    return found


def command_modules() -> list[str]:
    """Modules that add commands to `cityloop` (every installed package's)."""
    return [m for p in installed() for m in p.commands]


def demo_environment() -> dict[str, str]:
    """The environment defaults of every installed package for `serve --demo`."""
    env: dict[str, str] = {}
    for package in installed():
        env.update(package.demo_env or {})
    return env


def demo_seeders(settings: Settings) -> list[str]:
    """Modules with demo seeders of the enabled packages."""
    return [m for p in enabled(settings) for m in p.demo]
