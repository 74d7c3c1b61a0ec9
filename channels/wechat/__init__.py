"""What the WeChat channels share: the async client of WeChat's HTTP API and its errors.

The 公众号 (channels/wechat_oa) and the 小程序 (channels/wechat_mp) each build one client per
app id; both go to the host named by CITYLOOP_WECHAT_API_BASE.
"""

from channels.wechat.client import (
    DEFAULT_API_BASE,
    WeChatClient,
    WeChatError,
    WeChatUnavailable,
)

__all__ = ["DEFAULT_API_BASE", "WeChatClient", "WeChatError", "WeChatUnavailable"]
