"""The survey's API in and out."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from core.timeutil import LocalDatetime
from core.types import Id, Text
from survey.const import Answer, Review, SurveyStatus

MAX_COMMENT = 500


class AnswerIn(BaseModel):
    """A reporter's answer (the page's form, the 小程序's JSON, or an agent on the phone)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    answer: Answer = Field(description="满意 satisfied / 基本满意 basic / 不满意 unsatisfied")
    aspects: dict[str, Answer] = Field(
        default_factory=dict, description="aspect (as the survey names it) → its grade"
    )
    comment: Text = Field("", max_length=MAX_COMMENT)


class CallIn(BaseModel):
    """An agent's callback: nobody answered, or what the reporter said."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reached: bool = Field(description="false: nobody answered (未接通)")
    answer: AnswerIn | None = Field(None, description="what they said, when reached")
    note: Text = Field("", max_length=200)

    @model_validator(mode="after")
    def _answer_when_reached(self) -> CallIn:
        if self.reached != (self.answer is not None):
            raise ValueError("an answer goes with reached=true, and only with it")
        return self


class ReviewIn(BaseModel):
    """The shift lead's decision on a 不满意."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    justified: bool = Field(description="true: 重办 (the case goes back to its department)")
    reason: Text = Field(min_length=2, max_length=300, description="shown to the reporter")


class Option(BaseModel):
    value: Answer
    name: str


class SurveyForm(BaseModel):
    """A survey as its reporter sees it (the 小程序's page, or the JSON of the link)."""

    number: str
    status: SurveyStatus
    status_name: str
    title: str
    intro: str
    question: str
    aspects: list[str]
    comment: bool
    options: list[Option]
    answer: Answer | None = None
    answer_name: str | None = None
    review: Review | None = Field(None, description="the centre's decision on a 不满意")
    review_reason: str | None = None


class SurveyOut(BaseModel):
    """One survey as staff see it."""

    id: int
    case_id: int
    number: str
    status: SurveyStatus
    status_name: str
    source: str
    via: str | None
    asks: int
    phone: str | None = Field(description="masked unless the caller calls reporters back")
    department_id: int | None
    category_code: str | None
    closed_at: LocalDatetime
    due_at: LocalDatetime
    asked_at: LocalDatetime | None
    expires_at: LocalDatetime | None
    answer: Answer | None
    aspects: dict[str, Answer]
    comment: str
    answered_at: LocalDatetime | None
    review: Review | None
    review_reason: str
    reopened: bool = Field(description="a justified 不满意 sent the case back (重办)")


class AttemptOut(BaseModel):
    """One try to reach the reporter."""

    via: str
    reminder: bool
    outcome: str = Field(description="sent, unreachable; for calls no_answer or answered")
    detail: str
    at: LocalDatetime


class SurveyDetail(SurveyOut):
    """One survey with every try to reach its reporter (the audit trail)."""

    attempts: list[AttemptOut]


class SurveyQuery(BaseModel):
    """Filters of the survey lists."""

    model_config = ConfigDict(extra="forbid")

    status: SurveyStatus | None = None
    review: Review | None = None
    via: str | None = Field(None, max_length=16)
    case_id: Id | None = None
    page: int = Field(1, ge=1, le=10_000)
    page_size: int = Field(50, ge=1, le=200)


class SurveyPage(BaseModel):
    items: list[SurveyOut]
    total: int


Group = Literal["department", "category", "grid", "source", "month", "day"]


class FigureQuery(BaseModel):
    """Which surveys the figures count (by closure time) and how they are grouped."""

    model_config = ConfigDict(extra="forbid")

    by: Group = "department"
    since: dt.date | None = Field(None, description="closed on or after (local date)")
    until: dt.date | None = Field(None, description="closed before (local date)")
    format: Literal["json", "csv", "xlsx"] = "json"


class FigureRow(BaseModel):
    """One group's figures, computed from the survey rows and the timeline."""

    key: str
    name: str
    due: int = Field(description="应回访: asked or past asking (not voided, not waiting)")
    answered: int = Field(description="已回访")
    pending: int = Field(description="回访中: asked, no answer yet")
    missed: int = Field(description="未回访: expired or unreachable (never counted 满意)")
    satisfied: int
    basic: int
    unsatisfied: int
    reopened: int = Field(description="重办: justified 不满意 that reopened the case")
    callback_rate: float | None = Field(description="回访率 = 已回访 / (已回访 + 未回访)")
    satisfaction_rate: float | None = Field(description="满意率 = (满意 + 基本满意) / 已回访")
    reopen_rate: float | None = Field(description="重办率 = 重办 / 已回访")


class FigureTable(BaseModel):
    by: Group
    rows: list[FigureRow]
    total: FigureRow
