"""POST /api/v1/field/sync: the phone's queue after it reconnects. Every item is checked and
done on its own, in the order the phone queued them (its `at`), and answered on its own:
created, already had (a replay: the first answer again), or refused with the reason. One bad
item costs nothing but itself."""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any, Final

from pydantic import TypeAdapter, ValidationError
from tortoise.transactions import in_transaction

from cases import deps_of
from channels.grid_app import duty, ledger, reports, results, track
from channels.grid_app.config import GridAppConfig
from channels.grid_app.const import Outcome
from channels.grid_app.photos import Uploads
from channels.grid_app.schemas import (
    CaseActionItem,
    DutyItem,
    ItemAnswer,
    ReportItem,
    SelfHandleItem,
    SyncItemIn,
    TaskResultItem,
    TrackItem,
)
from core.auth.service import Principal
from core.errors import CityloopError, ValidationFailed
from core.runtime import Runtime

log = logging.getLogger(__name__)
_ITEM: Final = TypeAdapter[SyncItemIn](SyncItemIn)
_FAR_FUTURE: Final = dt.datetime.max.replace(tzinfo=dt.UTC)


def _refused(raw: Any, code: str, message: str) -> ItemAnswer:
    item = raw if isinstance(raw, dict) else {}
    return ItemAnswer(
        id=str(item["id"]) if isinstance(item.get("id"), str) else None,
        kind=item["kind"] if isinstance(item.get("kind"), str) else None,
        outcome=Outcome.REFUSED,
        code=code,
        message=message,
    )


def _invalid(raw: Any, err: ValidationError) -> ItemAnswer:
    # Names the fields, never their values (a value may be anything a phone sent).
    where = sorted({".".join(str(p) for p in e["loc"][1:] or e["loc"]) for e in err.errors()})
    listed = "、".join(w for w in where if w) or "内容"
    return _refused(raw, "invalid_item", f"该项内容不完整或格式不正确：{listed}")


async def run(
    batch: list[Any],
    who: Principal,
    *,
    runtime: Runtime,
    uploads: Uploads,
    config: GridAppConfig,
) -> list[ItemAnswer]:
    """Do each item of a batch; answer them in the order sent."""
    answers: list[ItemAnswer | None] = [None] * len(batch)
    items: list[tuple[int, SyncItemIn]] = []
    for n, raw in enumerate(batch):
        try:
            items.append((n, _ITEM.validate_python(raw)))
        except ValidationError as err:
            answers[n] = _invalid(raw, err)
    done = await ledger.answered(who.id, (item.id for _, item in items))
    # The phone's order: an item queued earlier is done first (上岗 before its track, …).
    items.sort(key=lambda pair: (pair[1].at or _FAR_FUTURE, pair[0]))
    for n, item in items:
        kept = done.get(str(item.id))
        if kept is not None:
            answers[n] = kept
            continue
        answer = await _one(item, who, runtime=runtime, uploads=uploads, config=config)
        answers[n] = answer
        if answer.outcome != Outcome.REFUSED:  # the same UUID again later in this batch
            done[str(item.id)] = answer.model_copy(update={"outcome": Outcome.ALREADY})
    return [a for a in answers if a is not None]


async def _one(
    item: SyncItemIn, who: Principal, *, runtime: Runtime, uploads: Uploads, config: GridAppConfig
) -> ItemAnswer:
    try:
        return await _do(item, who, runtime=runtime, uploads=uploads, config=config)
    except CityloopError as err:
        if err.status >= 500:
            log.exception("sync item %s (%s) failed", item.id, item.kind.value)
        return ItemAnswer(
            id=str(item.id),
            kind=item.kind.value,
            outcome=Outcome.REFUSED,
            code=err.code,
            message=err.message,
        )


async def _do(
    item: SyncItemIn, who: Principal, *, runtime: Runtime, uploads: Uploads, config: GridAppConfig
) -> ItemAnswer:
    now = deps_of(runtime).now()
    match item:
        case SelfHandleItem():
            answer = await reports.self_handle(
                item, who, runtime=runtime, uploads=uploads, config=config
            )
        case ReportItem():
            answer, _ = await reports.file_report(
                item, who, runtime=runtime, uploads=uploads, config=config
            )
        case TaskResultItem():
            return await results.task_result(item, who, runtime=runtime, uploads=uploads)
        case CaseActionItem():
            return await results.case_action(item, who, runtime=runtime, uploads=uploads)
        case TrackItem():
            if len(item.points) > config.track_max_points:
                raise _too_many(config.track_max_points)
            stored = await track.store(who.id, item.points, now=now)
            answer = _done(item, stored=stored.stored, duplicates=stored.duplicates)
        case DutyItem():
            return await _duty(item, who, now)
    await ledger.keep(who.id, answer)
    return answer


async def _duty(item: DutyItem, who: Principal, now: dt.datetime) -> ItemAnswer:
    """上岗/下岗 with its ledger entry in one transaction: a replayed 下岗 is not "off duty"."""
    at = min(item.at or now, now)  # a phone's clock ahead of ours: now
    try:
        async with in_transaction():
            row = await ledger.claim(who.id, item.id, item.kind.value)
            state = await duty.toggle(who.id, on=item.on, where=item.location, at=at)
            answer = _done(item, status="on_duty" if state.on_duty else "off_duty")
            await ledger.settle(row, answer)
    except ledger.Replayed:
        return await ledger.replayed(who.id, item.id) or ledger.busy(item.id, item.kind.value)
    return answer


def _done(item: TrackItem | DutyItem, **fields: Any) -> ItemAnswer:
    return ItemAnswer(id=str(item.id), kind=item.kind.value, outcome=Outcome.CREATED, **fields)


def _too_many(limit: int) -> CityloopError:
    return ValidationFailed(
        "too many points", code="too_many_points", message=f"一次最多上传 {limit} 个轨迹点"
    )
