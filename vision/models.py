"""Vision tables: the camera registry with its health, the problems cameras saw (and what
became of each: a case, the review queue, a duplicate), and the 智能核查 watches."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

from core.auth.models import Staff
from vision.const import CameraHealth, CheckStatus, EventStatus


class Camera(Model):
    """One camera as declared (`spec`, a CameraIn) and as its reader last found it."""

    id = fields.BigIntField(primary_key=True)
    code = fields.CharField(max_length=32, unique=True)
    name = fields.CharField(max_length=64)
    enabled = fields.BooleanField(default=True, db_index=True)
    spec: fields.Field[dict[str, Any]] = fields.JSONField(description="the CameraIn declared")
    lon = fields.FloatField(description="WGS84")
    lat = fields.FloatField(description="WGS84")
    grid_id = fields.IntField(null=True, description="the 单元网格 it stands in")
    health = fields.CharEnumField(CameraHealth, max_length=16, default=CameraHealth.UNKNOWN)
    health_detail = fields.CharField(max_length=200, default="")
    last_frame_at = fields.DatetimeField(null=True)
    checked_at = fields.DatetimeField(null=True, description="when a reader last reported")
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "vision_camera"


class VisionEvent(Model):
    """A rule that fired on a camera: the evidence, and what became of it."""

    id = fields.BigIntField(primary_key=True)
    camera: fields.ForeignKeyRelation[Camera] = fields.ForeignKeyField(
        "vision.Camera", related_name="events", on_delete=fields.CASCADE
    )
    camera_id: int
    zone = fields.CharField(max_length=40)
    rule_index = fields.IntField()
    category_code = fields.CharField(max_length=16)
    urgency = fields.CharField(max_length=1, null=True)
    label = fields.CharField(max_length=64)
    score = fields.FloatField(description="the median score over the samples")
    box: fields.Field[list[float]] = fields.JSONField(description="x1, y1, x2, y2 in pixels")
    since_at = fields.DatetimeField(description="first seen standing in the zone")
    fired_at = fields.DatetimeField(db_index=True)
    status = fields.CharEnumField(EventStatus, max_length=16)
    evidence_id = fields.BigIntField(null=True, description="media: the annotated picture")
    frame_id = fields.BigIntField(null=True, description="media: the clean frame")
    case_id = fields.BigIntField(null=True)
    merged = fields.BooleanField(default=False, description="joined a case that was open")
    reviewed_by: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "core.Staff", related_name="vision_reviews", null=True, on_delete=fields.SET_NULL
    )
    reviewed_by_id: int | None
    reviewed_at = fields.DatetimeField(null=True)
    review_note = fields.CharField(max_length=200, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "vision_event"
        indexes = (("camera_id", "zone", "category_code", "status"), ("status",), ("case_id",))


class VisionCheck(Model):
    """智能核查 of one 处置: the camera watches the zone again until it decides."""

    id = fields.BigIntField(primary_key=True)
    case_id = fields.BigIntField()
    handle_event_id = fields.BigIntField(unique=True, description="the 处置 row it follows")
    event: fields.ForeignKeyRelation[VisionEvent] = fields.ForeignKeyField(
        "vision.VisionEvent", related_name="checks", on_delete=fields.CASCADE
    )
    event_id: int
    camera: fields.ForeignKeyRelation[Camera] = fields.ForeignKeyField(
        "vision.Camera", related_name="checks", on_delete=fields.CASCADE
    )
    camera_id: int
    status = fields.CharEnumField(CheckStatus, max_length=16, default=CheckStatus.WATCHING)
    samples = fields.IntField(default=0)
    evidence_id = fields.BigIntField(null=True, description="media: the deciding picture")
    detail = fields.CharField(max_length=200, default="")
    created_at = fields.DatetimeField(auto_now_add=True)
    done_at = fields.DatetimeField(null=True)

    class Meta:
        table = "vision_check"
        indexes = (("status", "camera_id"), ("case_id",))
