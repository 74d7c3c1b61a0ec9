"""Auth input and output shapes."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from core.auth.const import Role
from core.timeutil import LocalDatetime
from core.types import Id


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=256)
    client: Literal["web", "grid_app", "hotline"] | None = Field(
        None,
        description="the app this token is for: reports made with it take it as their source "
        "(default: from the role, inspectors grid_app, agents hotline, others web)",
    )


class StaffOut(BaseModel):
    id: int
    username: str
    display_name: str
    roles: list[str]
    department_id: int | None
    phone: str | None = Field(None, description="masked unless the caller is an admin or self")
    is_active: bool


class TokenOut(BaseModel):
    token: str
    token_type: str = "Bearer"  # noqa: S105
    expires_at: LocalDatetime
    staff: StaffOut


class MeOut(BaseModel):
    kind: str
    id: int
    name: str
    roles: list[str]
    department_id: int | None
    grid_ids: list[int]
    channel: str | None = Field(None, description="a citizen's channel (wechat_oa, wechat_mp…)")
    client: str | None = Field(None, description="the client a staff token was issued for")


class StaffCreateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    password: str = Field(min_length=10, max_length=256)
    display_name: str = Field(min_length=1, max_length=64)
    roles: list[Role] = Field(min_length=1)
    department_id: Id | None = None
    phone: str | None = Field(None, max_length=20, pattern=r"^\+?\d{5,19}$")


class StaffList(BaseModel):
    items: list[StaffOut]


class Ok(BaseModel):
    ok: bool = True
