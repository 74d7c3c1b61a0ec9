"""Names of the 公众号 channel: job kinds, keys, menu keys, limits."""

from __future__ import annotations

from enum import StrEnum
from typing import Final

CHANNEL: Final = "wechat_oa"  # the Source value, the package name, the table prefix
FETCH_PHOTO: Final = "wechat_oa.fetch_photo"  # job: a photo from WeChat's media API
SUBMIT_DRAFT: Final = "wechat_oa.submit_draft"  # job: a confirmed report whose photos lag
SEND_TEXT: Final = "wechat_oa.send_text"  # job: a 客服消息 (photo refused, late case number)
USER_INFO: Final = "wechat_oa.user_info"  # job: a new follower's unionid (one person in 小程序 too)
PURGE: Final = "wechat_oa.purge"  # periodic: forget old inbound message keys

# Menu click keys (README gives the menu JSON with these).
MENU_REPORT: Final = "REPORT"  # 我要上报
MENU_MINE: Final = "MY_REPORTS"  # 我的上报

# Words a citizen types, by what they mean (compared after trimming, case-insensitive).
CONFIRM_WORDS: Final = frozenset({"1", "确认", "确定", "提交", "是", "好", "ok", "yes"})
CANCEL_WORDS: Final = frozenset({"0", "取消", "不", "否", "算了", "no"})
QUERY_WORDS: Final = frozenset({"查询", "我的上报", "进度", "查进度", "我的案件"})
HELP_WORDS: Final = frozenset({"帮助", "help", "?", "？", "怎么上报", "菜单"})
ADDRESS_PREFIXES: Final = ("地址", "位置", "地点")

MAX_BODY: Final = 64 * 1024  # a WeChat message is a few KB of XML
CUSTOM_WINDOW_S: Final = 48 * 3600  # 客服消息 may be sent this long after the citizen wrote
MESSAGE_KEYS_DAYS: Final = 7  # inbound message rows (the MsgId dedupe) are kept this long
MINE_SHOWN: Final = 5  # "查询" lists this many recent reports


class DraftStatus(StrEnum):
    OPEN = "open"  # being put together
    CONFIRMING = "confirming"  # complete: waiting for 1 / 0
    SUBMITTING = "submitting"  # confirmed; photos still being fetched (a job finishes it)
    SUBMITTED = "submitted"
    CANCELLED = "cancelled"
    EXPIRED = "expired"


class PhotoState(StrEnum):
    PENDING = "pending"  # the fetch job has not run yet
    STORED = "stored"  # in cityloop's media storage (media_id set)
    FAILED = "failed"  # could not be fetched or was refused; the citizen was told


class DeliveryStatus(StrEnum):
    SENT = "sent"
    UNDELIVERABLE = "undeliverable"  # WeChat says it can never reach this citizen
    SKIPPED = "skipped"  # no template for the move and the 48-hour window was closed
