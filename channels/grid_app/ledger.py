"""The ledger of synced items: each item done is kept by the phone's UUID with the answer it
got, so that a replayed item (the answer was lost on the way back) is answered again and
done never twice. A move on a case claims its entry in the move's own transaction."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterable

from tortoise.exceptions import IntegrityError

from channels.grid_app.const import Outcome
from channels.grid_app.models import SyncItem
from channels.grid_app.schemas import ItemAnswer


class Replayed(Exception):
    """The item was done before (by a request that raced this one)."""


async def answered(staff_id: int, ids: Iterable[uuid.UUID]) -> dict[str, ItemAnswer]:
    """The answers already given to any of these items, as replays."""
    wanted = sorted({str(i) for i in ids})
    if not wanted:
        return {}
    rows = await SyncItem.filter(staff_id=staff_id, client_id__in=wanted)
    return {r.client_id: replay(r) for r in rows}


def replay(row: SyncItem) -> ItemAnswer:
    """The first answer, marked as a replay."""
    return ItemAnswer.model_validate(row.answer).model_copy(update={"outcome": Outcome.ALREADY})


async def claim(staff_id: int, client_id: uuid.UUID, kind: str) -> SyncItem:
    """Take the item's entry inside the caller's transaction; Replayed if it is taken."""
    try:
        return await SyncItem.create(
            staff_id=staff_id, client_id=str(client_id), kind=kind, answer={}
        )
    except IntegrityError as err:
        raise Replayed(str(client_id)) from err


async def settle(row: SyncItem, answer: ItemAnswer) -> None:
    """Keep the answer on a claimed entry (same transaction)."""
    await SyncItem.filter(id=row.id).update(
        answer=answer.model_dump(mode="json"), case_id=answer.case_id
    )


async def keep(staff_id: int, answer: ItemAnswer) -> None:
    """Keep the answer of an item that is idempotent by itself (a report, track points)."""
    # A racing replay may have kept it first: the same answer.
    with contextlib.suppress(IntegrityError):
        await SyncItem.create(
            staff_id=staff_id,
            client_id=answer.id,
            kind=answer.kind or "",
            answer=answer.model_dump(mode="json"),
            case_id=answer.case_id,
        )


def busy(client_id: uuid.UUID, kind: str) -> ItemAnswer:
    """Claimed by a request that has not finished (or failed): nothing was done here, and the
    phone may send it again."""
    return ItemAnswer(
        id=str(client_id),
        kind=kind,
        outcome=Outcome.REFUSED,
        code="try_again",
        message="该项正在另一请求中处理，请稍后重试",
    )


async def replayed(staff_id: int, client_id: uuid.UUID) -> ItemAnswer | None:
    """The kept answer of one item, if any."""
    row = await SyncItem.get_or_none(staff_id=staff_id, client_id=str(client_id))
    return replay(row) if row is not None else None
