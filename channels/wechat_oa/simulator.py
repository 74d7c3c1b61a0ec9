"""A chat with the 公众号 in the terminal, with this program playing WeChat's part.

It sends what a citizen types to the server's /wechat/oa as WeChat would (signed, and
encrypted in safe mode), shows the bot's replies, and runs the WeChat API the server is
pointed at (CITYLOOP_WECHAT_API_BASE): tokens, the photos it sent, and the template and
customer-service messages the server sends back, which it prints as they arrive.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import itertools
import os
import re
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web
from wechatpy.crypto import WeChatCrypto

from channels.wechat_oa import DEMO_ENV
from channels.wechat_oa.config import OAConfig
from core.config import CityProfile, load_profile
from core.geo import wgs84_to_gcj02

HELP = """输入文字即发送文字消息；其他操作：
  /photo 文件路径      发送照片        /location [经度 纬度]  发送位置（默认市中心，WGS-84）
  /voice 文字          语音（带识别）  /menu mine|report      点击菜单
  /subscribe           关注            /wait 秒数             等待（脚本用）
  /help                本说明          /quit                  退出"""


class FakeWeChat:
    """WeChat's API host for the server: tokens, media, and the messages it sends us."""

    def __init__(self, config: OAConfig, out: Any) -> None:
        self._config = config
        self._out = out
        self.media: dict[str, bytes] = {}
        self._serial = itertools.count(1)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/cgi-bin/token", self._token)
        app.router.add_get("/cgi-bin/media/get", self._media)
        app.router.add_post("/cgi-bin/message/template/send", self._template)
        app.router.add_post("/cgi-bin/message/custom/send", self._custom)
        app.router.add_get("/cgi-bin/user/info", self._user_info)
        return app

    async def _user_info(self, request: web.Request) -> web.Response:
        return web.json_response({"subscribe": 1, "openid": request.query.get("openid", "")})

    async def _token(self, request: web.Request) -> web.Response:
        secret = self._config.app_secret
        if secret is None or request.query.get("secret") != secret.get_secret_value():
            return web.json_response({"errcode": 40125, "errmsg": "invalid appsecret"})
        return web.json_response({"access_token": os.urandom(16).hex(), "expires_in": 7200})

    async def _media(self, request: web.Request) -> web.Response:
        data = self.media.get(request.query.get("media_id", ""))
        if data is None:
            return web.json_response({"errcode": 40007, "errmsg": "invalid media_id"})
        return web.Response(body=data, content_type="image/jpeg")

    async def _template(self, request: web.Request) -> web.Response:
        body = await request.json()
        fields = "  ".join(f"{k}={v.get('value')}" for k, v in body.get("data", {}).items())
        self._show(f"【模板消息 {body.get('template_id')}】{fields}\n    链接：{body.get('url')}")
        return web.json_response({"errcode": 0, "errmsg": "ok", "msgid": next(self._serial)})

    async def _custom(self, request: web.Request) -> web.Response:
        body = await request.json()
        self._show(f"【客服消息】{body.get('text', {}).get('content', '')}")
        return web.json_response({"errcode": 0, "errmsg": "ok"})

    def _show(self, text: str) -> None:
        print(f"\n{text}\n> ", end="", file=self._out, flush=True)


class Phone:
    """The citizen's side: builds WeChat's XML, signs, encrypts, reads the replies."""

    def __init__(self, config: OAConfig, url: str, openid: str) -> None:
        if config.token is None or config.app_id is None:
            raise SystemExit("CITYLOOP_WECHAT_OA_APP_ID and _TOKEN are needed (or use --demo)")
        self._token = config.token.get_secret_value()
        self._crypto = (
            WeChatCrypto(self._token, config.aes_key.get_secret_value(), config.app_id)
            if config.aes_key
            else None
        )
        self._url = url
        self.openid = openid
        self._ids = itertools.count(int(time.time()) * 1000)

    def xml(self, msg_type: str, **fields: Any) -> str:
        parts = "".join(
            f"<{k}>{v}</{k}>" if isinstance(v, int) else f"<{k}><![CDATA[{v}]]></{k}>"
            for k, v in fields.items()
        )
        return (
            f"<xml><ToUserName><![CDATA[gh_cityloop]]></ToUserName>"
            f"<FromUserName><![CDATA[{self.openid}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime>"
            f"<MsgType><![CDATA[{msg_type}]]></MsgType>{parts}</xml>"
        )

    def message(self, msg_type: str, **fields: Any) -> str:
        return self.xml(msg_type, **fields, MsgId=next(self._ids))

    async def send(self, http: aiohttp.ClientSession, xml: str) -> str:
        ts, nonce = str(int(time.time())), os.urandom(4).hex()
        signature = hashlib.sha1("".join(sorted([self._token, ts, nonce])).encode()).hexdigest()  # noqa: S324
        query = {"signature": signature, "timestamp": ts, "nonce": nonce, "openid": self.openid}
        body = xml
        if self._crypto is not None:
            packed = self._crypto.encrypt_message(xml, nonce, ts)
            encrypted = _tag("Encrypt", packed)
            query |= {"encrypt_type": "aes", "msg_signature": _tag("MsgSignature", packed)}
            body = (
                "<xml><ToUserName><![CDATA[gh_cityloop]]></ToUserName>"
                f"<Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>"
            )
        async with http.post(self._url, params=query, data=body.encode()) as resp:
            text = await resp.text()
            if resp.status != 200:
                return f"（服务器返回 {resp.status}：{text}）"
        if text == "success" or not text:
            return ""
        if self._crypto is not None:
            text = self._crypto.decrypt_message(
                text, _tag("MsgSignature", text), _plain("TimeStamp", text), _tag("Nonce", text)
            )
        return _tag("Content", text)


def _tag(name: str, xml: str) -> str:
    found = re.search(rf"<{name}><!\[CDATA\[(.*?)]]></{name}>", xml, re.S)
    return found.group(1) if found else ""


def _plain(name: str, xml: str) -> str:
    found = re.search(rf"<{name}>(.*?)</{name}>", xml, re.S)
    return found.group(1) if found else ""


def _settings(args: argparse.Namespace) -> tuple[OAConfig, CityProfile]:
    if args.demo or not os.environ.get("CITYLOOP_WECHAT_OA_APP_ID"):
        for key, value in DEMO_ENV.items():  # the values `serve --demo` configures
            os.environ.setdefault(key, value)
    path = os.environ.get("CITYLOOP_CITY_PROFILE")
    return OAConfig(), load_profile(Path(path)) if path else CityProfile()


async def _line(prompt: str) -> str | None:
    try:
        return await asyncio.to_thread(input, prompt)
    except EOFError:
        return None


async def _build(phone: Phone, fake: FakeWeChat, profile: CityProfile, line: str) -> str | None:
    """The XML of what the citizen typed, or None (printed a hint instead)."""
    command, _, rest = line.partition(" ")
    if command == "/photo":
        data = await asyncio.to_thread(Path(rest.strip()).read_bytes)
        media_id = f"SIM_{hashlib.sha256(data).hexdigest()[:24]}"
        fake.media[media_id] = data
        return phone.message("image", PicUrl="http://mmbiz.qpic.cn/sim", MediaId=media_id)
    if command == "/location":
        lon, lat = (float(v) for v in rest.split()) if rest.strip() else profile.center
        gx, gy = wgs84_to_gcj02(lon, lat)  # WeChat's location messages are GCJ-02
        return phone.message(
            "location", Location_X=f"{gy:.6f}", Location_Y=f"{gx:.6f}", Scale="16", Label="模拟位置"
        )
    if command == "/voice":
        return phone.message("voice", MediaId="SIM_VOICE", Format="amr", Recognition=rest)
    if command == "/menu":
        key = "MY_REPORTS" if rest.strip() == "mine" else "REPORT"
        return phone.xml("event", Event="CLICK", EventKey=key)
    if command == "/wait":  # for scripts: let the server's jobs and messages catch up
        await asyncio.sleep(float(rest or 1))
        return None
    if command == "/subscribe":
        return phone.xml("event", Event="subscribe", EventKey="")
    if command.startswith("/"):
        print(HELP)
        return None
    return phone.message("text", Content=line)


async def chat(args: argparse.Namespace, out: Any = sys.stdout) -> int:
    """Run the fake WeChat API and the terminal chat until /quit or end of input."""
    config, profile = _settings(args)
    fake = FakeWeChat(config, out)
    api = urlsplit(config.api_base)
    runner = web.AppRunner(fake.app(), access_log=None)
    await runner.setup()
    port = args.api_port or api.port or 9480
    await web.TCPSite(runner, "127.0.0.1", port).start()
    phone = Phone(config, args.url, args.openid)
    mode = "安全模式" if config.aes_key else "明文模式"
    print(f"模拟微信：{args.url}（{mode}），微信接口模拟在 127.0.0.1:{port}\n{HELP}", file=out)
    try:
        async with aiohttp.ClientSession() as http:
            while (line := await _line("> ")) is not None:
                line = line.strip()
                if line == "/quit":
                    break
                if not line:
                    continue
                try:
                    xml = await _build(phone, fake, profile, line)
                    if xml is not None:
                        print(f"公众号：{await phone.send(http, xml) or '（无回复）'}", file=out)
                except (OSError, ValueError, aiohttp.ClientError) as err:
                    print(f"（发送失败：{err}）", file=out)
            await asyncio.sleep(args.linger)  # messages the server sends after the last line
    finally:
        await runner.cleanup()
    return 0


def run(args: argparse.Namespace) -> int:
    """`cityloop wechat simulate`."""
    return asyncio.run(chat(args))
