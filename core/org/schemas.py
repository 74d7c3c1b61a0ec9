"""Organisation input and output shapes."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from core.geo import CoordSystem


class DepartmentNode(BaseModel):
    id: int
    code: str
    name: str
    kind: str
    parent_id: int | None
    children: list[DepartmentNode]


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
