"""A city's plug-in: a route, a case.close subscriber (and a failing one), a periodic job,
setup and cleanup, its own settings."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.config import Settings
from core.packages import Package, config_of
from core.runtime import Runtime


class PluginConfig(BaseSettings):
    """CITYLOOP_TESTPLUGIN_*: where the plug-in leaves its marks."""

    model_config = SettingsConfigDict(env_prefix="CITYLOOP_TESTPLUGIN_", extra="forbid")

    marker_dir: Path | None = Field(None, description="setup/cleanup write a file here")
    enabled: bool = Field(True, description="false: installed but off")
    # Shared with other packages: read without this package's prefix.
    shared_base: str = Field(
        "https://api.example.invalid",
        validation_alias="CITYLOOP_SHARED_API_BASE",
        description="a setting several packages read",
    )


def _enabled(settings: Settings) -> bool:
    return config_of(settings, "testplugin", PluginConfig).enabled


def _mark(runtime: Runtime, what: str) -> None:
    folder = config_of(runtime.settings, "testplugin", PluginConfig).marker_dir
    if folder is not None:
        (folder / f"{what}.{runtime.process}").write_text("ok")


async def _setup(runtime: Runtime) -> None:
    _mark(runtime, "setup")


async def _cleanup(runtime: Runtime) -> None:
    _mark(runtime, "cleanup")


PACKAGE = Package(
    name="testplugin",
    title="测试插件",
    routes=("cityloop_testplugin.views",),
    jobs=("cityloop_testplugin.jobs",),
    requires=("cases",),
    config=PluginConfig,
    enabled=_enabled,
    setup=_setup,
    cleanup=_cleanup,
)
