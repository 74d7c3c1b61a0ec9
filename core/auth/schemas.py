"""Auth input and output shapes."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

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


class GridRef(BaseModel):
    code: str
    primary: bool = Field(description="主责监督员 of this grid")


class StaffOut(BaseModel):
    id: int
    username: str
    display_name: str
    roles: list[str]
    department_id: int | None
    phone: str | None = Field(None, description="masked unless the caller is an admin or self")
    is_active: bool
    must_change_password: bool = Field(
        False, description="a one-time password from a reset: only the change is open"
    )
    grids: list[GridRef] = Field(default_factory=list, description="an inspector's grids")


class TokenOut(BaseModel):
    token: str
    token_type: str = "Bearer"  # noqa: S105
    expires_at: LocalDatetime
    staff: StaffOut
    must_change_password: bool = Field(
        False, description="true: every route but the change of password answers 403 first"
    )


class MeOut(BaseModel):
    kind: str
    id: int
    name: str
    roles: list[str]
    department_id: int | None
    grid_ids: list[int]
    channel: str | None = Field(None, description="a citizen's channel (wechat_oa, wechat_mp…)")
    client: str | None = Field(None, description="the client a staff token was issued for")
    must_change_password: bool = False


USERNAME = r"^[A-Za-z0-9_.-]+$"
PHONE = r"^\+?\d{5,19}$"
GRID_CODE = r"^\d{15}$"


class StaffCreateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=3, max_length=64, pattern=USERNAME)
    password: str | None = Field(
        None,
        min_length=10,
        max_length=256,
        description="omitted: a one-time password is made, shown once, changed at first login",
    )
    display_name: str = Field(min_length=1, max_length=64)
    roles: list[Role] = Field(min_length=1)
    department_id: Id | None = None
    phone: str | None = Field(None, max_length=20, pattern=PHONE)


class StaffCreatedOut(StaffOut):
    one_time_password: str | None = Field(
        None, description="only when none was given: shown this once, never stored in clear"
    )


class StaffUpdateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    display_name: str | None = Field(None, min_length=1, max_length=64)
    roles: list[Role] | None = Field(None, min_length=1)
    department_id: Id | None = Field(None, description="null: no department")
    phone: str | None = Field(None, max_length=20, pattern=PHONE, description="null: none")

    @field_validator("display_name", "roles", mode="before")
    @classmethod
    def _given_not_null(cls, value: object) -> object:
        if value is None:
            raise ValueError("may be left out, not null")
        return value


class OneTimePasswordOut(BaseModel):
    staff: StaffOut
    one_time_password: str = Field(description="shown this once; it opens only the change")


class PasswordChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    old_password: str = Field(min_length=1, max_length=256)
    new_password: str = Field(min_length=1, max_length=256)


class GridsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    grids: list[Annotated[str, Field(pattern=GRID_CODE)]] = Field(max_length=500)
    primary: list[Annotated[str, Field(pattern=GRID_CODE)]] = Field(
        default_factory=list, max_length=500, description="grids where they are 主责监督员"
    )


class StaffList(BaseModel):
    items: list[StaffOut]


class Ok(BaseModel):
    ok: bool = True
