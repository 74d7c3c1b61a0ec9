"""WeChat's request signature (sha1 of the sorted token, timestamp and nonce), with a window
against replays: what both channels' callback URLs check."""

from __future__ import annotations

import time
from collections.abc import Mapping

from wechatpy.exceptions import InvalidSignatureException
from wechatpy.utils import check_signature

from core.errors import Forbidden


def check_fresh(timestamp: str, *, window_s: int) -> None:
    """403 wechat_timestamp_stale for a request signed longer ago (or ahead) than window_s."""
    # A replayed request keeps its signature: refuse anything signed too long ago.
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > window_s:
        raise Forbidden("stale timestamp", code="wechat_timestamp_stale", message="微信请求已过期")


def check_signed(token: str, query: Mapping[str, str], *, window_s: int) -> None:
    """403 unless `signature` in the query is WeChat's for our token, and recent."""
    timestamp = query.get("timestamp", "")
    try:
        check_signature(token, query.get("signature", ""), timestamp, query.get("nonce", ""))
    except InvalidSignatureException:
        raise Forbidden(
            "bad signature", code="wechat_signature_invalid", message="微信签名校验失败"
        ) from None
    check_fresh(timestamp, window_s=window_s)
