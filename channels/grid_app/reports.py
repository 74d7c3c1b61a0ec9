"""An inspector's report through the one door in: its photos checked against their EXIF (the
doubts ride on the report for the centre), and 自行处置 — filed, fixed and closed (or left
for the centre's 结案) in moves a crash can resume from."""

from __future__ import annotations

import datetime as dt
from typing import Any

from cases import (
    Action,
    CaseStatus,
    IntakeDraft,
    IntakeResult,
    NoteIn,
    Reporter,
    Source,
    deps_of,
    submit,
    transition,
)
from channels.grid_app.config import GridAppConfig
from channels.grid_app.const import Outcome
from channels.grid_app.evidence import Doubt, check_photo, grid_shapes
from channels.grid_app.photos import Uploads, media_of, resolve
from channels.grid_app.schemas import FlagOut, ItemAnswer, ReportItem, SelfHandleItem
from core.auth.const import Role
from core.auth.service import Principal
from core.errors import Forbidden
from core.geo import to_wgs84
from core.runtime import Runtime


def reported_at(item: ReportItem | SelfHandleItem, now: dt.datetime, skew_s: int) -> dt.datetime:
    """When the inspector filed it on the phone: its queue time, unless that is in the future."""
    if item.at is None or (item.at - now).total_seconds() > skew_s:
        return now
    return item.at


async def doubts(
    who: Principal,
    photo_ids: list[int],
    item: ReportItem | SelfHandleItem,
    *,
    config: GridAppConfig,
    now: dt.datetime,
) -> list[Doubt]:
    """Every doubt about the report's photos (none at all: the report has no photo)."""
    if not photo_ids:
        return []
    point = to_wgs84(item.location.lon, item.location.lat, item.location.crs)
    grids = await grid_shapes(who.grid_ids) if who.grid_ids else []
    when = reported_at(item, now, config.clock_skew_s)
    found: list[Doubt] = []
    for media in await media_of(photo_ids):
        found += check_photo(media, point=point, reported_at=when, grids=grids, config=config)
    return found


def draft_of(
    item: ReportItem | SelfHandleItem, who: Principal, photo_ids: list[int], found: list[Doubt]
) -> IntakeDraft:
    """The item as a draft of the one door in, keyed by its UUID."""
    extras: dict[str, Any] = {"client_id": str(item.id)}
    if found:
        extras["flags"] = [d.as_extra() for d in found]
    return IntakeDraft(
        source=Source.GRID_APP,
        idempotency_key=f"field-{item.id}",
        reporter=Reporter(staff_id=who.id),
        category_code=item.category_code,
        description=item.description,
        location=item.location,
        address=item.address,
        attachments=tuple(photo_ids),
        occurred_at=item.at,
        urgency=item.urgency,
        self_handle=isinstance(item, SelfHandleItem),
        extras=extras,
    )


def answer_of(item: Any, result: IntakeResult, found: list[Doubt]) -> ItemAnswer:
    """What the phone hears of a filed report."""
    case = result.case
    return ItemAnswer(
        id=str(item.id),
        kind=item.kind.value,
        outcome=Outcome.CREATED if result.created else Outcome.ALREADY,
        case_id=case.id,
        number=case.number,
        status=case.status.value,
        merged=result.merged,
        flags=[FlagOut(**d.as_extra()) for d in found],
    )


async def file_report(
    item: ReportItem | SelfHandleItem,
    who: Principal,
    *,
    runtime: Runtime,
    uploads: Uploads,
    config: GridAppConfig,
) -> tuple[ItemAnswer, IntakeResult]:
    """上报 through the one door in (a replay of the same UUID files nothing new)."""
    deps = deps_of(runtime)
    photo_ids = await resolve(item.photos, uploads=uploads, staff_id=who.id)
    found = await doubts(who, photo_ids, item, config=config, now=deps.now())
    result = await submit(draft_of(item, who, photo_ids, found), deps=deps)
    return answer_of(item, result, found), result


async def self_handle(
    item: SelfHandleItem,
    who: Principal,
    *,
    runtime: Runtime,
    uploads: Uploads,
    config: GridAppConfig,
) -> ItemAnswer:
    """自行处置: file it (立案 by the system, no 派遣), then the inspector's 自行处置 with the
    after-photos, then 结案 by the system where the city does not review them. A replay goes
    on from wherever the case stands."""
    if Role.INSPECTOR not in who.roles:  # checked before anything is filed
        raise Forbidden(
            f"staff {who.id} is no inspector",
            code="role_forbidden",
            message="只有监督员可以自行处置",
        )
    after = await resolve(item.after, uploads=uploads, staff_id=who.id)
    answer, result = await file_report(item, who, runtime=runtime, uploads=uploads, config=config)
    deps = deps_of(runtime)
    case = result.case
    note = item.note or "监督员现场自行处置"
    if case.status == CaseStatus.REGISTERED:
        case = await transition(
            case.id,
            Action.SELF_HANDLE,
            NoteIn(note=note, attachments=tuple(after)),
            actor=who,
            deps=deps,
        )
    if case.status == CaseStatus.CHECKED and not deps.policy.workflow.self_handle_review:
        case = await transition(
            case.id, Action.CLOSE, NoteIn(note="监督员自行处置，系统结案"), actor=None, deps=deps
        )
    return answer.model_copy(update={"status": case.status.value, "number": case.number})
