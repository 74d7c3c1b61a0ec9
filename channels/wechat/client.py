"""An async client of WeChat's HTTP API on the shared aiohttp session.

wechatpy's own client is synchronous and refreshes the access_token without a lock (five
concurrent calls, five token fetches: ecosystem-notes.md), so calls go through this one. The
token is cached in the runtime's key-value store (Redis when configured, else the database),
shared by every process of a deployment, refreshed before it expires and at once when WeChat
says it is invalid, with one refresh at a time across processes.

Nothing here logs a URL: the token and the app secret travel in query strings.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self

import aiohttp
from pydantic import SecretStr

from channels.wechat.const import DEFAULT_API_BASE, TOKEN_INVALID, TOKEN_LOCK_S, TOKEN_MARGIN_S
from core.kv import KeyValue

if TYPE_CHECKING:
    from core.runtime import Runtime

log = logging.getLogger(__name__)

__all__ = ["DEFAULT_API_BASE", "WeChatClient", "WeChatError", "WeChatUnavailable"]


class WeChatError(Exception):
    """WeChat answered with an error code (errcode, errmsg); never carries a URL or token."""

    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"WeChat error {errcode}: {errmsg[:200]}")
        self.errcode = errcode
        self.errmsg = errmsg[:200]


class WeChatUnavailable(WeChatError):
    """WeChat could not be reached or failed (timeout, connection, HTTP 5xx): try again."""

    def __init__(self, detail: str) -> None:
        super().__init__(-2, detail)


@dataclass(frozen=True)
class _Token:
    value: str
    expires_at: float  # epoch seconds

    def fresh(self) -> bool:
        return self.expires_at - TOKEN_MARGIN_S > time.time()


class WeChatClient:
    """One app id's calls to WeChat's API: token, media download, messages."""

    def __init__(
        self,
        *,
        http: aiohttp.ClientSession,
        kv: KeyValue,
        app_id: str,
        app_secret: SecretStr,
        api_base: str = DEFAULT_API_BASE,
        timeout_s: float = 5.0,
    ) -> None:
        self._http = http
        self._kv = kv
        self.app_id = app_id
        self._secret = app_secret
        self._base = api_base.rstrip("/")
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._memory: _Token | None = None
        self._lock = asyncio.Lock()  # one refresh at a time in this process, too

    @classmethod
    def on(
        cls,
        runtime: Runtime,
        *,
        app_id: str,
        app_secret: SecretStr,
        api_base: str,
        timeout_s: float,
    ) -> Self:
        """A client on the runtime's shared HTTP session and key-value store (once open)."""
        if runtime.http is None:
            raise RuntimeError("the HTTP session is not open yet")
        return cls(
            http=runtime.http,
            kv=runtime.kv,
            app_id=app_id,
            app_secret=app_secret,
            api_base=api_base,
            timeout_s=timeout_s,
        )

    @property
    def _key(self) -> str:
        return f"wechat:token:{self.app_id}"

    # --- the access_token -------------------------------------------------------------------

    async def access_token(self) -> str:
        """A valid token: this process's copy, the shared cache's, or a new one."""
        if self._memory is not None and self._memory.fresh():
            return self._memory.value
        async with self._lock:
            shared = await self._cached()
            if shared is not None and shared.fresh():
                self._memory = shared
                return shared.value
            return await self._refresh(stale=None)

    async def refreshed(self, stale: str) -> str:
        """A token other than `stale` (which WeChat refused): another process's, or new."""
        async with self._lock:
            if self._memory is not None and self._memory.value != stale:
                return self._memory.value
            return await self._refresh(stale=stale)

    async def _cached(self) -> _Token | None:
        raw = await self._kv.get(self._key)
        if raw is None:
            return None
        try:
            data = json.loads(raw)
            return _Token(str(data["token"]), float(data["expires_at"]))
        except (ValueError, KeyError, TypeError):
            return None

    async def _refresh(self, *, stale: str | None) -> str:
        """Fetch a new token under the cross-process lock; a waiter takes the winner's."""
        deadline = time.monotonic() + TOKEN_LOCK_S
        lock = f"wechat:token-lock:{self.app_id}"
        while True:
            shared = await self._cached()
            if shared is not None and shared.fresh() and shared.value != stale:
                self._memory = shared
                return shared.value
            if await self._kv.add(lock, "1", ttl_s=TOKEN_LOCK_S):
                try:
                    # Look again under the lock: the last holder may have stored its token
                    # between our look above and our taking the lock.
                    shared = await self._cached()
                    if shared is not None and shared.fresh() and shared.value != stale:
                        token = shared
                    else:
                        token = await self._fetch_token()
                finally:
                    await self._kv.delete(lock)
                self._memory = token
                return token.value
            if time.monotonic() > deadline:
                raise WeChatUnavailable("another process holds the token refresh too long")
            await asyncio.sleep(0.05)

    async def _fetch_token(self) -> _Token:
        params = {
            "grant_type": "client_credential",
            "appid": self.app_id,
            "secret": self._secret.get_secret_value(),
        }
        data = await self._request("GET", "/cgi-bin/token", params=params)
        if data.get("errcode"):
            raise WeChatError(int(data["errcode"]), str(data.get("errmsg", "")))
        try:
            token = _Token(str(data["access_token"]), time.time() + int(data["expires_in"]))
        except (KeyError, ValueError, TypeError) as err:
            raise WeChatUnavailable("token answer without access_token/expires_in") from err
        ttl = max(int(data["expires_in"]) - 60, 1)
        await self._kv.set(
            self._key, json.dumps({"token": token.value, "expires_at": token.expires_at}), ttl_s=ttl
        )
        log.info("wechat access_token refreshed for app %s", self.app_id)
        return token

    # --- calls ------------------------------------------------------------------------------

    async def _request(
        self, method: str, path: str, *, params: dict[str, str], body: Any = None
    ) -> dict[str, Any]:
        try:
            async with self._http.request(
                method,
                self._base + path,
                params=params,
                data=None if body is None else json.dumps(body, ensure_ascii=False).encode(),
                headers={"Content-Type": "application/json"} if body is not None else None,
                timeout=self._timeout,
            ) as resp:
                if resp.status >= 500:
                    raise WeChatUnavailable(f"HTTP {resp.status} from {path}")
                raw = await resp.read()
        except (aiohttp.ClientError, TimeoutError) as err:
            # The exception's text may hold the URL (and so the token): name only its kind.
            raise WeChatUnavailable(f"{type(err).__name__} calling {path}") from None
        try:
            data = json.loads(raw)
        except ValueError:
            raise WeChatUnavailable(f"answer of {path} is not JSON") from None
        if not isinstance(data, dict):
            raise WeChatUnavailable(f"answer of {path} is not an object")
        return data

    async def call(
        self, method: str, path: str, *, body: Any = None, params: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """Call an API with the token; on an invalid token refresh once and call again."""
        token = await self.access_token()
        for attempt in (1, 2):
            data = await self._request(
                method, path, params={"access_token": token, **(params or {})}, body=body
            )
            code = int(data.get("errcode") or 0)
            if code in TOKEN_INVALID and attempt == 1:
                token = await self.refreshed(token)
                continue
            if code:
                raise WeChatError(code, str(data.get("errmsg", "")))
            return data
        raise AssertionError("unreachable")  # pragma: no cover

    async def send_template(
        self,
        openid: str,
        template_id: str,
        data: dict[str, str],
        *,
        url: str | None = None,
        client_msg_id: str | None = None,
    ) -> int | None:
        """Send a template message (模板消息); return WeChat's msgid.

        `client_msg_id` makes WeChat drop a repeat of the same send (防重入).
        """
        body: dict[str, Any] = {
            "touser": openid,
            "template_id": template_id,
            "data": {k: {"value": v} for k, v in data.items()},
        }
        if url:
            body["url"] = url
        if client_msg_id:
            body["client_msg_id"] = client_msg_id
        answer = await self.call("POST", "/cgi-bin/message/template/send", body=body)
        msgid = answer.get("msgid")
        return int(msgid) if isinstance(msgid, int | str) and str(msgid).isdigit() else None

    async def send_text(self, openid: str, content: str) -> None:
        """Send a customer-service text message (客服消息; within 48 hours of the last
        message from the citizen)."""
        body = {"touser": openid, "msgtype": "text", "text": {"content": content}}
        await self.call("POST", "/cgi-bin/message/custom/send", body=body)

    async def user_info(self, openid: str) -> dict[str, Any]:
        """A follower's profile (公众号 用户基本信息): subscribe, unionid when the account is bound
        to a 开放平台 account."""
        return await self.call(
            "GET", "/cgi-bin/user/info", params={"openid": openid, "lang": "zh_CN"}
        )

    async def download_media(self, media_id: str, *, max_bytes: int) -> bytes:
        """Download a temporary media file (a photo a citizen sent; kept 3 days by WeChat)."""
        for attempt in (1, 2):
            token = await self.access_token()
            params = {"access_token": token, "media_id": media_id}
            try:
                async with self._http.get(
                    self._base + "/cgi-bin/media/get", params=params, timeout=self._timeout
                ) as resp:
                    if resp.status >= 500:
                        raise WeChatUnavailable(f"HTTP {resp.status} from /cgi-bin/media/get")
                    kind = resp.headers.get("Content-Type", "")
                    if "json" in kind or "text" in kind:
                        data = json.loads(await resp.read() or b"{}")
                        code = int(data.get("errcode") or -2)
                        if code in TOKEN_INVALID and attempt == 1:
                            await self.refreshed(token)
                            continue
                        raise WeChatError(code, str(data.get("errmsg", "")))
                    return await _bounded(resp, max_bytes)
            except (aiohttp.ClientError, TimeoutError):
                raise WeChatUnavailable("cannot download /cgi-bin/media/get") from None
            except ValueError:
                raise WeChatUnavailable("media error answer is not JSON") from None
        raise WeChatUnavailable("token refused twice")


async def _bounded(resp: aiohttp.ClientResponse, max_bytes: int) -> bytes:
    """The body, refusing more than max_bytes (a photo larger than any upload may be)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > max_bytes:
            raise WeChatError(-3, f"media larger than {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)
