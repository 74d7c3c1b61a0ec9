"""A report being put together in the chat: one open draft per citizen, one writer each.

Every change is an optimistic update on the draft's version: of two messages of one citizen
that arrive at once, one writes and the other is run again on the new draft.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F

from cases import Deps, IntakeDraft, IntakeResult, Location, Reporter, Source, submit
from channels.wechat_oa.const import DraftStatus, PhotoState
from channels.wechat_oa.models import Draft, Inbound
from core.errors import Conflict
from core.geo import CoordSystem

LIVE = (DraftStatus.OPEN, DraftStatus.CONFIRMING)


class DraftChanged(Conflict):
    """Another message of the same citizen changed the draft first: run this one again."""


@dataclass(frozen=True)
class Photos:
    stored: tuple[int, ...]  # media object ids, in the order sent
    pending: int
    failed: int

    @property
    def count(self) -> int:
        return len(self.stored) + self.pending


async def current(openid: str, now: dt.datetime) -> tuple[Draft | None, bool]:
    """The citizen's live draft, and whether an expired one was just closed."""
    draft = await Draft.get_or_none(open_key=openid)
    if draft is None:
        return None, False
    if draft.expires_at <= now:
        await close(draft, DraftStatus.EXPIRED)
        return None, True
    return draft, False


async def open_new(openid: str, citizen_id: int, *, now: dt.datetime, ttl: dt.timedelta) -> Draft:
    """Start a draft; a concurrent start by another message of theirs wins (rerun)."""
    try:
        return await Draft.create(
            openid=openid, citizen_id=citizen_id, open_key=openid, expires_at=now + ttl
        )
    except IntegrityError as err:
        raise DraftChanged("a draft was opened concurrently") from err


async def update(draft: Draft, *, now: dt.datetime, ttl: dt.timedelta, **fields: Any) -> None:
    """Write fields if nobody wrote the draft since it was read; keep it alive for ttl."""
    fields["expires_at"] = now + ttl
    written = await Draft.filter(id=draft.id, version=draft.version).update(
        **fields, version=F("version") + 1, updated_at=now
    )
    if not written:
        raise DraftChanged(f"draft {draft.id} changed")
    for name, value in fields.items():
        setattr(draft, name, value)
    draft.version += 1


async def close(draft: Draft, status: DraftStatus, **fields: Any) -> None:
    """End the draft (submitted, cancelled, expired): the citizen may start another."""
    written = await Draft.filter(id=draft.id, version=draft.version).update(
        status=status, open_key=None, version=F("version") + 1, **fields
    )
    if not written:
        raise DraftChanged(f"draft {draft.id} changed")
    draft.status = status
    draft.open_key = None
    draft.version += 1


async def photos(draft: Draft) -> Photos:
    """The draft's photos by state (no query for a draft without any)."""
    if not draft.photos:
        return Photos((), 0, 0)
    rows = (
        await Inbound.filter(draft_id=draft.id, kind="image")
        .order_by("id")
        .values_list("photo_state", "media_object_id")
    )
    stored = tuple(int(m) for s, m in rows if s == PhotoState.STORED and m is not None)
    pending = sum(1 for s, _ in rows if s == PhotoState.PENDING)
    failed = sum(1 for s, _ in rows if s == PhotoState.FAILED)
    return Photos(stored, pending, failed)


@dataclass(frozen=True)
class Shown:
    """A draft as it will be after a change: what completeness and the wording read."""

    description: str
    address: str
    lon: float | None
    photos: int

    @classmethod
    def of(cls, draft: Draft, fields: dict[str, Any]) -> Shown:
        return cls(
            description=fields.get("description", draft.description),
            address=fields.get("address", draft.address),
            lon=fields.get("lon", draft.lon),
            photos=fields.get("photos", draft.photos),
        )

    def complete(self) -> bool:
        """Enough for a report: words or a photo, and a place."""
        what = bool(self.description.strip()) or self.photos > 0
        return what and (self.lon is not None or bool(self.address.strip()))


async def submit_draft(draft: Draft, *, deps: Deps, shots: Photos | None = None) -> IntakeResult:
    """Through the one door in, idempotent on the draft: a retry gives the same case."""
    shots = shots or await photos(draft)
    location = (
        Location(lon=draft.lon, lat=draft.lat, crs=CoordSystem.GCJ02)
        if draft.lon is not None and draft.lat is not None
        else None
    )
    result = await submit(
        IntakeDraft(
            source=Source.WECHAT_OA,
            idempotency_key=f"wechat_oa:draft:{draft.id}",
            reporter=Reporter(citizen_id=draft.citizen_id),
            category_code=draft.category_code,
            description=draft.description.strip(),
            location=location,
            address=draft.address.strip(),
            attachments=shots.stored[:9],
        ),
        deps=deps,
    )
    await close(draft, DraftStatus.SUBMITTED, case_id=result.case.id, merged=result.merged)
    return result
