"""The one door in: every report, from any channel, becomes a case (or joins one) here."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from tortoise.exceptions import IntegrityError
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from cases import clock, events, photos
from cases.catalog import Category
from cases.const import OPEN_STATUSES, Action, AttachmentKind, CaseStatus, Source, Stage, Urgency
from cases.deps import Deps
from cases.models import Case, CaseEvent, Report
from cases.schemas import DispatchIn, IntakeDraft, NoteIn, RegisterIn
from cases.states import Reporters, apply_in_transaction
from core.auth.const import CITIZEN, Role
from core.auth.service import Principal
from core.errors import CityloopError, Conflict, ValidationFailed, field_error
from core.geo import distance_m
from core.org.service import Place
from core.timeutil import to_local, utc

log = logging.getLogger(__name__)


# A citizen's report takes its source from the channel of their identity.
CITIZEN_SOURCES = frozenset({Source.WECHAT_OA, Source.WECHAT_MP, Source.HOTLINE, Source.WEB})
# A staff member's client, when they named one at login, else their role.
STAFF_CLIENTS = frozenset({Source.GRID_APP, Source.HOTLINE, Source.WEB})
SOURCE_OF_ROLE = {Role.INSPECTOR: Source.GRID_APP, Role.AGENT: Source.HOTLINE}


def source_of(who: Principal) -> Source:
    """The source of a report by this caller: their channel, client or role."""
    if who.kind == CITIZEN:
        channel = who.channel or ""
        return Source(channel) if channel in CITIZEN_SOURCES else Source.WEB
    if who.client and who.client in STAFF_CLIENTS:
        return Source(who.client)
    return next((s for r, s in SOURCE_OF_ROLE.items() if r in who.roles), Source.WEB)


@dataclass(frozen=True)
class IntakeResult:
    """What submit did: the case (new or joined), the report, whether it was new or merged."""

    case: Case
    report: Report
    created: bool  # False: the same (source, key) was submitted before
    merged: bool  # True: joined an open case as a duplicate


async def _existing(draft: IntakeDraft) -> IntakeResult | None:
    report = await Report.get_or_none(source=draft.source, idempotency_key=draft.idempotency_key)
    if report is None:
        return None
    if (report.citizen_id, report.staff_id) != (draft.reporter.citizen_id, draft.reporter.staff_id):
        # Someone else's key: answering with their case would show it to a stranger.
        raise Conflict(
            "idempotency key used by another reporter",
            code="idempotency_key_reused",
            message="该请求编号已被使用，请重新提交",
        )
    return IntakeResult(await Case.get(id=report.case_id), report, False, report.duplicate)


def _category(draft: IntakeDraft, deps: Deps) -> Category | None:
    if draft.category_code:
        category = deps.policy.category(draft.category_code)
        if category is None:
            raise field_error(
                "category_code", "unknown category", "案件类别不存在", "unknown_category"
            )
        return category
    return deps.policy.suggest(draft.description)


async def _place(draft: IntakeDraft, deps: Deps) -> Place | None:
    if draft.location is None:
        if not draft.address.strip():
            raise field_error(
                "location", "no location or address", "请提供位置或地址", "location_missing"
            )
        return None
    loc = draft.location
    if deps.grids is None:
        raise CityloopError("intake needs the grid index")
    place = await deps.grids.locate(loc.lon, loc.lat, loc.crs)
    if place.grid_id is None:
        raise field_error(
            "location", "outside every grid", "该位置不在本市管辖的网格内", "location_outside_city"
        )
    return place


async def submit(draft: IntakeDraft, *, deps: Deps) -> IntakeResult:
    """Validate, dedupe, classify, persist and make the first move; idempotent on (source, key)."""
    if (done := await _existing(draft)) is not None:
        return done
    await deps.rules.fresh(deps.policy)  # another process may have changed them
    if not draft.description.strip() and not draft.attachments:
        raise field_error(
            "description", "neither text nor photo", "请描述问题或上传照片", "empty_report"
        )
    category = _category(draft, deps)
    place = await _place(draft, deps)
    try:
        async with in_transaction():
            result, outbox_ids = await _persist(draft, category, place, deps)
    except IntegrityError:
        # The same (source, key) committed by a concurrent request: answer with that one.
        if (done := await _existing(draft)) is not None:
            return done
        raise
    await deps.kick(outbox_ids)
    return result


async def _persist(
    draft: IntakeDraft, category: Category | None, place: Place | None, deps: Deps
) -> tuple[IntakeResult, list[int]]:
    now = deps.now()
    parent = await _duplicate_of(category, place, deps, now) if category and place else None
    if parent is not None:
        return await _merge(parent, draft, place, deps)
    case = await _new_case(draft, category, place, deps, now)
    report = await _report(case, draft, place, duplicate=False)
    citizen = draft.reporter.citizen_id
    reporters = ((report.id, draft.source.value, citizen),) if citizen is not None else ()
    outbox_ids = await _report_event(case, draft, report, Action.REPORT, None, deps, reporters)
    case, more = await _first_moves(case, draft, category, place, deps, reporters)
    return IntakeResult(case, report, True, False), outbox_ids + more


def _actor_kind(draft: IntakeDraft) -> str:
    if draft.reporter.staff_id is not None:
        return "staff"
    return "citizen" if draft.reporter.citizen_id is not None else "system"


async def _new_case(
    draft: IntakeDraft, category: Category | None, place: Place | None, deps: Deps, now: dt.datetime
) -> Case:
    # A citizen does not choose the class of their own case: the acceptor does at 立案.
    urgency = (draft.urgency if draft.reporter.citizen_id is None else None) or Urgency.B
    case = await Case.create(
        source=draft.source,
        category_code=category.code if category else None,
        category_name=category.name if category else None,
        urgency=urgency,
        description=draft.description,
        address=draft.address,
        lon=place.lon if place else None,
        lat=place.lat if place else None,
        grid_id=place.grid_id if place else None,
        street_id=place.street_id if place else None,
        **clock.start(deps, Stage.ACCEPT, category=None, urgency=urgency, now=now),
    )
    # Human-readable and unique: the city's format over the local date and the row id (no
    # counter to contend on).
    number = deps.policy.workflow.number(
        case_id=case.id, local_date=to_local(now).date(), city=deps.policy.city_code
    )
    await Case.filter(id=case.id).update(number=number)
    case.number = number
    return case


async def _report(
    case: Case, draft: IntakeDraft, place: Place | None, *, duplicate: bool
) -> Report:
    return await Report.create(
        case_id=case.id,
        source=draft.source,
        idempotency_key=draft.idempotency_key,
        citizen_id=draft.reporter.citizen_id,
        staff_id=draft.reporter.staff_id,
        description=draft.description,
        address=draft.address,
        lon=place.lon if place else None,
        lat=place.lat if place else None,
        crs=draft.location.crs.value if draft.location else "wgs84",
        occurred_at=utc(draft.occurred_at),
        duplicate=duplicate,
        no_callback=draft.no_callback,
        extras=draft.extras,
    )


async def _duplicate_of(
    category: Category, place: Place, deps: Deps, now: dt.datetime
) -> Case | None:
    rules = deps.policy.for_category(category.code)
    if rules.duplicate_radius_m <= 0 or rules.duplicate_window_h <= 0:
        return None
    # A box around the point first (an index-friendly filter), then the exact distance.
    dlat = rules.duplicate_radius_m / 111_000
    dlon = dlat * 2  # generous below 60° latitude
    candidates = await Case.filter(
        category_code=category.code,
        status__in=list(OPEN_STATUSES),
        created_at__gte=utc(now - dt.timedelta(hours=rules.duplicate_window_h)),
        lat__gte=place.lat - dlat,
        lat__lte=place.lat + dlat,
        lon__gte=place.lon - dlon,
        lon__lte=place.lon + dlon,
    ).order_by("created_at")
    near = [
        (distance_m(place.lon, place.lat, c.lon, c.lat), c.id, c)
        for c in candidates
        if c.lon is not None and c.lat is not None
    ]
    near = [n for n in near if n[0] <= rules.duplicate_radius_m]
    return min(near, key=lambda n: (n[0], n[1]))[2] if near else None


async def _merge(
    parent: Case, draft: IntakeDraft, place: Place | None, deps: Deps
) -> tuple[IntakeResult, list[int]]:
    report = await _report(parent, draft, place, duplicate=True)
    await Case.filter(id=parent.id).update(report_count=F("report_count") + 1)
    ids = await _report_event(parent, draft, report, Action.DUPLICATE, parent.status, deps, None)
    return IntakeResult(await Case.get(id=parent.id), report, True, True), ids


async def _report_event(
    case: Case,
    draft: IntakeDraft,
    report: Report,
    action: Action,
    status: CaseStatus | None,
    deps: Deps,
    reporters: Reporters | None,
) -> list[int]:
    """The timeline row of a report (the first, or one merged in), its photos and event."""
    event = await CaseEvent.create(
        case_id=case.id,
        action=action,
        from_status=status,
        to_status=status or CaseStatus.REPORTED,
        actor_id=draft.reporter.staff_id,
        actor_kind=_actor_kind(draft),
        note=draft.description[:200],
        data={"report_id": report.id, "source": draft.source.value},
    )
    owner = {"citizen_id": draft.reporter.citizen_id, "staff_id": draft.reporter.staff_id}
    await photos.attach(case, event, draft.attachments, AttachmentKind.REPORT, **owner)
    return await events.publish(case, event, deps=deps, reporters=reporters)


async def _first_moves(
    case: Case,
    draft: IntakeDraft,
    category: Category | None,
    place: Place | None,
    deps: Deps,
    reporters: Reporters,
) -> tuple[Case, list[int]]:
    """自动立案/自动派遣 where the profile allows it for this source; else 自动受理 where the
    city wants it; else the report waits for a person's 受理."""
    rules = deps.policy.for_category(category.code) if category else None
    ids: list[int] = []
    if rules is not None and draft.source in rules.auto_register:
        case, ids = await apply_in_transaction(
            case,
            Action.REGISTER,
            RegisterIn(note="自动立案"),
            actor=None,
            deps=deps,
            reporters=reporters,
        )
        if draft.source in rules.auto_dispatch:
            case, more = await _auto_dispatch(case, deps, reporters)
            ids += more
    elif draft.source in deps.policy.workflow.auto_accept:
        # 自动受理 where the city wants it (a public report with a place then goes to 核实).
        case, ids = await apply_in_transaction(
            case,
            Action.ACCEPT,
            NoteIn(note="自动受理"),
            actor=None,
            deps=deps,
            reporters=reporters,
        )
    return case, ids


async def _auto_dispatch(case: Case, deps: Deps, reporters: Reporters) -> tuple[Case, list[int]]:
    try:
        return await apply_in_transaction(
            case,
            Action.DISPATCH,
            DispatchIn(note="自动派遣"),
            actor=None,
            deps=deps,
            reporters=reporters,
        )
    except ValidationFailed as err:
        # No department known for this category here: it waits for a dispatcher.
        log.warning("case %s not dispatched automatically: %s", case.id, err.detail)
        return case, []
