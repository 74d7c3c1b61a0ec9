"""The 公众号's settings (environment) and its section of the city profile (templates)."""

from __future__ import annotations

from typing import Final

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from cases import Action
from channels.wechat.const import DEFAULT_API_BASE
from channels.wechat.templates import PURPOSE_FALLBACK, Template
from core.messaging import Purpose

DEFAULT_TEMPLATE: Final = "default"  # the template of every move that has none of its own


class OAConfig(BaseSettings):
    """CITYLOOP_WECHAT_OA_*: the account's ids and keys, as on its 基本配置 page."""

    model_config = SettingsConfigDict(
        env_prefix="CITYLOOP_WECHAT_OA_", extra="forbid", frozen=True, populate_by_name=True
    )

    app_id: str | None = Field(
        None, max_length=64, description="AppID (开发者ID); unset: the channel is off"
    )
    app_secret: SecretStr | None = Field(None, description="AppSecret (开发者密码)")
    token: SecretStr | None = Field(
        None, description="服务器配置 Token: signs every message WeChat sends us"
    )
    aes_key: SecretStr | None = Field(
        None,
        description="EncodingAESKey, 43 characters: safe mode (安全模式), plaintext refused; "
        "unset: plaintext mode (明文模式)",
    )
    api_base: str = Field(
        DEFAULT_API_BASE,
        validation_alias=AliasChoices("CITYLOOP_WECHAT_API_BASE"),
        description="WeChat's API host (shared with the 小程序); a test or the simulator "
        "points it at a fake",
    )
    public_url: str | None = Field(
        None,
        description="this server's address as citizens' phones reach it (https://…), for the "
        "case page linked from messages; default http://CITYLOOP_HOST:CITYLOOP_PORT",
    )
    api_timeout_s: float = Field(
        5.0, gt=0, le=60, description="longest wait for one call to WeChat's API"
    )
    draft_minutes: int = Field(
        30, ge=1, le=24 * 60, description="a report being put together expires this long idle"
    )
    timestamp_window_s: int = Field(
        300, ge=10, description="a message signed longer ago (or ahead) than this is refused"
    )
    photo_wait_s: int = Field(
        60, ge=1, description="at 确认, how long to wait for photos still being fetched"
    )

    @field_validator("aes_key")
    @classmethod
    def _aes_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) != 43:
            raise ValueError("EncodingAESKey has 43 characters")
        return value

    @field_validator("api_base", "public_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/") if value else value


class OAProfile(BaseModel):
    """[channels.wechat_oa] of the city profile."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    templates: dict[str, Template] = Field(
        default_factory=dict,
        description="per move (register, reject, dispatch, handle, close, reopen…, or "
        "'default'): the template message it is told by; a move without one is told "
        "by a 客服消息 while the 48-hour window is open; 'survey', 'survey_reminder' and "
        "'survey_review': the 回访 invitation, its reminder, the decision on a 不满意",
    )
    welcome: str = Field("", max_length=600, description="extra words for new followers")

    @field_validator("templates")
    @classmethod
    def _moves(cls, value: dict[str, Template]) -> dict[str, Template]:
        known = {a.value for a in Action} | {p.value for p in Purpose} | {DEFAULT_TEMPLATE}
        unknown = sorted(set(value) - known)
        if unknown:
            raise ValueError(f"not a move: {unknown}; use one of {sorted(known)}")
        return value

    def template_for(self, action: str) -> Template | None:
        """The template of a move, or the default one."""
        return self.templates.get(action) or self.templates.get(DEFAULT_TEMPLATE)

    def template_for_purpose(self, purpose: Purpose) -> Template | None:
        """The template of an invitation (no default: a move's wording would not fit)."""
        fallback = PURPOSE_FALLBACK.get(purpose)
        return self.templates.get(purpose.value) or (
            self.templates.get(fallback.value) if fallback else None
        )
