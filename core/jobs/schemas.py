"""Outbox shapes for operators."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from core.jobs.models import OutboxStatus
from core.timeutil import LocalDatetime


class OutboxQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: OutboxStatus | None = OutboxStatus.FAILED
    kind: str | None = Field(None, max_length=64)
    page: int = Field(1, ge=1, le=100_000)
    page_size: int = Field(50, ge=1, le=200)


class OutboxOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    status: OutboxStatus
    attempts: int
    last_error: str | None
    payload: dict[str, Any]
    available_at: LocalDatetime
    created_at: LocalDatetime
    done_at: LocalDatetime | None


class OutboxPage(BaseModel):
    items: list[OutboxOut]
    total: int
