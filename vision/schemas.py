"""The vision API's inputs and outputs (a camera's declaration is vision.config.CameraIn)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from vision.config import CameraIn
from vision.const import CameraHealth, CheckStatus, EventStatus, SourceKind


class CameraOut(BaseModel):
    """A camera as declared, where it stands, and how its reader last found it."""

    id: int
    code: str
    name: str
    enabled: bool
    kind: SourceKind
    grid_id: int | None
    health: CameraHealth
    health_name: str
    health_detail: str
    last_frame_at: dt.datetime | None
    declared: CameraIn


class CameraList(BaseModel):
    items: list[CameraOut]
    next_after: str | None = Field(None, description="pass as `after` for the next page")


class CameraQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool | None = None
    health: CameraHealth | None = Field(None, description="as its reader last reported it")
    after: str | None = Field(None, max_length=32, description="the last code of the page before")
    limit: int = Field(200, ge=1, le=2000)


class ImportOut(BaseModel):
    created: int
    updated: int


class SightingQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: EventStatus | None = Field(None, description="review: the review queue")
    camera: str | None = Field(None, max_length=32, description="a camera's code")
    case_id: int | None = Field(None, ge=1, le=2**62)
    limit: int = Field(50, ge=1, le=500)


class SightingOut(BaseModel):
    """A problem a camera saw, its evidence (media ids), and what became of it."""

    id: int
    camera: str
    camera_name: str
    zone: str
    category_code: str
    category_name: str | None
    label: str
    score: float
    box: list[float]
    since_at: dt.datetime
    fired_at: dt.datetime
    status: EventStatus
    status_name: str
    evidence_id: int | None
    frame_id: int | None
    case_id: int | None
    merged: bool
    reviewed_at: dt.datetime | None
    review_note: str


class SightingList(BaseModel):
    items: list[SightingOut]


class ConfirmIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str = Field("", max_length=200)


class DismissIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=200, description="why it is no problem")


class CheckOut(BaseModel):
    """One 智能核查 watch."""

    id: int
    case_id: int
    camera: str
    status: CheckStatus
    samples: int
    evidence_id: int | None
    detail: str
    created_at: dt.datetime
    done_at: dt.datetime | None


class CheckList(BaseModel):
    items: list[CheckOut]


class CheckQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    case_id: int | None = Field(None, ge=1, le=2**62)
    status: CheckStatus | None = None
    limit: int = Field(50, ge=1, le=500)
