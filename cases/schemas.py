"""Case API input and output shapes."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from cases.const import Light, Source, Urgency
from cases.intake import MAX_PHOTOS, MAX_TEXT, Location
from core.calendar import TimeUnit
from core.timeutil import LocalDatetime
from core.types import Id, Instant


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int | None = Field(
        None, ge=0, le=2_147_483_647, description="the case version you saw; 409 if it changed"
    )
    note: str = Field("", max_length=1000)
    attachments: list[Id] = Field(default_factory=list, max_length=MAX_PHOTOS)


class NoteIn(_In):
    """Accept, verify, check, close, cancel, reject, receive, resume, urge, reopen."""


class RegisterIn(_In):
    category_code: str | None = Field(None, max_length=16)
    urgency: Urgency | None = None


class DispatchIn(_In):
    department_id: Id | None = Field(None, description="omit: the rules decide")


class ExtendIn(_In):
    amount: float = Field(gt=0, le=365)
    unit: TimeUnit


class DecisionIn(_In):
    approved: bool


class ResultIn(_In):
    passed: bool


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
    created_at: LocalDatetime


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


class CaseQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: list[str] | str | None = None
    light: Light | None = None
    category: str | None = None
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
    page: int = Field(1, ge=1, le=100_000)
    page_size: int = Field(50, ge=1, le=200)


class ExportQuery(CaseQuery):
    format: Literal["csv", "xlsx"] = "csv"
    page_size: int = Field(10_000, ge=1, le=50_000)


class CasePage(BaseModel):
    items: list[CaseOut]
    total: int
    page: int
    page_size: int


class TaskList(BaseModel):
    items: list[TaskOut]
    total: int


class TaskQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    page: int = Field(1, ge=1, le=100_000)
    page_size: int = Field(100, ge=1, le=500)


class CategoryOut(BaseModel):
    code: str
    kind: str
    major_name: str
    name: str
    department: str | None
    limits: dict[str, str]
    auto_register: list[str]
    auto_dispatch: list[str]
    reviewed: bool
    source: str


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
