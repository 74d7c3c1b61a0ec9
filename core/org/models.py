"""Departments, grids and which inspector covers which grid."""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from core.auth.models import Staff


class DepartmentKind(StrEnum):
    """Levels of the organisation tree."""

    DISTRICT = "district"  # 区
    STREET = "street"  # 街道 / 镇
    COMMUNITY = "community"  # 社区 / 村
    DEPARTMENT = "department"  # 专业部门 (环卫, 市政, …)
    UNIT = "unit"  # 作业单位 under a department


class Department(Model):
    """A node of the tree district → street → community, or a department/unit."""

    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=32, unique=True)
    name = fields.CharField(max_length=64)
    kind = fields.CharEnumField(DepartmentKind, max_length=16)
    parent: fields.ForeignKeyNullableRelation[Department] = fields.ForeignKeyField(
        "core.Department", related_name="children", null=True, on_delete=fields.RESTRICT
    )
    parent_id: int | None
    contact_name = fields.CharField(max_length=32, null=True)
    contact_phone = fields.CharField(max_length=20, null=True)  # the office's, not a person's
    # A retired department keeps its history and gets no new cases.
    retired_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "department"


class Grid(Model):
    """A 单元网格: a polygon with a 15-digit code (GB/T 47678.3), in a street and community."""

    id = fields.IntField(primary_key=True)
    code = fields.CharField(max_length=15, unique=True)
    name = fields.CharField(max_length=64)
    street: fields.ForeignKeyRelation[Department] = fields.ForeignKeyField(
        "core.Department", related_name="street_grids", on_delete=fields.RESTRICT
    )
    community: fields.ForeignKeyNullableRelation[Department] = fields.ForeignKeyField(
        "core.Department", related_name="community_grids", null=True, on_delete=fields.RESTRICT
    )
    street_id: int
    community_id: int | None
    # GeoJSON geometry in WGS-84; the spatial index is built in memory from these.
    geometry: fields.Field[dict[str, Any]] = fields.JSONField()
    # A grid a re-import left out: it keeps its cases and gets no new ones (no point falls in it).
    retired_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "grid"


class GridAssignment(Model):
    """An inspector (监督员) covers a grid."""

    id = fields.IntField(primary_key=True)
    staff: fields.ForeignKeyRelation[Staff] = fields.ForeignKeyField(
        "core.Staff", related_name="grid_assignments", on_delete=fields.CASCADE
    )
    grid: fields.ForeignKeyRelation[Grid] = fields.ForeignKeyField(
        "core.Grid", related_name="assignments", on_delete=fields.CASCADE
    )

    staff_id: int
    grid_id: int
    # The grid's 主责监督员: new tasks of the grid go to them first (one per grid).
    is_primary = fields.BooleanField(default=False, db_default=False)

    class Meta:
        table = "grid_assignment"
        unique_together = (("staff", "grid"),)
        indexes = (("grid_id",),)  # the grid's inspector, for each new task
