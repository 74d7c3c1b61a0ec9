"""Organisation input and output shapes."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from core.geo import CoordSystem
from core.org.models import DepartmentKind
from core.types import Id


class DepartmentNode(BaseModel):
    id: int
    code: str
    name: str
    kind: str
    parent_id: int | None
    contact_name: str | None = None
    contact_phone: str | None = None
    retired: bool = Field(False, description="撤销: keeps its history, gets no new cases")
    children: list[DepartmentNode]


class DepartmentOut(BaseModel):
    id: int
    code: str
    name: str
    kind: str
    parent_id: int | None
    contact_name: str | None
    contact_phone: str | None
    retired: bool


DEPARTMENT_CODE = r"^[0-9A-Za-z_.-]{1,32}$"


class DepartmentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=DEPARTMENT_CODE, description="never changes (the profile names it)")
    name: str = Field(min_length=1, max_length=64)
    kind: DepartmentKind
    parent_id: Id | None = None
    contact_name: str | None = Field(None, max_length=32)
    contact_phone: str | None = Field(None, max_length=20, pattern=r"^[\d+\-]{3,20}$")


class DepartmentUpdateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    @field_validator("name", mode="before")
    @classmethod
    def _given_not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may be left out, not null")
        return value

    name: str | None = Field(None, min_length=1, max_length=64)
    parent_id: Id | None = Field(None, description="null: a root of the tree")
    contact_name: str | None = Field(None, max_length=32)
    contact_phone: str | None = Field(None, max_length=20, pattern=r"^[\d+\-]{3,20}$")


class DepartmentTree(BaseModel):
    items: list[DepartmentNode]


class LocateQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    crs: CoordSystem = CoordSystem.WGS84


class LocateOut(BaseModel):
    inside: bool
    message: str
    lon: float = Field(description="WGS-84")
    lat: float = Field(description="WGS-84")
    grid_id: int | None
    grid_code: str | None
    street_id: int | None
    community_id: int | None


class GridCollection(BaseModel):
    type: str = "FeatureCollection"
    features: list[dict[str, Any]]
