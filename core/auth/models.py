"""Staff accounts, citizen identities and bearer tokens."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tortoise import fields
from tortoise.models import Model

if TYPE_CHECKING:
    from core.org.models import Department


class Staff(Model):
    """A person of the centre or a department, who logs in with a password."""

    id = fields.IntField(primary_key=True)
    username = fields.CharField(max_length=64, unique=True)
    display_name = fields.CharField(max_length=64)
    password_hash = fields.CharField(max_length=255)
    roles: fields.Field[list[str]] = fields.JSONField(default=list)
    department: fields.ForeignKeyNullableRelation[Department] = fields.ForeignKeyField(
        "core.Department", related_name="staff", null=True, on_delete=fields.SET_NULL
    )
    department_id: int | None
    phone = fields.CharField(max_length=20, null=True)
    is_active = fields.BooleanField(default=True)
    # Set by an administrator's password reset: the one-time password opens only the change.
    must_change_password = fields.BooleanField(default=False, db_default=False)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "staff"


class Citizen(Model):
    """An identity from a channel (e.g. a WeChat openid), optionally with a phone number."""

    id = fields.IntField(primary_key=True)
    channel = fields.CharField(max_length=32)
    external_id = fields.CharField(max_length=128)  # openid, or the caller's number for hotline
    union_id = fields.CharField(max_length=128, null=True, db_index=True)
    phone = fields.CharField(max_length=20, null=True)
    nickname = fields.CharField(max_length=64, null=True)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "citizen"
        unique_together = (("channel", "external_id"),)


class AccessToken(Model):
    """An opaque bearer token, of which only the sha256 is kept."""

    id = fields.IntField(primary_key=True)
    token_hash = fields.CharField(max_length=64, unique=True)
    staff: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "core.Staff", related_name="tokens", null=True, on_delete=fields.CASCADE
    )
    citizen: fields.ForeignKeyNullableRelation[Citizen] = fields.ForeignKeyField(
        "core.Citizen", related_name="tokens", null=True, on_delete=fields.CASCADE
    )
    staff_id: int | None
    citizen_id: int | None
    client = fields.CharField(max_length=16, null=True)  # the app it was issued for
    created_at = fields.DatetimeField(auto_now_add=True)
    expires_at = fields.DatetimeField(db_index=True)
    revoked_at = fields.DatetimeField(null=True)

    class Meta:
        table = "access_token"
        indexes = (("staff_id",),)  # revoke_all
