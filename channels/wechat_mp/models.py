"""The 小程序's own tables: sessions, subscribe-message quotas, its reports, deliveries."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from channels.wechat_mp.const import Check, Delivered


class Session(Model):
    """A citizen's 小程序 session: the session_key stays here, never in an answer or a log."""

    id = fields.IntField(primary_key=True)
    citizen_id = fields.IntField(unique=True)
    openid = fields.CharField(max_length=64, unique=True)
    session_key = fields.CharField(max_length=128)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "wechat_mp_session"


class Quota(Model):
    """How many subscribe messages of one template a citizen allowed (一次性订阅: one each)."""

    id = fields.IntField(primary_key=True)
    citizen_id = fields.IntField()
    template_id = fields.CharField(max_length=128)
    remaining = fields.IntField(default=0)
    long_term = fields.BooleanField(default=False)  # 长期订阅: allowed until withdrawn
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "wechat_mp_quota"
        unique_together = (("citizen_id", "template_id"),)


class MpReport(Model):
    """A report filed through the 小程序: the rate limit counts these, the content check
    flags them for a person."""

    id = fields.IntField(primary_key=True)
    citizen_id = fields.IntField(db_index=True)
    case_id = fields.IntField(db_index=True)
    number = fields.CharField(max_length=32, null=True)  # the case's, as told to the citizen
    idempotency_key = fields.CharField(max_length=128)
    check = fields.CharEnumField(Check, max_length=16, default=Check.PASS)
    check_detail = fields.CharField(max_length=200, default="")
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)

    class Meta:
        table = "wechat_mp_report"
        unique_together = (("citizen_id", "idempotency_key"),)


class MediaCheck(Model):
    """One photo sent to WeChat's async image check, found again by its trace id."""

    id = fields.IntField(primary_key=True)
    trace_id = fields.CharField(max_length=128, unique=True)
    report_id = fields.IntField(db_index=True)
    suggest = fields.CharField(max_length=16, null=True)  # null until WeChat's push

    class Meta:
        table = "wechat_mp_media_check"


class MpDelivery(Model):
    """What became of one notice to a 小程序 citizen."""

    id = fields.IntField(primary_key=True)
    outbox_id = fields.BigIntField(unique=True)
    case_id = fields.IntField(db_index=True)
    citizen_id = fields.IntField()
    action = fields.CharField(max_length=32)
    status = fields.CharEnumField(Delivered, max_length=16)
    errcode = fields.IntField(null=True)
    detail = fields.CharField(max_length=200, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "wechat_mp_delivery"
