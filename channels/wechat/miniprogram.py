"""The 小程序's calls to WeChat's API: login codes, phone numbers, subscribe messages, content
security (v2: wechatpy's wrappers lag here, ecosystem-notes.md)."""

from __future__ import annotations

from typing import Any

from channels.wechat.client import WeChatClient, WeChatError, WeChatUnavailable


class MiniProgramClient(WeChatClient):
    """WeChatClient with the calls only a 小程序 makes."""

    async def code2session(self, js_code: str) -> dict[str, Any]:
        """A 小程序 login code (wx.login) → openid, session_key, unionid when bound."""
        params = {
            "appid": self.app_id,
            "secret": self._secret.get_secret_value(),
            "js_code": js_code,
            "grant_type": "authorization_code",
        }
        data = await self._request("GET", "/sns/jscode2session", params=params)
        if data.get("errcode"):
            raise WeChatError(int(data["errcode"]), str(data.get("errmsg", "")))
        if not isinstance(data.get("openid"), str):
            raise WeChatUnavailable("jscode2session answer without openid")
        return data

    async def phone_number(self, code: str) -> dict[str, Any]:
        """A 小程序 phone-number code (getPhoneNumber) → phone_info."""
        data = await self.call("POST", "/wxa/business/getuserphonenumber", body={"code": code})
        info = data.get("phone_info")
        if not isinstance(info, dict):
            raise WeChatUnavailable("getuserphonenumber answer without phone_info")
        return info

    async def send_subscribe(
        self,
        openid: str,
        template_id: str,
        data: dict[str, str],
        *,
        page: str | None = None,
        state: str = "formal",
    ) -> None:
        """Send a subscribe message (订阅消息) to a 小程序 user."""
        body: dict[str, Any] = {
            "touser": openid,
            "template_id": template_id,
            "data": {k: {"value": v} for k, v in data.items()},
            "miniprogram_state": state,
            "lang": "zh_CN",
        }
        if page:
            body["page"] = page
        await self.call("POST", "/cgi-bin/message/subscribe/send", body=body)

    async def text_check(self, openid: str, content: str, *, scene: int = 1) -> str:
        """内容安全 v2 for text: WeChat's suggestion, pass / review / risky."""
        body = {"content": content, "version": 2, "scene": scene, "openid": openid}
        data = await self.call("POST", "/wxa/msg_sec_check", body=body)
        result = data.get("result")
        suggest = result.get("suggest") if isinstance(result, dict) else None
        return str(suggest) if suggest in ("pass", "review", "risky") else "review"

    async def media_check(self, openid: str, media_url: str, *, scene: int = 1) -> str:
        """内容安全 v2 for an image, asynchronous: the trace id its pushed result will carry."""
        body = {
            "media_url": media_url,
            "media_type": 2,
            "version": 2,
            "scene": scene,
            "openid": openid,
        }
        data = await self.call("POST", "/wxa/media_check_async", body=body)
        return str(data.get("trace_id", ""))
