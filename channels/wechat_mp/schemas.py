"""What the 小程序's pages send and get (all in OpenAPI)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from cases import NearbyCase
from core.geo import CoordSystem
from core.types import Id, Text

MAX_CODE = 128  # WeChat's codes are 32 characters; leave room, refuse the absurd


class MpLoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: Text = Field(min_length=1, max_length=MAX_CODE, description="wx.login()'s code")


class Me(BaseModel):
    citizen_id: int
    phone: str | None = Field(description="masked (138****0000); null until bound")


class LoginOut(BaseModel):
    token: str = Field(description="Authorization: Bearer <token> for the other routes")
    expires_at: dt.datetime
    me: Me


class PhoneIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: Text = Field(
        min_length=1, max_length=MAX_CODE, description="the getPhoneNumber button's code"
    )


class Point(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    crs: CoordSystem = Field(
        CoordSystem.GCJ02, description="wx.getLocation/chooseLocation give gcj02 unless told"
    )


class MpReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    idempotency_key: Text = Field(min_length=1, max_length=128, description="one per report")
    photos: list[Id] = Field(
        default_factory=list, max_length=9, description="ids from POST /api/v1/media"
    )
    location: Point | None = None
    category_code: Text | None = Field(None, max_length=16, description="from the picker")
    description: Text = Field("", max_length=2000)
    address: Text = Field("", max_length=200)
    no_callback: bool = Field(False, description="不需要回访: no satisfaction callback afterwards")


class MpReportOut(BaseModel):
    case_id: int
    number: str | None
    status: str
    status_name: str
    merged: bool = Field(description="true: joined a case others reported (its number)")
    created: bool = Field(description="false: this idempotency key was seen before")
    check: str = Field(description="content check: pass, review, unchecked, pending")


class MineQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    page: int = Field(1, ge=1, le=10_000)
    page_size: int = Field(20, ge=1, le=50)


class MineItem(BaseModel):
    case_id: int
    number: str | None
    status: str
    status_name: str
    category_name: str | None
    description: str = Field(description="the citizen's own words")
    address: str
    created_at: dt.datetime
    closed_at: dt.datetime | None


class MinePage(BaseModel):
    items: list[MineItem]
    total: int
    page: int
    page_size: int


class CategoryItem(BaseModel):
    code: str
    name: str
    kind: str = Field(description="component (部件) or event (事件)")
    major_name: str
    icon: str = Field(description="the picker's icon key")


class MpCategoryList(BaseModel):
    items: list[CategoryItem]


class NearbyQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    crs: CoordSystem = CoordSystem.GCJ02
    radius_m: int = Field(200, ge=10, le=5000)


class NearbyItem(NearbyCase):
    """Shown in the coordinate system the query used (the map's)."""


class NearbyList(BaseModel):
    items: list[NearbyItem]


class SubscriptionsIn(BaseModel):
    """wx.requestSubscribeMessage's success result, as the page got it."""

    model_config = ConfigDict(extra="allow")  # errMsg and one key per template id

    @model_validator(mode="before")
    @classmethod
    def _shape(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            raise ValueError("an object of template id → accept / reject / ban / filter")
        for key, value in data.items():
            if key != "errMsg" and value not in ("accept", "reject", "ban", "filter"):
                raise ValueError(f"{key}: not accept / reject / ban / filter")
        return data

    def results(self) -> dict[str, str]:
        return {k: str(v) for k, v in (self.model_extra or {}).items() if k != "errMsg"}


class QuotaItem(BaseModel):
    template_id: str
    remaining: int
    long_term: bool


class QuotaList(BaseModel):
    items: list[QuotaItem]


class FlaggedItem(BaseModel):
    report_id: int
    case_id: int
    number: str | None
    check: str = Field(description="risky, review or unchecked")
    detail: str
    created_at: dt.datetime


class FlaggedList(BaseModel):
    items: list[FlaggedItem]
