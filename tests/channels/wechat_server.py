"""WeChat's side, faked at the network boundary, from its documentation.

`FakeWeChatAPI` is an aiohttp app speaking the API the channels call (接口调用凭证 /cgi-bin/token,
临时素材 /cgi-bin/media/get, 模板消息 and 客服消息 send), with failures on demand. `WeChatServer`
builds the callbacks WeChat's servers send to ours: XML as WeChat writes it, signed with the
token, and in safe mode encrypted (AES-256-CBC, PKCS#7 to 32 bytes, random(16) + length(4)
+ message + appid), written here from the documented algorithm rather than with wechatpy.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import re
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import count
from typing import Any
from xml.sax.saxutils import escape

from aiohttp import web
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

APP_ID = "wx5e1f2d3c4b5a6978"
APP_SECRET = "s3cr3t-app-secret-for-tests-0123"
TOKEN = "cityloopservertoken"
AES_KEY = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"  # 43 characters
ACCOUNT = "gh_cityloop_test"


@dataclass
class Sent:
    path: str
    body: dict[str, Any]
    token: str


@dataclass
class FakeWeChatAPI:
    """The API host: tokens, media, messages; `fail` queues failures per path."""

    token_fetches: int = 0
    apps: dict[str, str] = field(default_factory=lambda: {APP_ID: APP_SECRET})  # appid → secret
    tokens: set[str] = field(default_factory=set)
    media: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    sent: list[Sent] = field(default_factory=list)
    # path → failures to answer with, in order: "timeout", "500", or an errcode (int)
    fail: dict[str, list[Any]] = field(default_factory=dict)
    token_delay_s: float = 0.0
    unionids: dict[str, str] = field(default_factory=dict)  # openid → unionid (开放平台)
    # 小程序: login codes → openid (each usable once), phone codes → number, risky words.
    login_codes: dict[str, str] = field(default_factory=dict)
    used_codes: set[str] = field(default_factory=set)
    phone_codes: dict[str, str] = field(default_factory=dict)
    risky_words: set[str] = field(default_factory=set)
    media_checks: list[dict[str, Any]] = field(default_factory=list)
    _serial: Any = field(default_factory=lambda: count(1))

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/cgi-bin/token", self._token)
        app.router.add_get("/cgi-bin/media/get", self._media)
        app.router.add_post("/cgi-bin/message/template/send", self._send)
        app.router.add_post("/cgi-bin/message/custom/send", self._send)
        app.router.add_get("/cgi-bin/user/info", self._user_info)
        app.router.add_get("/sns/jscode2session", self._code2session)
        app.router.add_post("/wxa/business/getuserphonenumber", self._phone)
        app.router.add_post("/cgi-bin/message/subscribe/send", self._send)
        app.router.add_post("/wxa/msg_sec_check", self._text_check)
        app.router.add_post("/wxa/media_check_async", self._media_check)
        return app

    def subscribes(self) -> list[dict[str, Any]]:
        return [s.body for s in self.sent if s.path.endswith("subscribe/send")]

    async def _code2session(self, request: web.Request) -> web.Response:
        q = request.query
        if q.get("appid") != APP_ID or q.get("secret") != APP_SECRET:
            return web.json_response({"errcode": 40013, "errmsg": "invalid appid"})
        if q.get("grant_type") != "authorization_code":
            return web.json_response({"errcode": 40002, "errmsg": "invalid grant_type"})
        code = q.get("js_code", "")
        if code in self.used_codes:
            return web.json_response({"errcode": 40163, "errmsg": "code been used"})
        if code not in self.login_codes:
            return web.json_response({"errcode": 40029, "errmsg": "invalid code"})
        self.used_codes.add(code)
        openid = self.login_codes[code]
        answer = {"openid": openid, "session_key": f"SESSIONKEY{os.urandom(8).hex()}=="}
        if openid in self.unionids:
            answer["unionid"] = self.unionids[openid]
        return web.json_response(answer)

    async def _phone(self, request: web.Request) -> web.Response:
        if (refused := self._check_token(request)) is not None:
            return refused
        code = (await request.json()).get("code")
        if code not in self.phone_codes:
            return web.json_response({"errcode": 40029, "errmsg": "invalid code"})
        number = self.phone_codes[code]
        info = {"phoneNumber": number, "purePhoneNumber": number, "countryCode": "86"}
        return web.json_response({"errcode": 0, "errmsg": "ok", "phone_info": info})

    async def _text_check(self, request: web.Request) -> web.Response:
        if (refused := self._check_token(request)) is not None:
            return refused
        if (failed := await self._failure(request.path)) is not None:
            return failed
        body = await request.json()
        if body.get("version") != 2 or not body.get("openid") or "scene" not in body:
            return web.json_response({"errcode": 47001, "errmsg": "data format error"})
        risky = any(w in body.get("content", "") for w in self.risky_words)
        result = {"suggest": "risky" if risky else "pass", "label": 20006 if risky else 100}
        return web.json_response({"errcode": 0, "errmsg": "ok", "result": result})

    async def _media_check(self, request: web.Request) -> web.Response:
        if (refused := self._check_token(request)) is not None:
            return refused
        if (failed := await self._failure(request.path)) is not None:
            return failed
        body = await request.json()
        trace = f"trace-{len(self.media_checks) + 1}-{os.urandom(4).hex()}"
        self.media_checks.append(body | {"trace_id": trace})
        return web.json_response({"errcode": 0, "errmsg": "ok", "trace_id": trace})

    def expire_tokens(self) -> None:
        """Every token handed out so far stops working (as after 7200 s, or a refresh)."""
        self.tokens.clear()

    def templates(self) -> list[dict[str, Any]]:
        return [s.body for s in self.sent if s.path.endswith("template/send")]

    def texts(self) -> list[dict[str, Any]]:
        return [s.body for s in self.sent if s.path.endswith("custom/send")]

    async def _failure(self, path: str) -> web.Response | None:
        queue = self.fail.get(path)
        if not queue:
            return None
        what = queue.pop(0)
        if what == "timeout":
            await asyncio.sleep(3)
            return web.json_response({"errcode": 0})
        if what == "500":
            return web.Response(status=502, text="<html>Bad Gateway</html>")
        return web.json_response({"errcode": int(what), "errmsg": f"error {what} rid: test"})

    async def _token(self, request: web.Request) -> web.Response:
        q = request.query
        if q.get("grant_type") != "client_credential" or q.get("appid") not in self.apps:
            return web.json_response({"errcode": 40013, "errmsg": "invalid appid"})
        if q.get("secret") != self.apps[q["appid"]]:
            return web.json_response({"errcode": 40125, "errmsg": "invalid appsecret"})
        self.token_fetches += 1
        if self.token_delay_s:
            await asyncio.sleep(self.token_delay_s)
        token = f"ACCESS_TOKEN_{next(self._serial)}_{os.urandom(6).hex()}"
        self.tokens.add(token)
        return web.json_response({"access_token": token, "expires_in": 7200})

    def _check_token(self, request: web.Request) -> web.Response | None:
        token = request.query.get("access_token", "")
        if token not in self.tokens:
            return web.json_response(
                {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid"}
            )
        return None

    async def _user_info(self, request: web.Request) -> web.Response:
        if (refused := self._check_token(request)) is not None:
            return refused
        openid = request.query.get("openid", "")
        info: dict[str, Any] = {"subscribe": 1, "openid": openid, "language": "zh_CN"}
        if openid in self.unionids:
            info["unionid"] = self.unionids[openid]
        return web.json_response(info)

    async def _media(self, request: web.Request) -> web.Response:
        if (refused := self._check_token(request)) is not None:
            return refused
        if (failed := await self._failure(request.path)) is not None:
            return failed
        found = self.media.get(request.query.get("media_id", ""))
        if found is None:
            # WeChat answers errors of this call as JSON with a text/plain type.
            return web.Response(
                text='{"errcode":40007,"errmsg":"invalid media_id"}', content_type="text/plain"
            )
        data, mime = found
        return web.Response(
            body=data,
            content_type=mime,
            headers={"Content-disposition": 'attachment; filename="photo.jpg"'},
        )

    async def _send(self, request: web.Request) -> web.Response:
        if (refused := self._check_token(request)) is not None:
            return refused
        if (failed := await self._failure(request.path)) is not None:
            return failed
        body = await request.json()
        self.sent.append(Sent(request.path, body, request.query["access_token"]))
        answer: dict[str, Any] = {"errcode": 0, "errmsg": "ok"}
        if request.path.endswith("template/send"):
            answer["msgid"] = 200000 + len(self.sent)
        return web.json_response(answer)


def _cdata(tag: str, xml: str) -> str:
    found = re.search(rf"<{tag}><!\[CDATA\[(.*?)]]></{tag}>", xml, re.S)
    if found is None:
        raise ValueError(f"no <{tag}> in {xml[:80]!r}")
    return found.group(1)


def _sha1(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()  # noqa: S324 (WeChat's)


@dataclass
class WeChatServer:
    """Builds and signs the callbacks WeChat sends to a 公众号's server URL."""

    safe: bool = False
    token: str = TOKEN
    aes_key: str = AES_KEY
    app_id: str = APP_ID
    _ids: Callable[[], int] = field(default_factory=lambda: count(7_000_000_000_000).__next__)

    def xml(self, openid: str, msg_type: str, fields: dict[str, Any], *, at: int | None) -> str:
        """A message as WeChat writes it (strings in CDATA, numbers bare)."""
        body = "".join(
            f"<{k}>{v}</{k}>" if isinstance(v, int) else f"<{k}><![CDATA[{v}]]></{k}>"
            for k, v in fields.items()
        )
        return (
            f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
            f"<FromUserName><![CDATA[{escape(openid)}]]></FromUserName>"
            f"<CreateTime>{at or int(time.time())}</CreateTime>"
            f"<MsgType><![CDATA[{msg_type}]]></MsgType>{body}</xml>"
        )

    def message(
        self, openid: str, msg_type: str, *, msg_id: int | None = None, **fields: Any
    ) -> str:
        return self.xml(openid, msg_type, {**fields, "MsgId": msg_id or self._ids()}, at=None)

    def event(self, openid: str, event: str, *, at: int | None = None, **fields: Any) -> str:
        return self.xml(openid, "event", {"Event": event, **fields}, at=at)

    def signed(self, xml: str, *, timestamp: int | None = None) -> tuple[dict[str, str], bytes]:
        """The query string and body of the POST, as WeChat sends them in this mode."""
        ts = str(timestamp or int(time.time()))
        nonce = os.urandom(5).hex()
        query = {"signature": _sha1(self.token, ts, nonce), "timestamp": ts, "nonce": nonce}
        if not self.safe:
            return query, xml.encode()
        encrypted = self.encrypt(xml)
        query |= {"encrypt_type": "aes", "msg_signature": _sha1(self.token, ts, nonce, encrypted)}
        body = (
            f"<xml><ToUserName><![CDATA[{ACCOUNT}]]></ToUserName>"
            f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
        )
        query["openid"] = _cdata("FromUserName", xml)
        return query, body.encode()

    def _key(self) -> bytes:
        return base64.b64decode(self.aes_key + "=")

    def encrypt(self, text: str) -> str:
        raw = os.urandom(16) + struct.pack(">I", len(text.encode())) + text.encode()
        raw += self.app_id.encode()
        pad = 32 - len(raw) % 32
        raw += bytes([pad]) * pad
        key = self._key()
        encryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).encryptor()
        return base64.b64encode(encryptor.update(raw) + encryptor.finalize()).decode()

    def decrypt(self, encrypted: str) -> str:
        key = self._key()
        decryptor = Cipher(algorithms.AES(key), modes.CBC(key[:16])).decryptor()
        raw = decryptor.update(base64.b64decode(encrypted)) + decryptor.finalize()
        raw = raw[: -raw[-1]]
        size = struct.unpack(">I", raw[16:20])[0]
        if raw[20 + size :].decode() != self.app_id:
            raise ValueError("reply encrypted for another app id")
        return raw[20 : 20 + size].decode()

    def reply_text(self, body: str, query: dict[str, str]) -> str:
        """What the citizen reads of our reply ('' for none), checking its signature."""
        if body == "success" or not body:
            return ""
        if self.safe:
            encrypted, nonce = _cdata("Encrypt", body), _cdata("Nonce", body)
            sig = _cdata("MsgSignature", body)
            found_ts = re.search(r"<TimeStamp>(\d+)</TimeStamp>", body)
            ts = found_ts.group(1) if found_ts else ""
            if sig != _sha1(self.token, ts, nonce, encrypted):
                raise ValueError("reply signature does not match")
            body = self.decrypt(encrypted)
        found = re.search(r"<Content><!\[CDATA\[(.*?)]]></Content>", body, re.S)
        return found.group(1) if found else ""
