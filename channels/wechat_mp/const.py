"""Names of the 小程序 channel: job kinds, limits, WeChat's answers."""

from __future__ import annotations

from enum import StrEnum
from typing import Final

CHANNEL: Final = "wechat_mp"  # the Source value, the package name, the table prefix
MEDIA_CHECK: Final = "wechat_mp.media_check"  # job: a photo to WeChat's async content check
PREFIX: Final = "/api/v1/mp"

# jscode2session's answers about the code (WeChat's 错误码).
CODE_INVALID: Final = frozenset({40029, 40226})  # invalid code; risky user (高风险等级用户)
CODE_USED: Final = 40163  # code been used
RATE_LIMITED: Final = 45011  # 频率限制: 100 per user per minute
REFUSED: Final = 43101  # the user refused (or used up) this subscribe message


class Delivered(StrEnum):
    SENT = "sent"
    NO_QUOTA = "no_quota"  # the citizen gave no (more) authorisation for this template
    UNDELIVERABLE = "undeliverable"  # WeChat says it can never reach them
    SKIPPED = "skipped"  # the city has no template for this move


class Check(StrEnum):
    """What WeChat's content check said of a report (or could not say)."""

    PASS = "pass"  # noqa: S105  (WeChat's verdict, not a password)
    REVIEW = "review"  # a person at the centre looks
    RISKY = "risky"
    UNCHECKED = "unchecked"  # WeChat was down: filed, and a person looks
    PENDING = "pending"  # photos sent to the async check, no answer yet
