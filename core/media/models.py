"""Uploaded photos: the original kept for evidence, a public copy and a thumbnail."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from core.auth.models import Citizen, Staff


class MediaObject(Model):
    """One upload of an image by one person (files are shared by the sha256 of the original)."""

    id = fields.IntField(primary_key=True)
    sha256 = fields.CharField(max_length=64, db_index=True)
    # The public copy and thumbnail are served under this random name, never under the sha256
    # (which anyone holding the photo can compute) nor the sequential id.
    public_token = fields.CharField(max_length=32, unique=True)
    mime = fields.CharField(max_length=32)
    ext = fields.CharField(max_length=8)
    public_ext = fields.CharField(max_length=8)  # jpg, or png where the photo has transparency
    size = fields.IntField()
    width = fields.IntField()
    height = fields.IntField()
    # EXIF evidence: where and when the photo says it was taken (WGS-84 as phones record it).
    gps_lon = fields.FloatField(null=True)
    gps_lat = fields.FloatField(null=True)
    taken_at = fields.DatetimeField(null=True)
    uploaded_by_staff: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "core.Staff", related_name="uploads", null=True, on_delete=fields.SET_NULL
    )
    uploaded_by_citizen: fields.ForeignKeyNullableRelation[Citizen] = fields.ForeignKeyField(
        "core.Citizen", related_name="uploads", null=True, on_delete=fields.SET_NULL
    )
    uploaded_by_staff_id: int | None
    uploaded_by_citizen_id: int | None
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "media_object"
