"""The city's WeChat official account (公众号): citizens report in a chat and hear back.

Off unless CITYLOOP_WECHAT_OA_APP_ID is set; then it mounts GET/POST /wechat/oa (WeChat's
server configuration) and the case page linked from its messages, and runs its jobs.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

from cases import ReporterNotice
from channels.wechat_oa.account import OA, OfficialAccount
from channels.wechat_oa.config import OAConfig, OAProfile
from channels.wechat_oa.const import CHANNEL
from channels.wechat_oa.protocol import WeChatProtocol
from core.config import Settings, format_errors
from core.errors import ConfigError
from core.jobs.registry import JobContext
from core.messaging import Invitation, Reach, add_messenger
from core.packages import Package, config_of
from core.runtime import Runtime

# What `serve --demo` sets so that `cityloop wechat simulate` can play WeChat's part.
DEMO_ENV = {
    "CITYLOOP_WECHAT_OA_APP_ID": "wxcityloopdemo0001",
    "CITYLOOP_WECHAT_OA_APP_SECRET": "cityloop-demo-app-secret-not-for-production",
    "CITYLOOP_WECHAT_OA_TOKEN": "cityloopdemotoken",
    "CITYLOOP_WECHAT_OA_AES_KEY": "Q2l0eWxvb3BEZW1vS2V5Rm9yVGhlU2ltdWxhdG9yMDA",
    "CITYLOOP_WECHAT_API_BASE": "http://127.0.0.1:9480",
}


class OfficialAccountChannel:
    """The Channel of the 公众号 (channels.base.Channel)."""

    name = CHANNEL

    def routes(self) -> Iterable[Any]:
        from channels.wechat_oa.handlers import routes

        return list(routes)

    async def notify(self, ctx: JobContext, notice: ReporterNotice) -> None:
        from channels.wechat_oa.delivery import notify

        await notify(ctx, notice)

    async def invite(self, ctx: JobContext, invitation: Invitation) -> tuple[Reach, str]:
        """A 回访 invitation and the like (core.messaging.Messenger)."""
        from channels.wechat_oa.delivery import invite

        return await invite(ctx, invitation)


CHANNEL_OBJECT = OfficialAccountChannel()


def _enabled(settings: Settings) -> bool:
    return bool(config_of(settings, CHANNEL, OAConfig).app_id)


def _configure(runtime: Runtime) -> None:
    """Check that the account is complete and its templates valid; hold it in the runtime."""
    settings = runtime.settings
    config = config_of(settings, CHANNEL, OAConfig)
    missing = [
        f"CITYLOOP_WECHAT_OA_{name.upper()}: needed with CITYLOOP_WECHAT_OA_APP_ID"
        for name in ("app_secret", "token")
        if getattr(config, name) is None
    ]
    if missing or config.app_id is None or config.app_secret is None:
        raise ConfigError("\n".join(missing))
    try:
        profile = OAProfile.model_validate(settings.profile.channels.get(CHANNEL, {}))
    except ValidationError as err:
        raise ConfigError("\n".join(format_errors(err, "city profile channels.wechat_oa"))) from err
    runtime[OA] = OfficialAccount(
        config=config,
        app_id=config.app_id,
        app_secret=config.app_secret,
        profile=profile,
        protocol=WeChatProtocol(config),
        base_url=config.public_url or f"http://{settings.host}:{settings.port}",
    )
    add_messenger(runtime, CHANNEL_OBJECT)


PACKAGE = Package(
    name=CHANNEL,
    title="微信公众号（聊天上报、进度通知）",
    routes=("channels.wechat_oa.handlers",),
    jobs=("channels.wechat_oa.jobs",),
    models=("channels.wechat_oa.models",),
    requires=("cases", "channels"),
    config=OAConfig,
    enabled=_enabled,
    configure=_configure,
    commands=("channels.wechat_oa.commands",),
    demo_env=DEMO_ENV,
    demo_hint="chat as a citizen in another terminal: cityloop wechat simulate",
)

__all__ = ["CHANNEL_OBJECT", "OA", "PACKAGE", "OfficialAccount"]
