"""The 公众号's own tables: followers, inbound messages, drafts of reports, deliveries."""

from __future__ import annotations

from tortoise import fields
from tortoise.models import Model

from channels.wechat_oa.const import DeliveryStatus, DraftStatus, PhotoState


class Follower(Model):
    """An openid of the account and the citizen behind it."""

    id = fields.IntField(primary_key=True)
    openid = fields.CharField(max_length=64, unique=True)
    citizen_id = fields.IntField()  # core.Citizen (channel wechat_oa, external_id = openid)
    subscribed = fields.BooleanField(default=True)
    # The last message from the citizen opens a 48-hour window for 客服消息.
    last_inbound_at = fields.DatetimeField(null=True)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)

    class Meta:
        table = "wechat_oa_follower"


class Draft(Model):
    """A report being put together in the chat: one open draft per openid at a time."""

    id = fields.IntField(primary_key=True)
    openid = fields.CharField(max_length=64, db_index=True)
    citizen_id = fields.IntField()
    # The openid while the draft is open (NULL after): at most one open draft per citizen,
    # even when two of their messages arrive at once.
    open_key = fields.CharField(max_length=64, null=True, unique=True)
    status = fields.CharEnumField(DraftStatus, max_length=16, default=DraftStatus.OPEN)
    description = fields.TextField(default="")
    address = fields.CharField(max_length=200, default="")
    lon = fields.FloatField(null=True)  # as WeChat sent it: GCJ-02
    lat = fields.FloatField(null=True)
    category_code = fields.CharField(max_length=16, null=True)  # proposed from the text
    photos = fields.IntField(default=0)  # photos received (their states: Inbound rows)
    awaiting = fields.CharField(max_length=16, null=True)  # what the bot asked for last
    case_id = fields.IntField(null=True)
    merged = fields.BooleanField(default=False)
    version = fields.IntField(default=0)
    created_at = fields.DatetimeField(auto_now_add=True)
    updated_at = fields.DatetimeField(auto_now=True)
    expires_at = fields.DatetimeField(db_index=True)

    class Meta:
        table = "wechat_oa_draft"


class Inbound(Model):
    """One message or event from WeChat, kept once by its key (MsgId, or sender + time for
    events): a retry of WeChat finds it and gets the same reply."""

    id = fields.IntField(primary_key=True)
    msg_key = fields.CharField(max_length=128, unique=True)
    openid = fields.CharField(max_length=64, db_index=True)
    kind = fields.CharField(max_length=32)  # text, image, location, voice, event:subscribe…
    content = fields.TextField(default="")
    media_id = fields.CharField(max_length=128, null=True)  # WeChat's, for an image
    draft_id = fields.IntField(null=True, db_index=True)
    photo_state = fields.CharEnumField(PhotoState, max_length=16, null=True)
    media_object_id = fields.IntField(null=True)  # core.MediaObject once stored
    reply = fields.TextField(null=True)  # what we answered (a retry gets it again)
    created_at = fields.DatetimeField(auto_now_add=True, db_index=True)

    class Meta:
        table = "wechat_oa_inbound"


class Delivery(Model):
    """What became of one notice to a citizen: sent, undeliverable (and why), or skipped."""

    id = fields.IntField(primary_key=True)
    outbox_id = fields.BigIntField(unique=True)  # the notice (one delivery per notice)
    case_id = fields.IntField(db_index=True)
    citizen_id = fields.IntField()
    action = fields.CharField(max_length=32)
    kind = fields.CharField(max_length=16)  # template, custom, none
    status = fields.CharEnumField(DeliveryStatus, max_length=16)
    errcode = fields.IntField(null=True)
    detail = fields.CharField(max_length=200, default="")
    created_at = fields.DatetimeField(auto_now_add=True)

    class Meta:
        table = "wechat_oa_delivery"
