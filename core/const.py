"""Names and key strings shared across core."""

from typing import Final

ENV_PREFIX: Final = "CITYLOOP_"
# Shown to people in Asia/Shanghai; stored in UTC.
DISPLAY_TZ: Final = "Asia/Shanghai"
REQUEST_ID_HEADER: Final = "X-Request-ID"
# Migration apps, in dependency order. Each maps to a folder under migrations/.
DB_APPS: Final[dict[str, tuple[str, ...]]] = {
    "core": (
        "core.auth.models",
        "core.org.models",
        "core.media.models",
        "core.jobs.models",
    ),
    "cases": ("cases.models",),
}
# Modules whose @job handlers every worker loads (strings: core imports no sibling package).
JOB_MODULES: Final[tuple[str, ...]] = ("cases.jobs",)
# Modules exposing `routes` (an aiohttp RouteTableDef) that the app mounts, and optionally
# `setup(app)`, called at creation (load package config; errors stop the start).
WEB_MODULES: Final[tuple[str, ...]] = (
    "core.auth.views",
    "core.org.views",
    "core.media.views",
    "core.jobs.views",
    "cases.views",
)
# Modules with `async def seed(settings) -> int` that `seed-demo` and `serve --demo` run after
# the demo city exists (demo cases, say).
DEMO_MODULES: Final[tuple[str, ...]] = ("cases.demo",)
