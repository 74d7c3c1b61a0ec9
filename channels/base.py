"""The small interface every channel that talks to people implements."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from cases import ReporterNotice
from core.jobs.registry import JobContext, JobHandler


class Channel(Protocol):
    """A way citizens report and hear back (公众号, 小程序, …).

    `name` is the channel's Source value (wechat_oa…): citizens' identities carry it, their
    reports take it as source, and their notices queue as `notify.<name>`, which this
    channel's `notify` runs.
    """

    name: str

    def routes(self) -> Iterable[Any]:
        """The aiohttp route definitions this channel mounts (webhooks, its API)."""
        ...

    async def notify(self, ctx: JobContext, notice: ReporterNotice) -> None:
        """Tell the citizen of a move; pass ctx.outbox_id to the platform as idempotency key."""
        ...


def notify_job(channel: Channel) -> JobHandler:
    """The outbox handler of notify.<channel>: the typed notice to the channel."""

    async def run(ctx: JobContext, payload: dict[str, Any]) -> None:
        await channel.notify(ctx, ReporterNotice.model_validate(payload))

    run.__name__ = run.__qualname__ = f"notify_{channel.name}"
    return run
