"""The key-value table of the embedded default (Redis takes its place in production)."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model


class KeyValueItem(Model):
    """One short-lived value (an access token, a conversation draft) with its expiry."""

    key = fields.CharField(max_length=200, primary_key=True)
    value = fields.TextField()
    expires_at = fields.DatetimeField(null=True, db_index=True)  # null: until deleted

    class Meta:
        table = "kv_item"
