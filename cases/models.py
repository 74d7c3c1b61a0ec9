"""Cases, the reports merged into them, their timeline, attachments, inspector tasks, rules."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tortoise import fields
from tortoise.models import Model

from cases.const import AttachmentKind, CaseStatus, Source, Stage, TaskKind, TaskStatus, Urgency

if TYPE_CHECKING:
    from core.auth.models import Citizen, Staff
    from core.media.models import MediaObject
    from core.org.models import Department, Grid


class Case(Model):
    """One problem, from report to closure (案件)."""

    id = fields.BigIntField(primary_key=True)
    number = fields.CharField(max_length=24, null=True, unique=True)
    source = fields.CharEnumField(Source, max_length=16)
    status = fields.CharEnumField(CaseStatus, max_length=16, default=CaseStatus.REPORTED)
    version = fields.IntField(default=0)  # optimistic lock: every write bumps it
    category_code = fields.CharField(max_length=16, null=True, db_index=True)
    category_name = fields.CharField(max_length=64, null=True)
    urgency = fields.CharEnumField(Urgency, max_length=1, default=Urgency.B)
    description = fields.TextField(default="")
    address = fields.CharField(max_length=200, default="")
    lon = fields.FloatField(null=True)  # WGS-84
    lat = fields.FloatField(null=True)
    grid_id: int | None
    street_id: int | None
    department_id: int | None
    grid: fields.ForeignKeyNullableRelation[Grid] = fields.ForeignKeyField(
        "core.Grid", related_name="cases", null=True, on_delete=fields.RESTRICT
    )
    street: fields.ForeignKeyNullableRelation[Department] = fields.ForeignKeyField(
        "core.Department", related_name="street_cases", null=True, on_delete=fields.RESTRICT
    )
    department: fields.ForeignKeyNullableRelation[Department] = fields.ForeignKeyField(
        "core.Department", related_name="cases", null=True, on_delete=fields.RESTRICT
    )
    # The running stage clock (cases/sla.py): limit and consumption in seconds of its unit.
    stage = fields.CharEnumField(Stage, max_length=16, null=True)
    stage_unit = fields.CharField(max_length=16, null=True)
    stage_limit_s = fields.IntField(null=True)
    stage_used_s = fields.IntField(default=0)  # consumed before the clock last (re)started
    stage_started_at = fields.DatetimeField(null=True)  # null: the clock is stopped
    deadline_at = fields.DatetimeField(null=True, db_index=True)
    warn_at = fields.DatetimeField(null=True)  # the light turns yellow here
    overdue = fields.BooleanField(default=False)
    urge_count = fields.IntField(default=0)
    reopen_count = fields.IntField(default=0)
    report_count = fields.IntField(default=1)
    pending_request: fields.Field[dict[str, Any] | None] = fields.JSONField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)
    updated_at = fields.DatetimeField(auto_now=True)
    registered_at = fields.DatetimeField(null=True)
    dispatched_at = fields.DatetimeField(null=True)
    handled_at = fields.DatetimeField(null=True)
    closed_at = fields.DatetimeField(null=True)

    class Meta:
        table = "case"
        indexes = (
            ("status", "category_code", "created_at"),
            ("category_code", "lat", "lon"),  # the duplicate check looks in a small box
        )


class Report(Model):
    """What a channel submitted: the first report of a case, or a duplicate merged into it."""

    id = fields.BigIntField(primary_key=True)
    case: fields.ForeignKeyRelation[Case] = fields.ForeignKeyField(
        "cases.Case", related_name="reports", on_delete=fields.CASCADE
    )
    case_id: int
    citizen_id: int | None
    staff_id: int | None
    source = fields.CharEnumField(Source, max_length=16)
    idempotency_key = fields.CharField(max_length=128)
    citizen: fields.ForeignKeyNullableRelation[Citizen] = fields.ForeignKeyField(
        "core.Citizen", related_name="reports", null=True, on_delete=fields.SET_NULL
    )
    staff: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "core.Staff", related_name="reports", null=True, on_delete=fields.SET_NULL
    )
    description = fields.TextField(default="")
    address = fields.CharField(max_length=200, default="")
    lon = fields.FloatField(null=True)
    lat = fields.FloatField(null=True)
    crs = fields.CharField(max_length=16, default="wgs84")  # as it came in
    occurred_at = fields.DatetimeField(null=True)
    duplicate = fields.BooleanField(default=False)
    no_callback = fields.BooleanField(default=False, db_default=False)  # 不需要回访
    extras: fields.Field[dict[str, Any]] = fields.JSONField(default=dict)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "case_report"
        unique_together = (("source", "idempotency_key"),)
        indexes = (("case_id",), ("citizen_id",))


class CaseEvent(Model):
    """One row of the timeline: who did what, when, from which status to which."""

    id = fields.BigIntField(primary_key=True)
    case: fields.ForeignKeyRelation[Case] = fields.ForeignKeyField(
        "cases.Case", related_name="events", on_delete=fields.CASCADE
    )
    case_id: int
    actor_id: int | None
    action = fields.CharField(max_length=32)
    from_status = fields.CharField(max_length=16, null=True)
    to_status = fields.CharField(max_length=16)
    actor: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "core.Staff", related_name="case_events", null=True, on_delete=fields.SET_NULL
    )
    actor_kind = fields.CharField(max_length=16)  # staff, citizen, system
    note = fields.TextField(default="")
    data: fields.Field[dict[str, Any]] = fields.JSONField(default=dict)
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)

    class Meta:
        table = "case_event"
        indexes = (("case_id", "created_at"),)


class CaseAttachment(Model):
    """A photo attached to a case at some step."""

    id = fields.BigIntField(primary_key=True)
    case: fields.ForeignKeyRelation[Case] = fields.ForeignKeyField(
        "cases.Case", related_name="attachments", on_delete=fields.CASCADE
    )
    media: fields.ForeignKeyRelation[MediaObject] = fields.ForeignKeyField(
        "core.MediaObject", related_name="case_links", on_delete=fields.RESTRICT
    )
    case_id: int
    media_id: int
    event_id: int | None
    kind = fields.CharEnumField(AttachmentKind, max_length=16)
    event: fields.ForeignKeyNullableRelation[CaseEvent] = fields.ForeignKeyField(
        "cases.CaseEvent", related_name="attachments", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "case_attachment"
        indexes = (("case_id",),)


class InspectorTask(Model):
    """A 核实 or 核查 task for the grid's inspector, with its own deadline."""

    id = fields.BigIntField(primary_key=True)
    case: fields.ForeignKeyRelation[Case] = fields.ForeignKeyField(
        "cases.Case", related_name="tasks", on_delete=fields.CASCADE
    )
    case_id: int
    grid_id: int | None
    inspector_id: int | None
    kind = fields.CharEnumField(TaskKind, max_length=8)
    status = fields.CharEnumField(TaskStatus, max_length=16, default=TaskStatus.OPEN)
    grid: fields.ForeignKeyNullableRelation[Grid] = fields.ForeignKeyField(
        "core.Grid", related_name="tasks", null=True, on_delete=fields.SET_NULL
    )
    inspector: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "core.Staff", related_name="tasks", null=True, on_delete=fields.SET_NULL
    )
    deadline_at = fields.DatetimeField()
    passed = fields.BooleanField(null=True)  # 核实: the problem is real; 核查: the fix holds
    note = fields.TextField(default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    done_at = fields.DatetimeField(null=True)

    class Meta:
        table = "inspector_task"
        indexes = (("inspector_id", "status"), ("case_id", "kind"), ("grid_id", "status"))


class DispatchRule(Model):
    """Category × area → department, the most specific area winning (grid, street, district)."""

    id = fields.IntField(primary_key=True)
    grid_id: int | None
    area_id: int | None
    department_id: int
    category_code = fields.CharField(max_length=16)
    grid: fields.ForeignKeyNullableRelation[Grid] = fields.ForeignKeyField(
        "core.Grid", related_name="dispatch_rules", null=True, on_delete=fields.CASCADE
    )
    area: fields.ForeignKeyNullableRelation[Department] = fields.ForeignKeyField(
        "core.Department", related_name="area_rules", null=True, on_delete=fields.CASCADE
    )
    department: fields.ForeignKeyRelation[Department] = fields.ForeignKeyField(
        "core.Department", related_name="dispatch_rules", on_delete=fields.CASCADE
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        # One rule per category and area is enforced in cases/dispatch.py: tortoise 1.1 emits a
        # UNIQUE over foreign-key columns before it creates them, which SQLite refuses.
        table = "dispatch_rule"


class CategoryRule(Model):
    """The live rules of one category, as cases/rules/service.py keeps them.

    The profile seeds an empty table, the API edits it, every process reads it again within
    RulesCache.TTL_S. A table comment holds the first line: no semicolon there (SQLite).
    """

    code = fields.CharField(max_length=16, primary_key=True)
    rules: fields.Field[dict[str, Any]] = fields.JSONField()  # a CategoryPolicy, as JSON
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "category_rule"
