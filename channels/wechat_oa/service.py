"""One message from WeChat, once: keep it by its key, answer it, and keep the answer.

WeChat waits 5 seconds for a reply and retries three times. The message row (unique on its
key: MsgId, or sender + time for events) is written in the same transaction as everything
the message changes, so a retry, in this process or any other, finds it and gets the same
answer; nothing is done twice. Outbox rows written meanwhile (a photo to fetch, the case's
notices) are queued after the commit.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Iterable
from typing import Any

from tortoise import timezone
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from cases import deps_of
from channels.wechat_oa import conversation
from channels.wechat_oa.config import OAConfig, OAProfile
from channels.wechat_oa.const import CHANNEL, USER_INFO
from channels.wechat_oa.drafts import DraftChanged
from channels.wechat_oa.models import Follower, Inbound
from channels.wechat_oa.protocol import Incoming
from core.auth.service import citizen_identity
from core.errors import Unavailable
from core.jobs import outbox
from core.runtime import Runtime

log = logging.getLogger(__name__)
ATTEMPTS = 4  # two messages of one citizen at once: the later one is answered on a rerun
# The 48-hour window of 客服消息 need not be known to the second: one write a minute at most.
_NOTED = dt.timedelta(minutes=1)


class _Collected:
    """A job queue that only remembers what to kick once the transaction has committed."""

    def __init__(self) -> None:
        self.ids: list[int] = []

    async def kick(self, ids: Iterable[int]) -> None:
        self.ids.extend(ids)

    async def close(self) -> None:
        return None


async def receive(
    incoming: Incoming, *, runtime: Runtime, config: OAConfig, profile: OAProfile
) -> str:
    """Answer a message (or give a retry the first answer); '' means no reply."""
    deps = deps_of(runtime)
    for _ in range(ATTEMPTS):
        collected = _Collected()
        outbox_ids: list[int] = []
        try:
            async with in_transaction():
                # A photo is kept first (its fetch job names it); anything else with its
                # answer, last: a retry still meets the unique key, and on a conflict
                # everything this message did is rolled back with it.
                kept = await _keep(incoming) if incoming.kind == "image" else None
                chat = conversation.Chat(
                    incoming=incoming,
                    message_id=kept.id if kept else None,
                    follower=await _follower(incoming, outbox_ids),
                    config=config,
                    profile=profile,
                    deps=dataclasses.replace(deps, queue=collected),
                    city=runtime.settings.profile.name,
                    now=timezone.now(),
                    outbox_ids=outbox_ids,
                )
                reply = await conversation.answer(chat)
                if kept is None:
                    await _keep(incoming, reply=reply)
                else:
                    await Inbound.filter(id=kept.id).update(reply=reply)
        except IntegrityError:
            first = await Inbound.get_or_none(msg_key=incoming.key[:128])
            if first is not None:  # WeChat's retry: the same answer, nothing done again
                return first.reply or ""
            continue  # a follower or draft created by a concurrent message: run again
        except DraftChanged:
            continue
        await deps.kick([*outbox_ids, *collected.ids])
        return reply
    raise Unavailable("draft kept changing", message="消息处理繁忙，请稍后再试")


async def _keep(incoming: Incoming, *, reply: str | None = None) -> Inbound:
    return await Inbound.create(
        msg_key=incoming.key[:128],
        openid=incoming.openid,
        kind=incoming.kind[:32],
        content=incoming.text[:2000],
        media_id=incoming.media_id,
        reply=reply,
    )


async def _follower(incoming: Incoming, outbox_ids: list[int]) -> Follower:
    """The follower behind the openid (and its citizen), with this interaction noted."""
    now = timezone.now()
    leaving = incoming.kind == "event:unsubscribe"
    changes: dict[str, Any] = {"subscribed": not leaving}
    if not leaving:  # any message, click or subscription opens the 48-hour window
        changes["last_inbound_at"] = now
    follower = await Follower.get_or_none(openid=incoming.openid)
    if follower is None:
        citizen = await citizen_identity(channel=CHANNEL, external_id=incoming.openid)
        follower = await Follower.create(openid=incoming.openid, citizen_id=citizen.id, **changes)
        # Who they are in the 小程序 too (unionid): asked of WeChat by a job, not now.
        outbox_ids.append((await outbox.add(USER_INFO, {"openid": incoming.openid})).id)
        return follower
    recent = follower.last_inbound_at is not None and now - follower.last_inbound_at < _NOTED
    if follower.subscribed == changes["subscribed"] and (leaving or recent):
        return follower  # noted a moment ago: the window is open either way
    await Follower.filter(id=follower.id).update(**changes, updated_at=now)
    for name, value in changes.items():
        setattr(follower, name, value)
    return follower
