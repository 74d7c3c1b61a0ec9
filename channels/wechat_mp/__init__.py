"""The city's mini-program (小程序 "随手拍"): its backend API under /api/v1/mp.

Off unless CITYLOOP_WECHAT_MP_APP_ID is set; then it mounts its routes, runs its jobs and tells
its citizens by subscribe message (only while they allowed one).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

from cases import ReporterNotice
from channels.wechat_mp.account import MP, MiniProgram
from channels.wechat_mp.config import MPConfig, MPProfile
from channels.wechat_mp.const import CHANNEL
from core.config import Settings, format_errors
from core.errors import ConfigError
from core.jobs.registry import JobContext
from core.messaging import Invitation, Reach, add_messenger
from core.packages import Package, config_of
from core.runtime import Runtime


class MiniProgramChannel:
    """The Channel of the 小程序 (channels.base.Channel)."""

    name = CHANNEL

    def routes(self) -> Iterable[Any]:
        from channels.wechat_mp.views import routes

        return list(routes)

    async def notify(self, ctx: JobContext, notice: ReporterNotice) -> None:
        from channels.wechat_mp.delivery import notify

        await notify(ctx, notice)

    async def invite(self, ctx: JobContext, invitation: Invitation) -> tuple[Reach, str]:
        """A 回访 invitation and the like (core.messaging.Messenger)."""
        from channels.wechat_mp.delivery import invite

        return await invite(ctx, invitation)


CHANNEL_OBJECT = MiniProgramChannel()


def _enabled(settings: Settings) -> bool:
    return bool(config_of(settings, CHANNEL, MPConfig).app_id)


def _configure(runtime: Runtime) -> None:
    """Check the 小程序's settings and templates; hold it in the runtime."""
    settings = runtime.settings
    config = config_of(settings, CHANNEL, MPConfig)
    if config.app_id is None or config.app_secret is None:
        raise ConfigError("CITYLOOP_WECHAT_MP_APP_SECRET: needed with CITYLOOP_WECHAT_MP_APP_ID")
    try:
        profile = MPProfile.model_validate(settings.profile.channels.get(CHANNEL, {}))
    except ValidationError as err:
        raise ConfigError("\n".join(format_errors(err, "city profile channels.wechat_mp"))) from err
    runtime[MP] = MiniProgram(
        config=config,
        app_id=config.app_id,
        app_secret=config.app_secret,
        profile=profile,
        base_url=config.public_url or f"http://{settings.host}:{settings.port}",
    )
    add_messenger(runtime, CHANNEL_OBJECT)


PACKAGE = Package(
    name=CHANNEL,
    title="微信小程序（随手拍上报、订阅消息）",
    routes=("channels.wechat_mp.views",),
    jobs=("channels.wechat_mp.jobs",),
    models=("channels.wechat_mp.models",),
    requires=("cases", "channels"),
    config=MPConfig,
    enabled=_enabled,
    configure=_configure,
)

__all__ = ["CHANNEL_OBJECT", "MP", "PACKAGE", "MiniProgram"]
