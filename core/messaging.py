"""Reaching a citizen through a channel, for packages that may not import the channels.

A channel that can carry a message with a link (the 公众号's template message, the 小程序's
subscribe message) puts a `Messenger` into the runtime in its `configure`
(`add_messenger(runtime, …)`); a package that needs to reach a citizen outside a case move
(survey's 回访 invitation) asks `messengers(runtime)` for the one of the citizen's channel and
falls back to the next when it answers `Reach.UNREACHABLE`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Protocol

from pydantic import BaseModel, ConfigDict, Field

from core.runtime import Runtime, ServiceKey

if TYPE_CHECKING:
    from core.jobs.registry import JobContext


class Purpose(StrEnum):
    """What a message is for: the channel words it by its own template for that purpose."""

    SURVEY = "survey"  # 回访: please tell us whether you are satisfied
    SURVEY_REMINDER = "survey_reminder"  # the same, asked again
    SURVEY_REVIEW = "survey_review"  # what the centre decided about a 不满意


class Invitation(BaseModel):
    """One message with a link to one citizen identity."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str = Field(
        min_length=1, max_length=64, description="idempotency key: a retry sends no second"
    )
    citizen_id: int
    case_id: int
    purpose: Purpose
    number: str = Field(description="the case number, as the citizen knows it")
    title: str = Field(max_length=20, description="a heading, e.g. 满意度回访")
    text: str = Field(max_length=300, description="the whole message, Chinese")
    url: str = Field(description="a web page for it (a WeChat in-app browser opens it)")
    mp_page: str = Field("", description="the 小程序 page for it, when there is one")


class Reach(StrEnum):
    """What a messenger did with an invitation."""

    SENT = "sent"
    UNREACHABLE = "unreachable"  # not through this channel (no identity, no quota…): try another


class Messenger(Protocol):
    """A channel's way to send an invitation (channels/<name>/__init__.py)."""

    name: str  # the channel's Source value (wechat_oa…)

    async def invite(self, ctx: JobContext, invitation: Invitation) -> tuple[Reach, str]:
        """Send it, or say why not (a Chinese line for the audit trail); raise to retry."""
        ...


MESSENGERS: ServiceKey[dict[str, Messenger]] = ServiceKey("core.messengers")


def messengers(runtime: Runtime) -> dict[str, Messenger]:
    """The messengers of the enabled channels, by channel name."""
    if MESSENGERS not in runtime:
        runtime[MESSENGERS] = {}
    return runtime[MESSENGERS]


def add_messenger(runtime: Runtime, messenger: Messenger) -> None:
    """Offer a channel's messenger to the other packages of this process."""
    messengers(runtime)[messenger.name] = messenger
