"""WeChat's error codes as cityloop treats them (mp.weixin.qq.com 全局返回码说明)."""

from __future__ import annotations

from typing import Final

DEFAULT_API_BASE: Final = "https://api.weixin.qq.com"

# The access_token is not (or no longer) valid: refresh once and send again.
TOKEN_INVALID: Final = frozenset(
    {
        40001,  # invalid credential (another process refreshed it, or it was revoked)
        40014,  # invalid access_token
        42001,  # access_token expired
    }
)
# Sending to this person can never succeed: record it on the notice, do not retry.
UNREACHABLE: Final = frozenset(
    {
        40003,  # invalid openid
        43004,  # require subscribe: the citizen unsubscribed
        43019,  # the citizen is on the account's blocklist
        43101,  # the citizen refused (subscribe messages) / switched messages off
        45015,  # response out of time limit: the 48-hour window of 客服消息 has closed
        47003,  # argument invalid: a template field the template does not have
        40037,  # invalid template_id: the profile names a template the account lacks
    }
)
# A quota or rate limit: wait and send later; the message is not lost.
QUOTA: Final = frozenset(
    {
        45009,  # reach max api daily quota limit
        45047,  # out of response count limit (客服消息)
        45011,  # api minute-quota reach limit
    }
)
BUSY: Final = -1  # 系统繁忙: try again shortly

TOKEN_MARGIN_S: Final = 300  # refresh this long before WeChat says the token expires
TOKEN_LOCK_S: Final = 15  # one refresh at a time across processes, for at most this long
