"""The audit log as admins read it."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from core.timeutil import LocalDatetime
from core.types import Id


class AuditQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    actor_id: Id | None = None
    action: str | None = Field(
        None, max_length=48, pattern=r"^[a-z_.]+$", description="exact, or a prefix ending in '.'"
    )
    target: str | None = Field(None, max_length=32, pattern=r"^[a-z_]+$")
    target_id: str | None = Field(None, max_length=64)
    since: LocalDatetime | None = None
    until: LocalDatetime | None = None
    page: int = Field(1, ge=1, le=10_000)
    page_size: int = Field(50, ge=1, le=500)


class AuditOut(BaseModel):
    id: int
    at: LocalDatetime
    actor_id: int | None
    actor: str
    action: str
    target: str
    target_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    request_id: str | None


class AuditPage(BaseModel):
    items: list[AuditOut]
    page: int
    page_size: int
    more: bool = Field(description="whether a next page has entries")
