"""The field app's tables: duty shifts, GPS tracks, the ledger of synced items, phones, and
the per-person feed of push messages (what an event stream resumes from)."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

from core.auth.models import Staff


class DutyShift(Model):
    """上岗 to 下岗 of one inspector: where and when each end was."""

    id = fields.BigIntField(primary_key=True)
    staff: fields.ForeignKeyRelation[Staff] = fields.ForeignKeyField(
        "core.Staff", related_name="duty_shifts", on_delete=fields.CASCADE
    )
    staff_id: int
    started_at = fields.DatetimeField()
    start_lon = fields.FloatField(null=True, description="WGS-84")
    start_lat = fields.FloatField(null=True, description="WGS-84")
    ended_at = fields.DatetimeField(null=True, description="null: on duty")
    end_lon = fields.FloatField(null=True)
    end_lat = fields.FloatField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "field_duty_shift"
        indexes = (("staff_id", "ended_at"),)


class TrackPoint(Model):
    """One GPS fix of a phone on duty, as it sent it (kept for audit, never dropped)."""

    id = fields.BigIntField(primary_key=True)
    staff: fields.ForeignKeyRelation[Staff] = fields.ForeignKeyField(
        "core.Staff", related_name="track_points", on_delete=fields.CASCADE
    )
    staff_id: int
    at = fields.DatetimeField(description="when the phone took the fix")
    lon = fields.FloatField(description="WGS-84")
    lat = fields.FloatField(description="WGS-84")
    accuracy_m = fields.FloatField(null=True, description="the phone's own estimate")
    speed_mps = fields.FloatField(null=True)
    received_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "field_track_point"
        # One fix per instant and phone: a re-sent batch adds nothing (and the day's track
        # is read by this index, in time order).
        unique_together = (("staff", "at"),)


class SyncItem(Model):
    """An item of a sync batch that was done, by its client UUID: a replay gets this answer."""

    id = fields.BigIntField(primary_key=True)
    staff: fields.ForeignKeyRelation[Staff] = fields.ForeignKeyField(
        "core.Staff", related_name="sync_items", on_delete=fields.CASCADE
    )
    staff_id: int
    client_id = fields.CharField(max_length=36, description="the phone's UUID of the item")
    kind = fields.CharField(max_length=16)
    answer: fields.Field[dict[str, Any]] = fields.JSONField(description="what the phone was told")
    case_id = fields.BigIntField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "field_sync_item"
        unique_together = (("staff", "client_id"),)


class Device(Model):
    """A phone of a staff member: how pushes reach it besides its event stream."""

    id = fields.BigIntField(primary_key=True)
    staff: fields.ForeignKeyRelation[Staff] = fields.ForeignKeyField(
        "core.Staff", related_name="devices", on_delete=fields.CASCADE
    )
    staff_id: int
    device_id = fields.CharField(max_length=64, description="the app's install id")
    platform = fields.CharField(max_length=16)
    name = fields.CharField(max_length=64, default="")
    transport = fields.CharField(max_length=32, default="sse")
    push_token = fields.CharField(max_length=255, null=True, description="the vendor's token")
    last_seen_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "field_device"
        unique_together = (("staff", "device_id"),)


class PushMessage(Model):
    """One message for one staff member (its id is the event id of the stream)."""

    id = fields.BigIntField(primary_key=True)
    staff: fields.ForeignKeyRelation[Staff] = fields.ForeignKeyField(
        "core.Staff", related_name="push_messages", on_delete=fields.CASCADE
    )
    staff_id: int
    key = fields.CharField(max_length=64, unique=True, description="the notice it came from")
    kind = fields.CharField(max_length=16, description="task, dispatch, rework, urge, …")
    case_id = fields.BigIntField(null=True)
    task_id = fields.BigIntField(null=True)
    title = fields.CharField(max_length=32)
    text = fields.CharField(max_length=300)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "field_push_message"
        indexes = (("staff_id", "id"),)
