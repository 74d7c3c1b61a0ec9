"""One row per audited change or sensitive read."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model


class AuditEntry(Model):
    """Who did what to which record, with the record before and after (never a password)."""

    id = fields.BigIntField(primary_key=True)
    at = fields.DatetimeField(auto_now_add=True, db_index=True)
    actor_id = fields.IntField(null=True, db_index=True)  # the staff member; None: the CLI
    actor = fields.CharField(max_length=64)  # their username, or cli:<os user>
    action = fields.CharField(max_length=48, db_index=True)  # e.g. staff.update, cases.export
    target = fields.CharField(max_length=32)  # department, staff, grid_assignment, cases, …
    target_id = fields.CharField(max_length=64, null=True)
    before: fields.Field[dict[str, Any] | None] = fields.JSONField(null=True)
    after: fields.Field[dict[str, Any] | None] = fields.JSONField(null=True)
    request_id = fields.CharField(max_length=64, null=True)

    class Meta:
        table = "audit_entry"
        indexes = (("target", "target_id"),)
