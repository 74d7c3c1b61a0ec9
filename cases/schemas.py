"""Case shapes: what a channel submits, each action's input, what is shown, the events."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from cases.const import (
    MAX_PHOTOS,
    MAX_TEXT,
    Action,
    CaseStatus,
    Light,
    Source,
    TaskKind,
    Urgency,
)
from core.calendar import TimeUnit
from core.geo import CoordSystem
from core.timeutil import LocalDatetime
from core.types import Id, Instant

# --- what a channel submits (the one door in: cases.submit) ----------------------------------


class Location(BaseModel):
    """A point and the coordinate system it came in (WeChat's pickers give GCJ-02)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    crs: CoordSystem = CoordSystem.WGS84


class Reporter(BaseModel):
    """Who reported: a citizen identity from a channel, or a staff member."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    citizen_id: Id | None = None
    staff_id: Id | None = None


class IntakeDraft(BaseModel):
    """What a channel submits; `submit` turns it into a case."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: Source
    idempotency_key: str = Field(min_length=1, max_length=128)
    reporter: Reporter = Reporter()
    category_code: str | None = Field(None, max_length=16)
    description: str = Field("", max_length=MAX_TEXT)
    location: Location | None = None
    address: str = Field("", max_length=200)
    attachments: tuple[Id, ...] = Field((), max_length=MAX_PHOTOS)
    occurred_at: Instant | None = None
    urgency: Urgency | None = None
    no_callback: bool = Field(
        False, description="the reporter asked not to be contacted afterwards (不需要回访)"
    )
    self_handle: bool = Field(
        False,
        description="the staff reporter fixes it on the spot (自行处置): filed by the system "
        "and not dispatched, for their self_handle move; the category must allow it",
    )
    # The channel's own data, kept on the report. "flags": a list of {code, message,
    # media_id?} the centre sees on the case (ReportOut.flags): doubts about the report.
    extras: dict[str, Any] = Field(default_factory=dict)


# --- each action's input (cases.states.TRANSITIONS names one per move) ----------------------


class ActionIn(BaseModel):
    """What every action takes: the version seen, a note, photos as evidence."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int | None = Field(
        None, ge=0, le=2_147_483_647, description="the case version you saw; 409 if it changed"
    )
    note: str = Field("", max_length=1000)
    attachments: tuple[Id, ...] = Field((), max_length=MAX_PHOTOS)


class NoteIn(ActionIn):
    """Accept, verify, check, close, cancel, reject, receive, resume, urge, reopen."""


class MessageIn(ActionIn):
    """Words from the centre to the case's citizen reporters, sent through their channels."""

    text: str = Field(
        min_length=1, max_length=500, description="the message, as the citizen will read it"
    )


class RegisterIn(ActionIn):
    category_code: str | None = Field(None, max_length=16)
    urgency: Urgency | None = None


class LocateIn(ActionIn):
    """定位: where the case is, found by the centre (a map, the caller's directions)."""

    location: Location
    address: str | None = Field(None, max_length=200, description="omit: the address stays")


class DispatchIn(ActionIn):
    department_id: Id | None = Field(None, description="omit: the rules decide")


class ExtendIn(ActionIn):
    amount: float = Field(gt=0, le=365)
    unit: TimeUnit


class DecisionIn(ActionIn):
    approved: bool


class ResultIn(ActionIn):
    passed: bool


# --- events and notices (what subscribers and channels receive) -----------------------------


class CaseEventPayload(BaseModel):
    """One timeline row as an event `case.<action>`: what every subscriber gets."""

    model_config = ConfigDict(frozen=True)

    event: str = Field(description="case.<action>, e.g. case.close")
    case_id: int
    event_id: int
    action: Action
    from_status: CaseStatus | None
    to_status: CaseStatus
    actor_kind: str = Field(description="staff, citizen or system")
    actor_id: int | None = Field(description="the staff member, if one acted")
    source: Source = Field(description="the case's source (its first report's channel)")
    number: str | None = Field(None, description="the case number (None until 立案 numbers it)")
    category_code: str | None = Field(None, description="the case's category after the move")
    grid_id: int | None = Field(None, description="the case's grid (单元网格)")
    department_id: int | None = Field(description="the case's department after the move")
    at: dt.datetime = Field(description="when, aware UTC")
    data: dict[str, Any] = Field(default_factory=dict, description="the move's own details")
    note: str = Field("", description="the actor's note (a staff note: not for citizens as such)")


class ReporterNotice(BaseModel):
    """A citizen reporter hears of a move (outbox kind notify.<their channel>)."""

    model_config = ConfigDict(frozen=True)

    case_id: int
    event_id: int
    report_id: int
    citizen_id: int
    action: Action
    status: CaseStatus
    text: str | None = Field(
        None, description="the centre's words (message), or the reason (reject, cancel)"
    )


class CaseReporter(BaseModel):
    """A citizen who reported a case (the first report or a merged duplicate)."""

    model_config = ConfigDict(frozen=True)

    report_id: int
    citizen_id: int
    source: Source = Field(description="the channel they reported through")
    no_callback: bool = Field(description="they asked not to be contacted afterwards")
    reported_at: LocalDatetime


class NearbyCase(BaseModel):
    """An open problem near a point, as anyone may see it (no words, photos or people)."""

    number: str | None
    status: str
    status_name: str
    category_name: str | None
    lon: float = Field(description="WGS-84")
    lat: float = Field(description="WGS-84")
    distance_m: float
    created_at: LocalDatetime


class StaffNotice(BaseModel):
    """Staff hear of new work, tasks, 督办 and lateness (outbox kind notify.staff)."""

    model_config = ConfigDict(frozen=True)

    case_id: int
    event_id: int
    action: Action
    audience: Literal["department", "inspector", "centre"]
    department_id: int | None = None
    inspector_id: int | None = None
    task_id: int | None = None
    stage: str | None = None


class ReportIn(BaseModel):
    """A report through the API (the centre's web client, inspectors, agents)."""

    model_config = ConfigDict(extra="forbid")

    idempotency_key: str = Field(min_length=1, max_length=128)
    category_code: str | None = Field(None, max_length=16)
    description: str = Field("", max_length=MAX_TEXT)
    location: Location | None = None
    address: str = Field("", max_length=200)
    attachments: list[Id] = Field(default_factory=list, max_length=MAX_PHOTOS)
    occurred_at: Instant | None = None
    urgency: Urgency | None = None
    no_callback: bool = Field(
        False, description="the reporter asked not to be contacted afterwards (不需要回访)"
    )


# --- what is shown ---------------------------------------------------------------------------


class CaseOut(BaseModel):
    id: int
    number: str | None
    status: str
    status_name: str
    source: str
    category_code: str | None
    category_name: str | None
    urgency: str
    description: str
    address: str
    lon: float | None
    lat: float | None
    grid_id: int | None
    street_id: int | None
    department_id: int | None
    stage: str | None
    deadline_at: LocalDatetime | None
    light: Light
    overdue: bool
    urge_count: int
    reopen_count: int
    report_count: int
    pending_request: dict[str, Any] | None
    version: int
    created_at: LocalDatetime
    registered_at: LocalDatetime | None
    dispatched_at: LocalDatetime | None
    handled_at: LocalDatetime | None
    closed_at: LocalDatetime | None


class SubmitOut(BaseModel):
    case: CaseOut
    report_id: int
    created: bool = Field(description="false: this idempotency key was seen before")
    merged: bool = Field(description="true: joined an open case as a duplicate")


class EventOut(BaseModel):
    id: int
    action: str
    action_name: str
    from_status: str | None
    to_status: str
    actor_id: int | None
    actor_kind: str
    actor_name: str | None = Field(None, description="who acted (staff only; 系统 for rules)")
    actor_role: str | None = Field(
        None, description="the role they acted in (受理员, 处置人员…); a citizen sees only this"
    )
    actor_department: str | None = Field(None, description="their department (staff only)")
    note: str
    data: dict[str, Any]
    created_at: LocalDatetime


class AttachmentOut(BaseModel):
    media_id: int
    kind: str
    event_id: int | None
    public_url: str
    thumb_url: str


class ReportOut(BaseModel):
    id: int
    source: str
    duplicate: bool
    description: str
    reporter_kind: str
    reporter_phone: str | None = Field(None, description="masked unless the role calls back")
    flags: list[ReportFlag] = Field(
        default_factory=list,
        description="what the channel found doubtful about the report (a photo's place or age)",
    )
    created_at: LocalDatetime


class ReportFlag(BaseModel):
    """A doubt a channel raised about a report for the centre (extras["flags"] of the draft)."""

    code: str = Field(description="stale, outside_grid, gps_mismatch, no_exif, …")
    message: str = Field(description="for people")
    media_id: int | None = Field(None, description="the photo it is about")


class TaskOut(BaseModel):
    id: int
    case_id: int
    kind: str
    status: str
    grid_id: int | None
    inspector_id: int | None
    deadline_at: LocalDatetime
    passed: bool | None
    note: str
    created_at: LocalDatetime


class CaseDetail(CaseOut):
    timeline: list[EventOut]
    attachments: list[AttachmentOut]
    reports: list[ReportOut]
    tasks: list[TaskOut]


class CaseFilter(BaseModel):
    """The filters and the order of a case list or an export."""

    model_config = ConfigDict(extra="forbid")

    status: list[str] | str | None = None  # each checked against CaseStatus before any query
    light: Light | None = None
    # Bounded by its column: PostgreSQL refuses a parameter longer than the column's type.
    category: str | None = Field(None, max_length=16, description="a 小类 code")
    department_id: Id | None = None
    grid_id: Id | None = None
    street_id: Id | None = None
    source: Source | None = None
    created_from: Instant | None = None
    created_to: Instant | None = None
    overdue: bool | None = None
    q: str | None = Field(None, max_length=100, description="text in number, description, address")
    sort: Literal[
        "created_at", "-created_at", "deadline_at", "-deadline_at", "number", "-number"
    ] = "-created_at"


class CaseQuery(CaseFilter):
    page: int = Field(1, ge=1, le=100_000, description="offset paging, 10,000 rows deep at most")
    page_size: int = Field(50, ge=1, le=200)
    cursor: str | None = Field(
        None, max_length=200, description="the next_cursor of the page before: any depth"
    )


class ExportQuery(CaseFilter):
    format: Literal["csv", "xlsx"] = "csv"
    page_size: int | None = Field(
        None, ge=1, le=10_000_000, description="at most this many rows; without it every row"
    )


class CasePage(BaseModel):
    items: list[CaseOut]
    total: int = Field(description="exact when total_exact, else PostgreSQL's estimate")
    total_exact: bool = Field(description="false past 10,000 matching rows on PostgreSQL")
    page: int
    page_size: int
    next_cursor: str | None = Field(None, description="the cursor of the next page; null: last")


class TaskItem(TaskOut):
    """An open task in a list: its case (light, place, version to act on) and how far."""

    case: CaseOut
    distance_m: float | None = Field(None, description="from the point asked about (lon, lat)")


class TaskList(BaseModel):
    items: list[TaskItem]
    total: int


class TaskQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    case_id: Id | None = Field(None, description="only this case's tasks")
    kind: TaskKind | None = Field(None, description="verify (核实) or check (核查)")
    lon: float | None = Field(None, ge=-180, le=180, description="with lat: nearest first")
    lat: float | None = Field(None, ge=-90, le=90)
    crs: CoordSystem = Field(CoordSystem.WGS84, description="of lon/lat (a phone's GPS: wgs84)")
    page: int = Field(1, ge=1, le=100_000)
    page_size: int = Field(100, ge=1, le=500)


class TaskAssignIn(BaseModel):
    """改派: the task goes to another inspector of its grid."""

    model_config = ConfigDict(extra="forbid")

    inspector_id: Id


class CategoryOut(BaseModel):
    """A category in the city's wording; the city's rules for it only to staff (null for
    citizens)."""

    code: str
    kind: str
    major_name: str
    name: str
    department: str | None = None
    limits: dict[str, str] | None = Field(None, description="处置 limit per class A/B/C")
    stage_limits: dict[str, str] | None = Field(
        None, description="the other stages' limits: 受理, 核实, 立案, 派遣, 核查"
    )
    auto_register: list[str] | None = None
    auto_dispatch: list[str] | None = None
    reviewed: bool | None = Field(None, description="false: the demo default, to be reviewed")
    source: str | None = Field(None, description="where the row comes from (the catalog data)")


class CategoryList(BaseModel):
    catalog: str
    items: list[CategoryOut]


class RuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category_code: str = Field(max_length=16)
    department_id: Id
    grid_id: Id | None = None
    area_id: Id | None = Field(None, description="a street or district (Department id)")


class RuleOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    category_code: str
    department_id: int
    grid_id: int | None
    area_id: int | None


class RuleList(BaseModel):
    items: list[RuleOut]


class TimelineItem(BaseModel):
    """One move as a person reads it."""

    action: str
    action_name: str
    status: str
    status_name: str
    note: str
    at: LocalDatetime


class CaseView(BaseModel):
    """One case as a citizen or a staff member sees it: what a channel words a message from."""

    id: int
    number: str | None
    status: str
    status_name: str
    category_name: str | None
    description: str = Field(description="a citizen's own words; the first report's for staff")
    address: str
    deadline_at: LocalDatetime | None
    light: Light
    created_at: LocalDatetime
    closed_at: LocalDatetime | None
    timeline: list[TimelineItem]
    photos: list[AttachmentOut] = Field(description="public copies only (no metadata)")
