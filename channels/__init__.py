"""Channels that talk to people: each turns what arrives into an IntakeDraft and tells the
citizens who reported of their case's progress (one folder per channel, style.md)."""

from channels.base import Channel
from core.packages import Package

# Every channel, spelled out so that grep finds them (the WeChat 公众号, 小程序 and grid app
# issues add theirs here).
CHANNELS: tuple[Channel, ...] = ()

PACKAGE = Package(
    name="channels",
    title="渠道（公众号、小程序、城管通）",
    routes=("channels.views",),
    jobs=("channels.jobs",),
    requires=("cases",),
)
