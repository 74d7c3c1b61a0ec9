"""Survey tables: one survey per reporter per closure, its attempts, the link-signing key."""

from __future__ import annotations

from typing import Any

from tortoise import fields
from tortoise.models import Model

from core.auth.models import Citizen, Staff
from survey.const import Review, SurveyStatus


class Survey(Model):
    """One reporter asked about one closure of a case (回访)."""

    id = fields.BigIntField(primary_key=True)
    case_id = fields.BigIntField()
    report_id = fields.BigIntField()
    close_event_id = fields.BigIntField(description="the 结案 timeline row it follows")
    citizen: fields.ForeignKeyRelation[Citizen] = fields.ForeignKeyField(
        "core.Citizen", related_name="surveys", on_delete=fields.CASCADE
    )
    citizen_id: int
    number = fields.CharField(max_length=24, default="")
    # What the figures group by, as the case stood at 结案.
    source = fields.CharField(max_length=16)
    category_code = fields.CharField(max_length=16, null=True)
    category_name = fields.CharField(max_length=64, null=True)
    department_id = fields.IntField(null=True)
    grid_id = fields.IntField(null=True)
    questions_key = fields.CharField(max_length=32, default="default")
    status = fields.CharEnumField(SurveyStatus, max_length=16, default=SurveyStatus.SCHEDULED)
    closed_at = fields.DatetimeField()
    due_at = fields.DatetimeField(db_index=True, description="the next ask")
    via = fields.CharField(max_length=16, null=True, description="the channel that reached them")
    asks = fields.IntField(default=0, description="sends so far, the first one included")
    asked_at = fields.DatetimeField(null=True)
    expires_at = fields.DatetimeField(null=True)
    nonce = fields.CharField(max_length=32, unique=True, description="names the answer link")
    answer = fields.CharField(max_length=16, null=True)
    aspects: fields.Field[dict[str, Any]] = fields.JSONField(default=dict)
    comment = fields.TextField(default="")
    answered_at = fields.DatetimeField(null=True)
    answered_by: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "core.Staff", related_name="survey_answers", null=True, on_delete=fields.SET_NULL
    )
    answered_by_id: int | None
    review = fields.CharEnumField(Review, max_length=16, null=True)
    review_reason = fields.TextField(default="")
    reviewed_by: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "core.Staff", related_name="survey_reviews", null=True, on_delete=fields.SET_NULL
    )
    reviewed_by_id: int | None
    reviewed_at = fields.DatetimeField(null=True)
    reopen_event_id = fields.BigIntField(null=True, description="the 重办 row it led to")
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "survey"
        unique_together = (("report_id", "close_event_id"),)
        indexes = (("case_id",), ("status", "via"), ("review",))


class SurveyAttempt(Model):
    """One try to reach a reporter: a send, a channel that could not, an unanswered call."""

    id = fields.BigIntField(primary_key=True)
    survey: fields.ForeignKeyRelation[Survey] = fields.ForeignKeyField(
        "survey.Survey", related_name="attempts", on_delete=fields.CASCADE
    )
    survey_id: int
    outbox_id = fields.BigIntField(null=True)
    via = fields.CharField(max_length=16)
    reminder = fields.BooleanField(default=False)
    outcome = fields.CharField(max_length=16)
    detail = fields.CharField(max_length=200, default="")
    agent: fields.ForeignKeyNullableRelation[Staff] = fields.ForeignKeyField(
        "core.Staff", related_name="survey_calls", null=True, on_delete=fields.SET_NULL
    )
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "survey_attempt"
        indexes = (("survey_id",),)


class SurveyKey(Model):
    """The key that signs answer links when CITYLOOP_SURVEY_SECRET is not set."""

    name = fields.CharField(max_length=32, primary_key=True)
    value = fields.CharField(max_length=128)
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "survey_key"
