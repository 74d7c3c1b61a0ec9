"""The 小程序's settings (environment) and its section of the city profile."""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from cases import Action
from channels.wechat.const import DEFAULT_API_BASE
from channels.wechat.templates import PURPOSE_FALLBACK, Template
from core.messaging import Purpose


class MPConfig(BaseSettings):
    """CITYLOOP_WECHAT_MP_*: the mini-program's ids, as on its 开发管理 page."""

    model_config = SettingsConfigDict(
        env_prefix="CITYLOOP_WECHAT_MP_", extra="forbid", frozen=True, populate_by_name=True
    )

    app_id: str | None = Field(
        None, max_length=64, description="AppID of the 小程序; unset: the channel is off"
    )
    app_secret: SecretStr | None = Field(None, description="AppSecret of the 小程序")
    api_base: str = Field(
        DEFAULT_API_BASE,
        validation_alias=AliasChoices("CITYLOOP_WECHAT_API_BASE"),
        description="WeChat's API host (shared with the 公众号)",
    )
    api_timeout_s: float = Field(5.0, gt=0, le=60, description="longest wait for one API call")
    token: SecretStr | None = Field(
        None, description="消息推送 Token: signs WeChat's pushes (the async image check's result)"
    )
    content_check: bool = Field(
        False, description="check text (msg_sec_check) and photos (media_check_async) with WeChat"
    )
    reports_per_hour: int = Field(10, ge=1, le=1000, description="reports one citizen may file")
    nearby_radius_m: int = Field(300, ge=10, le=5000, description="largest 'nearby' radius")
    state: Literal["formal", "trial", "developer"] = Field(
        "formal", description="which version of the 小程序 a subscribe message opens"
    )
    public_url: str | None = Field(
        None,
        description="this server as WeChat reaches it (https://…), for photos sent to the "
        "content check; default http://CITYLOOP_HOST:CITYLOOP_PORT",
    )

    @field_validator("api_base", "public_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/") if value else value


class SubscribeTemplate(Template):
    """One subscribe message template: its id, its fields, the page it opens."""

    page: str = Field(
        "pages/report/detail?id={case_id}", max_length=200, description="page to open"
    )
    long_term: bool = Field(False, description="长期订阅 (政务民生 accounts): no one-off quota")

    @field_validator("page")
    @classmethod
    def _page(cls, value: str) -> str:
        if "{" in value.replace("{case_id}", ""):
            raise ValueError("the page may name only {case_id}")
        return value


class MPProfile(BaseModel):
    """[channels.wechat_mp] of the city profile."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    templates: dict[str, SubscribeTemplate] = Field(
        default_factory=dict, description="per move (or 'default'): its subscribe message"
    )
    icons: dict[str, str] = Field(
        default_factory=dict, description="大类 code → the picker's icon key (default: the code)"
    )

    @field_validator("templates")
    @classmethod
    def _moves(cls, value: dict[str, SubscribeTemplate]) -> dict[str, SubscribeTemplate]:
        known = {a.value for a in Action} | {p.value for p in Purpose} | {"default"}
        unknown = sorted(set(value) - known)
        if unknown:
            raise ValueError(f"not a move: {unknown}; use one of {sorted(known)}")
        return value

    def template_for(self, action: str) -> SubscribeTemplate | None:
        """The template of a move, or the default one."""
        return self.templates.get(action) or self.templates.get("default")

    def template_for_purpose(self, purpose: Purpose) -> SubscribeTemplate | None:
        """The template of an invitation (no default: a move's wording would not fit)."""
        fallback = PURPOSE_FALLBACK.get(purpose)
        return self.templates.get(purpose.value) or (
            self.templates.get(fallback.value) if fallback else None
        )

    def template_ids(self) -> set[str]:
        return {t.template_id for t in self.templates.values()}
