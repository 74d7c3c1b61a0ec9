"""Channels that talk to people: each turns what arrives into an IntakeDraft and tells the
citizens who reported of their case's progress (one folder per channel, style.md).

Each channel is a package of its own (an entry point in pyproject.toml, its own settings,
routes, jobs and tables) that is off until configured; this package holds what they share
(`base.Channel`, the WeChat client in `wechat/`). Turning `channels` off turns them all off.
"""

from channels.base import Channel
from channels.wechat_mp import CHANNEL_OBJECT as WECHAT_MP
from channels.wechat_oa import CHANNEL_OBJECT as WECHAT_OA
from core.packages import Package

# Every channel, spelled out so that grep finds them (the grid app adds its own).
CHANNELS: tuple[Channel, ...] = (WECHAT_OA, WECHAT_MP)

PACKAGE = Package(
    name="channels",
    title="渠道（公众号、小程序、城管通）",
    requires=("cases",),
)
