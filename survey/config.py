"""The survey's settings (environment) and its section of the city profile ([survey])."""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_HHMM = re.compile(r"([01]\d|2[0-3]):[0-5]\d")


class SurveyConfig(BaseSettings):
    """CITYLOOP_SURVEY_*: where answer links point, how they are signed, the SMS provider."""

    model_config = SettingsConfigDict(env_prefix="CITYLOOP_SURVEY_", extra="forbid", frozen=True)

    public_url: str | None = Field(
        None,
        description="this server's address as citizens' phones reach it (https://…), for the "
        "answer links; default http://CITYLOOP_HOST:CITYLOOP_PORT",
    )
    secret: SecretStr | None = Field(
        None,
        description="signs the answer links (32+ characters); unset: a random key is made "
        "once and kept in the database (table survey_key)",
    )
    sms_provider: str = Field(
        "survey.sms:LoggingSms",
        description="'module:attribute' of the SmsProvider: the default only logs (masked); "
        "survey.sms:HttpSms posts to CITYLOOP_SURVEY_SMS_URL",
    )
    sms_url: str | None = Field(None, description="the HTTP SMS gateway of survey.sms:HttpSms")
    sms_token: SecretStr | None = Field(None, description="its bearer token")
    mp_page: str = Field(
        "pages/survey/index?t={token}",
        description="the 小程序 page that shows a survey ({token}: the answer token)",
    )

    @field_validator("public_url", "sms_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/") if value else value

    @field_validator("secret")
    @classmethod
    def _long(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("use at least 32 characters")
        return value


class Questions(BaseModel):
    """One survey's wording: the overall question, optional aspects, a free text box."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    title: str = Field("满意度回访", min_length=1, max_length=20)
    intro: str = Field(
        "您反映的问题（案件编号 {number}）已办结，请您对办理情况进行评价。",
        max_length=200,
        description="the opening words; {number} is the case number",
    )
    question: str = Field("您对本次问题的办理结果是否满意？", min_length=1, max_length=100)
    aspects: tuple[str, ...] = Field(
        ("响应速度", "处置结果", "服务态度"),
        max_length=6,
        description="aspects rated 满意 / 基本满意 / 不满意 too (optional for the citizen)",
    )
    comment: bool = Field(True, description="offer a free text box")

    @field_validator("intro")
    @classmethod
    def _intro(cls, value: str) -> str:
        try:
            value.format(number="")
        except (KeyError, IndexError, ValueError) as err:
            raise ValueError("may name only {number}") from err
        return value

    @field_validator("aspects")
    @classmethod
    def _aspects(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(value)) != len(value) or any(not 1 <= len(a) <= 10 for a in value):
            raise ValueError("aspects are distinct, 1 to 10 characters each")
        return value


class SurveyProfile(BaseModel):
    """[survey] of the city profile: when and how often to ask, and what."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    after_workdays: int = Field(
        1, ge=0, le=10, description="ask this many working days after 结案 (0: the same day)"
    )
    ask_at: str = Field("09:00", description="local time of day of the first ask (HH:MM)")
    reminders: int = Field(2, ge=0, le=5, description="reminders at most, if no answer")
    reminder_gap_hours: float = Field(
        24, ge=2, le=24 * 7, description="at least this long between two asks"
    )
    expire_days: float = Field(
        7, gt=0, le=60, description="no answer this long after the first ask: 未回访"
    )
    quiet_hours: tuple[str, str] = Field(
        ("21:00", "08:00"), description="nothing is sent between these local times"
    )
    by_phone: Literal["callback", "sms"] = Field(
        "callback",
        description="a reporter reachable only by phone: an agent's callback task, or an SMS",
    )
    callback_attempts: int = Field(
        3, ge=1, le=10, description="an agent's unanswered calls before the survey is 未回访"
    )
    questions: dict[str, Questions] = Field(
        default_factory=lambda: {"default": Questions()},
        description="'default', or per category code or source (wechat_oa, hotline…): the "
        "wording; a category's wins over its source's",
    )

    @field_validator("ask_at")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        if not _HHMM.fullmatch(value):
            raise ValueError("use HH:MM (24-hour)")
        return value

    @field_validator("quiet_hours")
    @classmethod
    def _quiet(cls, value: tuple[str, str]) -> tuple[str, str]:
        if not all(_HHMM.fullmatch(v) for v in value):
            raise ValueError("use two HH:MM times, from and until")
        return value

    @model_validator(mode="after")
    def _sensible(self) -> SurveyProfile:
        if "default" not in self.questions:
            raise ValueError("questions: a 'default' entry is needed")
        if self.quiet(self.ask_time()):
            raise ValueError(f"ask_at {self.ask_at} falls in the quiet hours")
        return self

    def ask_time(self) -> dt.time:
        """The first ask's local time of day."""
        return dt.time.fromisoformat(self.ask_at)

    def quiet(self, at: dt.time) -> bool:
        """Whether this local time of day is in the quiet hours."""
        start, end = (dt.time.fromisoformat(v) for v in self.quiet_hours)
        if start <= end:
            return start <= at < end
        return at >= start or at < end  # across midnight (the usual case)

    def wording(self, key: str) -> Questions:
        """The wording a survey was made with (the default, if the profile dropped it since)."""
        return self.questions.get(key) or self.questions["default"]

    def questions_for(self, *, category_code: str | None, source: str) -> tuple[str, Questions]:
        """The wording for a case: its category's, else its source's, else the default."""
        for key in (category_code, source):
            if key and key in self.questions:
                return key, self.questions[key]
        return "default", self.questions["default"]
