"""The one door in: every report, from any channel, becomes a case (or joins one) here."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from cases import automatic, clock, dedupe, dispatch
from cases.catalog import Category
from cases.const import Action, AttachmentKind, CaseStatus, Source, Stage, Urgency
from cases.deps import Deps
from cases.journal import Ids, Journal
from cases.models import Case, CaseEvent, Report
from cases.photos import Evidence
from cases.schemas import IntakeDraft
from cases.states import Reporters
from core import rows
from core.auth.const import CITIZEN, Role
from core.auth.service import Principal
from core.errors import CityloopError, Conflict, Forbidden, field_error
from core.org.service import Place
from core.timeutil import utc

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


_REPORT_BY_KEY = 'SELECT "id" FROM "case_report" WHERE "source" = $1 AND "idempotency_key" = $2'


async def _existing(draft: IntakeDraft) -> IntakeResult | None:
    found = await rows.select(Report, _REPORT_BY_KEY, [draft.source.value, draft.idempotency_key])
    return await _replayed(draft, int(found[0]["id"])) if found else None


async def _replayed(draft: IntakeDraft, report_id: int) -> IntakeResult:
    """The answer to a retried request: the report filed under its key, with its case."""
    report = await Report.get(id=report_id)
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


def _may_self_handle(draft: IntakeDraft, category: Category | None, deps: Deps) -> None:
    if not draft.self_handle:
        return
    if draft.reporter.staff_id is None:
        raise field_error(
            "self_handle",
            "self_handle by a citizen",
            "只有工作人员可以自行处置",
            "self_handle_staff",
        )
    if category is None or category.code not in deps.policy.workflow.self_handle:
        raise Forbidden(
            "category not self-handled",
            code="self_handle_not_allowed",
            message="该类别的问题不能由监督员自行处置，请按一般流程上报",
        )


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
    await deps.rules.fresh(deps.policy)  # another process may have changed them
    try:
        if not draft.description.strip() and not draft.attachments:
            raise field_error(
                "description", "neither text nor photo", "请描述问题或上传照片", "empty_report"
            )
        category = _category(draft, deps)
        _may_self_handle(draft, category, deps)
        place = await _place(draft, deps)
    except CityloopError:
        # A retry of a report filed before its category was retired, say: it was filed.
        if (done := await _existing(draft)) is not None:
            return done
        raise
    await Journal.prepare()
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
    departments = await automatic.departments(draft, category, place, deps)
    seen = await dedupe.look(draft, category, place, deps, now, departments)
    if seen.report_id is not None:
        return await _replayed(draft, seen.report_id), []
    # Fixed on the spot already: its own case, whatever else is open nearby.
    if (parent := seen.duplicate_of()) is not None and not draft.self_handle:
        return await _merge(parent, draft, place, deps, seen.ids)
    journal = await _new_case(draft, category, place, deps, now, seen.ids)
    case = journal.case
    report = journal.report = _report(case, draft, place, duplicate=False, id=journal.report_id)
    citizen = draft.reporter.citizen_id
    reporters = ((report.id, draft.source.value, citizen),) if citizen is not None else ()
    _report_event(case, draft, report, Action.REPORT, None, reporters, journal)
    with dispatch.knowing_live(seen.live):
        case, outbox_ids = await automatic.first_moves(
            case, draft, category, deps, reporters, journal
        )
    outbox_ids += await journal.write(deps)  # the case in its final state (cases/journal.py)
    return IntakeResult(case, report, True, False), outbox_ids


def _actor_kind(draft: IntakeDraft) -> str:
    if draft.reporter.staff_id is not None:
        return "staff"
    return "citizen" if draft.reporter.citizen_id is not None else "system"


async def _new_case(
    draft: IntakeDraft,
    category: Category | None,
    place: Place | None,
    deps: Deps,
    now: dt.datetime,
    ids: Ids | None,
) -> Journal:
    # A citizen does not choose the class of their own case: the acceptor does at 立案.
    urgency = (draft.urgency if draft.reporter.citizen_id is None else None) or Urgency.B
    return await Journal.open(
        deps,
        now,
        ids,
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


def _report(
    case: Case, draft: IntakeDraft, place: Place | None, *, duplicate: bool, id: int | None = None
) -> Report:
    """The report row (not saved: the journal writes it)."""
    return Report(
        **({} if id is None else {"id": id}),
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


# The case a report joins, one report more (hand-written: core/rows.py), as it now stands.
_ONE_MORE = 'UPDATE "case" SET "report_count" = "report_count" + 1 WHERE "id" = $1 RETURNING *'


async def _merge(
    parent_id: int, draft: IntakeDraft, place: Place | None, deps: Deps, ids: Ids | None
) -> tuple[IntakeResult, list[int]]:
    (row,) = await rows.select(Case, _ONE_MORE, [parent_id])
    parent = rows.loaded(Case, row)
    journal = await Journal.joining(parent, ids)
    report = journal.report = _report(parent, draft, place, duplicate=True, id=journal.report_id)
    _report_event(parent, draft, report, Action.DUPLICATE, parent.status, None, journal)
    return IntakeResult(parent, report, True, True), await journal.write(deps)


def _report_event(
    case: Case,
    draft: IntakeDraft,
    report: Report,
    action: Action,
    status: CaseStatus | None,
    reporters: Reporters | None,
    journal: Journal,
) -> None:
    """Keep the timeline row of a report (the first, or one merged in) and its photos in the
    journal, which writes them with the case and publishes the row's event."""
    row = CaseEvent(
        case_id=case.id,
        action=action,
        from_status=status,
        to_status=status or CaseStatus.REPORTED,
        actor_id=draft.reporter.staff_id,
        actor_kind=_actor_kind(draft),
        note=draft.description[:200],
        data={"report_id": report.id, "source": draft.source.value},
    )
    owner = Evidence(
        draft.attachments,
        AttachmentKind.REPORT,
        citizen_id=draft.reporter.citizen_id,
        staff_id=draft.reporter.staff_id,
    )
    journal.record(case, row, owner, reporters)
