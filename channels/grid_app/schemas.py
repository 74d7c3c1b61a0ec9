"""What the phone sends and reads: the items of a sync batch (one model per kind), the
answers per item, duty, tracks and coverage, the work list, devices and push messages."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from cases import CaseOut, Location, TaskList, Urgency
from channels.grid_app.const import CaseMove, ItemKind, Outcome
from core.calendar import TimeUnit
from core.geo import CoordSystem
from core.timeutil import LocalDatetime
from core.types import BigId, Id, Instant, Text

MAX_PHOTOS = 9  # as the case core takes with one move
# A photo of an item: an upload id (POST /api/v1/media), or the name of a part of this very
# request (multipart: the batch in part "batch", each photo a part of its own).
PartName: TypeAlias = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
PhotoRef: TypeAlias = BigId | PartName


class _Item(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: uuid.UUID = Field(description="the phone's UUID of the item: a replay is answered once")
    at: Instant | None = Field(None, description="when the phone queued it (order, photo age)")


class _Found(_Item):
    category_code: str | None = Field(None, max_length=16)
    description: Text = Field("", max_length=2000)
    location: Location
    address: Text = Field("", max_length=200)
    urgency: Urgency | None = None
    photos: list[PhotoRef] = Field(default_factory=list, max_length=MAX_PHOTOS)


class ReportItem(_Found):
    """上报: a problem the inspector found."""

    kind: Literal[ItemKind.REPORT]


class SelfHandleItem(_Found):
    """自行处置: found and fixed on the spot; `photos` before, `after` after."""

    kind: Literal[ItemKind.SELF_HANDLE]
    after: list[PhotoRef] = Field(min_length=1, max_length=MAX_PHOTOS)
    note: Text = Field("", max_length=1000)


class TaskResultItem(_Item):
    """核实/核查 result of one task."""

    kind: Literal[ItemKind.TASK_RESULT]
    task_id: BigId
    passed: bool = Field(description="核实: the problem is real; 核查: the fix holds")
    note: Text = Field("", max_length=1000)
    photos: list[PhotoRef] = Field(default_factory=list, max_length=MAX_PHOTOS)


class CaseActionItem(_Item):
    """A handler's move on a case of their department."""

    kind: Literal[ItemKind.CASE_ACTION]
    case_id: BigId
    action: CaseMove
    note: Text = Field("", max_length=1000)
    photos: list[PhotoRef] = Field(default_factory=list, max_length=MAX_PHOTOS)
    amount: float | None = Field(None, gt=0, le=365, description="延期: how much more")
    unit: TimeUnit | None = Field(None, description="延期: in which unit")


class PointIn(BaseModel):
    """One GPS fix."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    at: Instant
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    crs: CoordSystem = CoordSystem.WGS84
    accuracy_m: float | None = Field(None, ge=0, le=100_000)
    speed_mps: float | None = Field(None, ge=0, le=1000)


class TrackItem(_Item):
    """GPS points recorded while out of signal."""

    kind: Literal[ItemKind.TRACK]
    points: list[PointIn] = Field(min_length=1, max_length=100_000)


class DutyItem(_Item):
    """上岗 (on) or 下岗 (off), where the inspector was."""

    kind: Literal[ItemKind.DUTY]
    on: bool
    location: Location | None = None


SyncItemIn: TypeAlias = Annotated[
    ReportItem | SelfHandleItem | TaskResultItem | CaseActionItem | TrackItem | DutyItem,
    Field(discriminator="kind"),
]


class SyncIn(BaseModel):
    """A queue of items; each is checked and answered on its own."""

    model_config = ConfigDict(extra="forbid")

    # Loose on purpose: an item that is no object, or of no known kind, is refused on its own
    # (its answer says why) and the rest of the batch is done.
    items: list[Any] = Field(
        min_length=1,
        description="each an object with id (UUID), kind (report, self_handle, task_result, "
        "case_action, track, duty), at, and the kind's fields",
    )


class FlagOut(BaseModel):
    code: str
    message: str
    media_id: int | None = None


class ItemAnswer(BaseModel):
    """What became of one item."""

    id: str | None = Field(description="the item's UUID (null: the item had none)")
    kind: str | None
    outcome: Outcome
    code: str | None = Field(None, description="why it was refused: a stable code")
    message: str | None = Field(None, description="why, for people")
    case_id: int | None = None
    number: str | None = Field(None, description="the case number, once filed")
    status: str | None = Field(None, description="the case's status after the item")
    merged: bool | None = Field(None, description="a report that joined an open case")
    flags: list[FlagOut] = Field(default_factory=list, description="doubts about its photos")
    stored: int | None = Field(None, description="track: points kept now")
    duplicates: int | None = Field(None, description="track: points the server had already")


class SyncOut(BaseModel):
    items: list[ItemAnswer]
    photos: dict[str, int] = Field(
        default_factory=dict, description="each photo part of the request → its upload id"
    )


class TrackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    points: list[PointIn] = Field(min_length=1, max_length=100_000)


class TrackAnswer(BaseModel):
    stored: int
    duplicates: int


class DutyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    on: bool
    location: Location | None = None


class ShiftOut(BaseModel):
    id: int
    staff_id: int
    started_at: LocalDatetime
    ended_at: LocalDatetime | None
    start_lon: float | None
    start_lat: float | None
    end_lon: float | None
    end_lat: float | None


class DutyOut(BaseModel):
    on_duty: bool
    shift: ShiftOut | None


class TrackQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    staff_id: Id | None = Field(None, description="whose (default: yours)")
    date: dt.date = Field(description="the local day")


class PointOut(BaseModel):
    at: LocalDatetime
    lon: float
    lat: float
    accuracy_m: float | None
    speed_mps: float | None
    flags: list[str] = Field(description="gap, jump, inaccurate")


class TrackOut(BaseModel):
    staff_id: int
    date: dt.date
    points: list[PointOut]
    walked_m: float = Field(description="along the points, jumps and gaps left out")
    gaps: int
    jumps: int


class CoverageQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    date: dt.date = Field(description="the local day")
    grid_id: Id | None = Field(None, description="one grid (default: yours, or every walked)")
    staff_id: Id | None = Field(None, description="one inspector's tracks only")


class GridCoverage(BaseModel):
    grid_id: int
    grid_code: str
    grid_name: str
    area_m2: float
    covered_m2: float
    ratio: float = Field(description="covered share of the grid, 0..1")
    staff_ids: list[int] = Field(description="whose tracks walked it")


class CoverageOut(BaseModel):
    date: dt.date
    width_m: float = Field(description="what a walk covers either side of its line")
    grids: list[GridCoverage]


class WorkQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lon: float | None = Field(None, ge=-180, le=180, description="with lat: nearest first")
    lat: float | None = Field(None, ge=-90, le=90)
    crs: CoordSystem = CoordSystem.WGS84


class MessageOut(BaseModel):
    id: int
    kind: str
    case_id: int | None
    task_id: int | None
    title: str
    text: str
    created_at: LocalDatetime


class WorkCase(BaseModel):
    """A case of the handler's department with the latest news of it (返工, 督办, …)."""

    case: CaseOut
    latest: MessageOut | None


class WorkOut(BaseModel):
    """What the phone shows first: an inspector's tasks, a handler's cases."""

    tasks: TaskList | None = Field(description="inspectors: 核实/核查 tasks, nearest first")
    cases: list[WorkCase] | None = Field(description="handlers: the department's cases")


class MessagePage(BaseModel):
    items: list[MessageOut]
    last_id: int = Field(description="give it back as `after` (or Last-Event-ID) next time")


class MessageQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    after: int = Field(0, ge=0, description="the last message id the phone has")
    limit: int = Field(200, ge=1, le=1000)


class DeviceIn(BaseModel):
    """Register (or refresh) a phone of the caller."""

    model_config = ConfigDict(extra="forbid")

    device_id: str = Field(min_length=4, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$")
    platform: Literal["android", "ios", "harmony", "other"]
    name: Text = Field("", max_length=64)
    transport: str = Field("sse", max_length=32, description="sse, or a configured vendor")
    push_token: str | None = Field(None, max_length=255, description="the vendor's device token")


class DeviceOut(BaseModel):
    id: int
    device_id: str
    platform: str
    name: str
    transport: str
    has_token: bool
    last_seen_at: LocalDatetime | None
    created_at: LocalDatetime


class DeviceList(BaseModel):
    items: list[DeviceOut]
