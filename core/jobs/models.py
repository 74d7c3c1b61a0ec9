"""The outbox: every side effect starts as a committed row."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from tortoise import fields
from tortoise.models import Model


class OutboxStatus(StrEnum):
    PENDING = "pending"  # waiting to be run (never run, or failed and waiting for a retry)
    RUNNING = "running"  # claimed by a runner until claimed_until
    DONE = "done"
    FAILED = "failed"  # gave up after the maximum number of attempts


class OutboxItem(Model):
    """One side effect to perform: a job name and its payload."""

    id = fields.BigIntField(primary_key=True)
    kind = fields.CharField(max_length=64)
    payload: fields.Field[dict[str, Any]] = fields.JSONField(default=dict)
    status = fields.CharEnumField(OutboxStatus, max_length=16, default=OutboxStatus.PENDING)
    attempts = fields.IntField(default=0)
    available_at = fields.DatetimeField()
    claimed_until = fields.DatetimeField(null=True)
    last_error = fields.TextField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    done_at = fields.DatetimeField(null=True)
    # Subscriber, event and row (core.jobs.events): a replayed event does not run twice.
    dedupe_key = fields.CharField(max_length=200, null=True, unique=True)

    class Meta:
        table = "outbox"
        indexes = (("status", "available_at"),)
