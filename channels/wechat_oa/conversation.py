"""What each message does to the citizen's draft, and what the bot answers.

Photos, a location, an address and words come in any order; once the draft has something to
show (words or a photo) and a place (a location or an address) the bot asks to confirm.
Nothing slow happens here: photos are fetched by a job (WeChat waits 5 seconds for us).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cases import STATUS_NAMES, CaseQuery, Deps, case_page
from channels.wechat_oa import drafts, messages
from channels.wechat_oa.config import OAConfig, OAProfile
from channels.wechat_oa.const import (
    ADDRESS_PREFIXES,
    CANCEL_WORDS,
    CONFIRM_WORDS,
    FETCH_PHOTO,
    HELP_WORDS,
    MENU_MINE,
    MENU_REPORT,
    MINE_SHOWN,
    QUERY_WORDS,
    SUBMIT_DRAFT,
    DraftStatus,
    PhotoState,
)
from channels.wechat_oa.models import Draft, Follower, Inbound
from channels.wechat_oa.protocol import Incoming
from core.auth.service import citizen_principal
from core.errors import CityloopError
from core.geo import CoordSystem
from core.jobs import outbox


@dataclass
class Chat:
    """One message being answered: who, when, and what the answer may use."""

    incoming: Incoming
    message_id: int | None  # kept before the answer only for photos (their fetch job)
    follower: Follower
    config: OAConfig
    profile: OAProfile
    deps: Deps
    city: str
    now: dt.datetime
    outbox_ids: list[int]

    @property
    def ttl(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.config.draft_minutes)


async def answer(chat: Chat) -> str:
    """The reply to one message ('' for none)."""
    kind = chat.incoming.kind
    if kind.startswith("event:"):
        return await _event(chat, kind.removeprefix("event:"))
    if kind in ("text", "voice"):
        words = chat.incoming.text.strip()
        return await _text(chat, words) if words else messages.not_understood()
    if kind == "image":
        return await _photo(chat)
    if kind == "location":
        return await _location(chat)
    return messages.not_understood()


async def _event(chat: Chat, event: str) -> str:
    if event in ("subscribe", "subscribe_scan"):
        return messages.welcome(chat.city, chat.profile.welcome)
    if event == "click":
        if chat.incoming.text == MENU_MINE:
            return await mine(chat)
        if chat.incoming.text == MENU_REPORT:
            return messages.help_text()
    return ""  # unsubscribe, a location report, a menu link: nothing to say


async def mine(chat: Chat) -> str:
    """The citizen's recent reports with their status names."""
    # All their reports: through the 小程序 too, when WeChat gave both the same unionid.
    viewer = await citizen_principal(chat.follower.citizen_id)
    shown = await case_page(viewer, CaseQuery(page_size=MINE_SHOWN), chat.deps)
    return messages.mine(
        [(c.number or str(c.id), c.status_name, c.created_at) for c in shown.items]
    )


async def _live(chat: Chat) -> tuple[Draft, str]:
    """The citizen's live draft (a new one if none), and a note if an old one expired."""
    draft, expired = await drafts.current(chat.follower.openid, chat.now)
    if draft is None:
        draft = await drafts.open_new(
            chat.follower.openid, chat.follower.citizen_id, now=chat.now, ttl=chat.ttl
        )
    return draft, messages.expired_note(chat.config.draft_minutes) if expired else ""


async def _text(chat: Chat, words: str) -> str:
    lowered = words.lower()
    if lowered in QUERY_WORDS:
        return await mine(chat)
    if lowered in HELP_WORDS:
        return messages.help_text()
    if lowered in CONFIRM_WORDS or lowered in CANCEL_WORDS:
        draft, _ = await drafts.current(chat.follower.openid, chat.now)
        if draft is None:
            return messages.nothing_to_confirm()
        if lowered in CANCEL_WORDS:
            await drafts.close(draft, DraftStatus.CANCELLED)
            return messages.cancelled()
        if draft.status == DraftStatus.CONFIRMING:
            return await _confirm(chat, draft)
        if draft.status == DraftStatus.SUBMITTING:
            return messages.photos_pending()
        return messages.missing(drafts.Shown.of(draft, {})) or messages.nothing_to_confirm()
    draft, note = await _live(chat)
    address = _address(words, draft)
    if address is not None:
        said = functools.partial(messages.address_received, address)
        return note + await _change(chat, draft, {"address": address[:200]}, said)
    text = f"{draft.description}\n{words}".strip() if draft.description else words
    category = chat.deps.policy.suggest(text)
    fields = {"description": text[:2000], "category_code": category.code if category else None}
    return note + await _change(chat, draft, fields, messages.text_received)


def _address(words: str, draft: Draft) -> str | None:
    """An address: '地址：…' typed, or any words right after the bot asked for the place."""
    for prefix in ADDRESS_PREFIXES:
        if words.startswith(prefix):
            rest = words[len(prefix) :].lstrip(":： ")
            return rest or None
    if draft.awaiting == "place" and draft.description:
        return words
    return None


async def _photo(chat: Chat) -> str:
    draft, note = await _live(chat)
    if chat.message_id is None:
        raise CityloopError("an image message is kept before it is answered")
    await Inbound.filter(id=chat.message_id).update(
        draft_id=draft.id, photo_state=PhotoState.PENDING
    )
    row = await outbox.add(FETCH_PHOTO, {"inbound_id": chat.message_id})
    chat.outbox_ids.append(row.id)
    count = draft.photos + 1
    said = functools.partial(messages.photo_received, count)
    return note + await _change(chat, draft, {"photos": count}, said)


async def _location(chat: Chat) -> str:
    draft, note = await _live(chat)
    lon, lat = chat.incoming.lon, chat.incoming.lat
    if lon is None or lat is None or chat.deps.grids is None:
        raise CityloopError("a location message without a point, or no grid index")
    place = await chat.deps.grids.locate(lon, lat, CoordSystem.GCJ02)
    if place.grid_id is None:
        await drafts.update(draft, now=chat.now, ttl=chat.ttl, awaiting="place")
        return note + messages.outside_city(chat.city)
    label = chat.incoming.label[:200]
    fields: dict[str, Any] = {"lon": lon, "lat": lat}
    if label and not draft.address:
        fields["address"] = label
    said = functools.partial(messages.location_received, label)
    return note + await _change(chat, draft, fields, said)


async def _change(
    chat: Chat, draft: Draft, fields: dict[str, Any], said: Callable[[str], str]
) -> str:
    """Write a change and what follows from it (asking to confirm, or for the place) in one
    update; word the answer: what was received, then the whole draft or what is missing."""
    after = drafts.Shown.of(draft, fields)
    if draft.status == DraftStatus.SUBMITTING:
        # Confirmed already: the submit job, waiting for photos, files this too.
        await drafts.update(draft, now=chat.now, ttl=chat.ttl, **fields)
        return said("") + "\n" + messages.photos_pending()
    if after.complete():
        fields |= {"status": DraftStatus.CONFIRMING, "awaiting": None}
    elif after.lon is None and not after.address:
        fields["awaiting"] = "place"
    await drafts.update(draft, now=chat.now, ttl=chat.ttl, **fields)
    if not after.complete():
        return said(messages.missing(after))
    category = chat.deps.policy.category(draft.category_code) if draft.category_code else None
    return said("") + "\n" + messages.confirm(after, category.name if category else None)


async def _confirm(chat: Chat, draft: Draft) -> str:
    shots = await drafts.photos(draft)
    if shots.pending:
        # The fetch jobs finish the photos; the submit job waits for them, then tells.
        await drafts.update(draft, now=chat.now, ttl=chat.ttl, status=DraftStatus.SUBMITTING)
        row = await outbox.add(SUBMIT_DRAFT, {"draft_id": draft.id}, delay_s=1)
        chat.outbox_ids.append(row.id)
        return messages.photos_pending()
    try:
        result = await drafts.submit_draft(draft, deps=chat.deps, shots=shots)
    except drafts.DraftChanged:
        raise
    except CityloopError as err:
        if err.status >= 500:
            raise
        return messages.submit_failed(err.message)
    number = result.case.number or str(result.case.id)
    status = STATUS_NAMES[result.case.status]
    return messages.merged(number, status) if result.merged else messages.submitted(number, status)
