"""Reading cases: lists with filters, details with their timeline, who may see what."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, Final

from pydantic import ValidationError
from tortoise.queryset import QuerySet

from cases import clock, public, sla
from cases.actors import Actor, actors
from cases.const import ACTION_NAMES, FINAL_STATUSES, STATUS_NAMES, Action, CaseStatus, Light
from cases.deps import Deps
from cases.models import Case, CaseAttachment, CaseEvent, InspectorTask, Report
from cases.schemas import (
    AttachmentOut,
    CaseDetail,
    CaseOut,
    CaseView,
    EventOut,
    ReportFlag,
    ReportOut,
    TaskOut,
    TimelineItem,
)
from core.auth.const import CITIZEN, Role
from core.auth.models import Citizen
from core.auth.scope import restrict
from core.auth.service import Principal
from core.errors import NotFound
from core.media.models import MediaObject
from core.media.service import public_url, thumb_url
from core.org.models import Department
from core.privacy import mask_personal, mask_phone

# Roles that call reporters back see their phone numbers in full.
CALLS_BACK = frozenset({Role.ACCEPTOR, Role.AGENT, Role.SHIFT_LEAD})
Text = Callable[[str | None], str | None]


def reads_numbers(who: Principal) -> bool:
    """Whether phone and 身份证 numbers typed into free text reach this reader as typed: a
    citizen's own words do, and the staff who call people back; the others read them masked,
    as they read the structured phone field."""
    return not who.is_staff or who.has_any(CALLS_BACK)


def reads_phones(who: Principal) -> bool:
    """Whether this caller sees reporters' phone numbers in full (those who call back)."""
    return who.has_any(CALLS_BACK)


def text_for(who: Principal) -> Text:
    """How free text (descriptions, addresses, notes) is shown to this reader."""
    return _as_typed if reads_numbers(who) else mask_personal


def _as_typed(text: str | None) -> str | None:
    return text


def shown_case(out: CaseOut, text: Text) -> CaseOut:
    """A case row with its free text as this reader sees it."""
    if text is _as_typed:
        return out
    return out.model_copy(
        update={"description": text(out.description) or "", "address": text(out.address)}
    )


def visible(who: Principal) -> QuerySet[Case]:
    """Cases this caller may see: citizens their own reports', handlers their department's."""
    query = Case.all()
    if who.kind == CITIZEN:
        return query.filter(reports__citizen_id__in=list(who.person)).distinct()
    return restrict(query, who, department="department_id", grid="grid_id")


def case_out(case: Case, deps: Deps, now: dt.datetime) -> CaseOut:
    """Show a case with its light computed now."""
    running = clock.clock_of(case)
    final = case.status in FINAL_STATUSES
    light = Light.NONE if final else sla.light(deps.calendar, running, now)
    return CaseOut(
        id=case.id,
        number=case.number,
        status=case.status.value,
        status_name=STATUS_NAMES[case.status],
        source=case.source.value,
        category_code=case.category_code,
        category_name=case.category_name,
        urgency=case.urgency.value,
        description=case.description,
        address=case.address,
        lon=case.lon,
        lat=case.lat,
        grid_id=case.grid_id,
        street_id=case.street_id,
        department_id=case.department_id,
        stage=case.stage.value if case.stage else None,
        deadline_at=case.deadline_at,
        light=light,
        overdue=case.overdue,
        urge_count=case.urge_count,
        reopen_count=case.reopen_count,
        report_count=case.report_count,
        pending_request=case.pending_request,
        version=case.version,
        created_at=case.created_at,
        registered_at=case.registered_at,
        dispatched_at=case.dispatched_at,
        handled_at=case.handled_at,
        closed_at=case.closed_at,
    )


async def sees_photo(who: Principal, media_id: int) -> bool:
    """Staff who may see a case holding the photo may see it (GET /api/v1/media/{id}).

    Citizens are left to their own uploads there: the case shows them the photos of their
    own report and of the public moves, with their URLs, and not the rest.
    """
    if not who.is_staff:
        return False
    return await visible(who).filter(attachments__media_id=media_id).exists()


async def get_visible(case_id: int, who: Principal) -> Case:
    """Load a case the caller may see, or 404 (never 403: ids are not to be probed)."""
    case = await visible(who).filter(id=case_id).first()
    if case is None:
        raise NotFound(f"case {case_id} not visible to {who.kind} {who.id}", message="未找到该案件")
    return case


async def detail(case: Case, who: Principal, deps: Deps) -> CaseDetail:
    """Show a case with its timeline, photos, reports and tasks."""
    events = await CaseEvent.filter(case_id=case.id).order_by("created_at", "id")
    links = (
        await CaseAttachment.filter(case_id=case.id)
        .order_by("id")
        .values("media_id", "kind", "event_id")
    )
    media = {
        m["id"]: m
        for m in await MediaObject.filter(id__in=[a["media_id"] for a in links]).values(
            "id", "public_token", "public_ext"
        )
    }
    out = case_out(case, deps, deps.now())
    tasks = await InspectorTask.filter(case_id=case.id).order_by("id")
    who_acted = await actors(events)
    if who.kind == CITIZEN:
        # Roles only: a citizen never learns a staff member's name or department.
        who_acted = {i: Actor(None, a.role, None) for i, a in who_acted.items()}
        text, report_ids = (await public.own_reports(who.person, [case.id])).get(
            case.id, ("", set())
        )
        out = public.case_for_citizen(out, text)
        links = public.attachments_for_citizen(links, events, report_ids)
        shown = deps.policy.workflow.citizen_sees
        events, tasks = public.events_for_citizen(events, report_ids, shown), []
    as_read = text_for(who)
    return CaseDetail(
        **shown_case(out, as_read).model_dump(),
        timeline=[_event_out(e, who_acted.get(e.id), as_read) for e in events],
        attachments=[_attachment_out(a, media[a["media_id"]]) for a in links],
        reports=await _reports_out(case, who),
        tasks=[task_out(t, as_read) for t in tasks],
    )


# Whom a job reads a case as when it names no viewer: the centre (read only, never an actor).
_CENTRE: Final = Principal(kind="staff", id=0, name="系统", roles=frozenset({Role.SHIFT_LEAD}))


async def case_brief(case_id: int, deps: Deps) -> CaseOut | None:
    """One case as the centre lists it (one row read: no timeline, photos or reports)."""
    case = await Case.get_or_none(id=case_id)
    return case_out(case, deps, deps.now()) if case is not None else None


def citizen_viewer(citizen_id: int) -> Principal:
    """The viewer a channel reads a case as for one of its citizens (a ReporterNotice's)."""
    return Principal(kind=CITIZEN, id=citizen_id, name="")


async def case_view(case_id: int, *, viewer: Principal | None, deps: Deps) -> CaseView:
    """One case as this viewer sees it: a citizen their own report and the public moves; None
    the centre's view (everything staff see). 404 if the viewer may not see it."""
    who = viewer or _CENTRE
    shown = await detail(await get_visible(case_id, who), who, deps)
    return CaseView(
        id=shown.id,
        number=shown.number,
        status=shown.status,
        status_name=shown.status_name,
        category_name=shown.category_name,
        description=shown.description,
        address=shown.address,
        deadline_at=shown.deadline_at,
        light=shown.light,
        created_at=shown.created_at,
        closed_at=shown.closed_at,
        timeline=[
            TimelineItem(
                action=e.action,
                action_name=e.action_name,
                status=e.to_status,
                status_name=STATUS_NAMES[CaseStatus(e.to_status)],
                note=e.note,
                at=e.created_at,
            )
            for e in shown.timeline
        ],
        photos=shown.attachments,
    )


def _event_out(e: CaseEvent, actor: Actor | None, text: Text = _as_typed) -> EventOut:
    action = Action(e.action)
    return EventOut(
        id=e.id,
        action=e.action,
        action_name=ACTION_NAMES.get(action, e.action),
        from_status=e.from_status,
        to_status=e.to_status,
        actor_id=e.actor_id,
        actor_kind=e.actor_kind,
        actor_name=actor.name if actor else None,
        actor_role=actor.role if actor else None,
        actor_department=actor.department if actor else None,
        note=text(e.note) or "",
        data=_masked_data(e.data, text),
        created_at=e.created_at,
    )


def _attachment_out(link: dict[str, Any], media: dict[str, Any]) -> AttachmentOut:
    return AttachmentOut(
        media_id=link["media_id"],
        kind=link["kind"],
        event_id=link["event_id"],
        public_url=public_url(media["public_token"], media["public_ext"]),
        thumb_url=thumb_url(media["public_token"]),
    )


async def _reports_out(case: Case, who: Principal) -> list[ReportOut]:
    reports = await Report.filter(case_id=case.id).order_by("id")
    if who.kind == CITIZEN:
        reports = [r for r in reports if r.citizen_id in who.person]
    phones = dict(
        await Citizen.filter(id__in=[r.citizen_id for r in reports if r.citizen_id]).values_list(
            "id", "phone"
        )
    )
    reveal = reads_phones(who)
    text = text_for(who)
    return [
        ReportOut(
            id=r.id,
            source=r.source.value,
            duplicate=r.duplicate,
            description=text(r.description) or "",
            reporter_kind="citizen" if r.citizen_id else ("staff" if r.staff_id else "unknown"),
            reporter_phone=_phone(phones.get(r.citizen_id), reveal),
            flags=_flags(r.extras),
            created_at=r.created_at,
        )
        for r in reports
    ]


def _flags(extras: Any) -> list[ReportFlag]:
    raw = extras.get("flags") if isinstance(extras, dict) else None
    if not isinstance(raw, list):
        return []
    flags = []
    for found in raw:
        try:
            flags.append(ReportFlag.model_validate(found))
        except ValidationError:
            continue  # a channel's malformed entry must not hide the case
    return flags


def _phone(phone: Any, reveal: bool) -> str | None:
    if not phone:
        return None
    return str(phone) if reveal else mask_phone(str(phone))


async def department_names(ids: set[int]) -> dict[int, str]:
    """The names of these departments, by id."""
    rows = await Department.filter(id__in=sorted(ids)).values_list("id", "name")
    return {int(i): str(n) for i, n in rows}


def _is_code(key: object) -> bool:
    return isinstance(key, str) and (key.endswith(("_code", "_id")) or key == "number")


def _masked_data(data: Any, text: Text) -> Any:
    """An event's data with the text in it as the reader sees it (a message, a reason)."""
    if text is _as_typed:
        return data
    if isinstance(data, str):
        return text(data)
    if isinstance(data, dict):  # codes (a grid's 15 digits look like an old 身份证) stay
        return {k: v if _is_code(k) else _masked_data(v, text) for k, v in data.items()}
    if isinstance(data, list):
        return [_masked_data(v, text) for v in data]
    return data


def task_out(t: InspectorTask, text: Text = _as_typed) -> TaskOut:
    """Show an inspector task."""
    return TaskOut(
        id=t.id,
        case_id=t.case_id,
        kind=t.kind.value,
        status=t.status.value,
        grid_id=t.grid_id,
        inspector_id=t.inspector_id,
        deadline_at=t.deadline_at,
        passed=t.passed,
        note=text(t.note) or "",
        created_at=t.created_at,
    )
