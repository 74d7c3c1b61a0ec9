"""WeChat's message protocol, offline: signatures, safe mode, parsing, replies (wechatpy).

Plaintext mode (明文模式): `signature` = sha1 of the sorted token, timestamp and nonce signs
every request. Safe mode (安全模式, CITYLOOP_WECHAT_OA_AES_KEY set): the body is an
<Encrypt> element signed by `msg_signature`, and our reply is encrypted the same way;
plaintext messages are refused. The URL check (GET) is signed by `signature` in both modes.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

from wechatpy import parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException
from wechatpy.replies import TextReply

from channels.wechat.signature import check_fresh, check_signed
from channels.wechat_oa.config import OAConfig
from core.errors import BadRequest, Forbidden


@dataclass(frozen=True)
class Incoming:
    """One message or event, as the conversation needs it."""

    openid: str  # FromUserName
    account: str  # ToUserName (the account's own id, for the reply)
    key: str  # MsgId, or FromUserName|CreateTime|Event for events (WeChat's dedupe advice)
    kind: str  # text, image, location, voice, video…, or event:<name>
    text: str = ""  # text, a voice message's recognition, a click's key
    media_id: str | None = None
    lon: float | None = None  # Location_Y (GCJ-02)
    lat: float | None = None  # Location_X (GCJ-02)
    label: str = ""  # the place's name WeChat gives with a location


def _forbidden(detail: str, code: str, message: str) -> Forbidden:
    return Forbidden(detail, code=code, message=message)


class WeChatProtocol:
    """Check, open and answer WeChat's requests for one account."""

    def __init__(self, config: OAConfig) -> None:
        if config.token is None or config.app_id is None:
            raise ValueError("the 公众号 needs an app id and a token")
        self._token = config.token.get_secret_value()
        self._window = config.timestamp_window_s
        self._crypto = (
            WeChatCrypto(self._token, config.aes_key.get_secret_value(), config.app_id)
            if config.aes_key is not None
            else None
        )

    @property
    def safe_mode(self) -> bool:
        return self._crypto is not None

    def _signed(self, query: dict[str, str]) -> None:
        check_signed(self._token, query, window_s=self._window)

    def verify_url(self, query: dict[str, str]) -> str:
        """The echostr of WeChat's URL check (服务器配置), if it is signed by our token."""
        self._signed(query)
        return query.get("echostr", "")

    def open(self, query: dict[str, str], body: bytes) -> Incoming:
        """Check the signature (and decrypt in safe mode); parse the message."""
        if self._crypto is None:
            self._signed(query)
            try:
                xml = body.decode("utf-8") if body else ""
            except UnicodeDecodeError:
                raise BadRequest(
                    "not UTF-8", code="malformed_xml", message="微信消息格式不正确"
                ) from None
            if "<Encrypt>" in xml and "<MsgType>" not in xml:
                raise BadRequest(
                    "encrypted message in plaintext mode",
                    code="wechat_mode_mismatch",
                    message="消息已加密，但服务器未配置 EncodingAESKey",
                )
        else:
            if "msg_signature" not in query:
                raise _forbidden(
                    "plaintext message in safe mode",
                    "wechat_plaintext_refused",
                    "安全模式下不接受明文消息",
                )
            check_fresh(query.get("timestamp", ""), window_s=self._window)
            try:
                xml = self._crypto.decrypt_message(
                    body, query["msg_signature"], query.get("timestamp", ""), query.get("nonce", "")
                )
            except InvalidSignatureException:
                raise _forbidden(
                    "bad msg_signature", "wechat_signature_invalid", "微信签名校验失败"
                ) from None
            except (InvalidAppIdException, ValueError, KeyError, TypeError):
                raise BadRequest(
                    "cannot decrypt", code="wechat_decrypt_failed", message="微信消息解密失败"
                ) from None
        return _incoming(xml)

    def reply(self, incoming: Incoming, text: str, *, nonce: str) -> str:
        """Our answer as WeChat expects it: a text reply, encrypted in safe mode."""
        xml = TextReply(source=incoming.account, target=incoming.openid, content=text).render()
        if self._crypto is None:
            return str(xml)
        return str(self._crypto.encrypt_message(xml, nonce, int(time.time())))


def _parsed(xml: str) -> Any:
    """wechatpy's message object, from a sender that looks like an openid."""
    try:
        message: Any = parse_message(xml)
    except Exception:  # xmltodict/expat errors, a missing MsgType: all mean malformed XML
        raise BadRequest(
            "malformed WeChat XML", code="malformed_xml", message="微信消息格式不正确"
        ) from None
    if message is None or not _OPENID.fullmatch(str(getattr(message, "source", "") or "")):
        raise BadRequest("bad FromUserName", code="malformed_xml", message="微信消息格式不正确")
    return message


def _incoming(xml: str) -> Incoming:
    message = _parsed(xml)
    openid, account = str(message.source), str(message.target or "")

    def made(key: str, kind: str, **rest: Any) -> Incoming:
        if "text" in rest:
            rest["text"] = _clean(rest["text"])
        return Incoming(openid=openid, account=account, key=key, kind=kind, **rest)

    created = int(message.create_time.timestamp()) if message.create_time else 0
    kind = str(message.type)
    if kind == "event":
        event = str(message.event)
        # A click names its menu key; a subscription through a QR code its scene.
        detail = getattr(message, "key", None) or getattr(message, "scene_id", None) or ""
        return made(f"{openid}|{created}|{event}", f"event:{event}", text=str(detail))
    key = str(message.id) if message.id else f"{openid}|{created}|{kind}"
    match kind:
        case "text":
            return made(key, kind, text=str(message.content or ""))
        case "image":
            return made(key, kind, media_id=_clean(str(message.media_id or ""))[:128])
        case "voice":
            return made(key, kind, text=str(message.recognition or ""))
        case "location":
            return made(key, kind, **_location(message))
    return made(key, kind)


_OPENID = re.compile(r"[A-Za-z0-9_-]{1,64}")  # WeChat's openids: 28 of these characters
# Control characters other than tab and newline: PostgreSQL refuses NUL in text, and none of
# them is anything a person typed.
_CONTROL = dict.fromkeys(c for c in range(32) if c not in (9, 10)) | {127: None}


def _clean(text: str) -> str:
    return text.translate(_CONTROL)


def _location(message: Any) -> dict[str, Any]:
    # WeChat sends the numbers as strings: Location_X is the latitude, Location_Y the longitude.
    try:
        lat, lon = float(message.location_x), float(message.location_y)
    except (TypeError, ValueError):
        raise BadRequest(
            "location is not a number", code="malformed_xml", message="位置格式不正确"
        ) from None
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise BadRequest("location out of range", code="malformed_xml", message="位置格式不正确")
    return {"lon": lon, "lat": lat, "label": _clean(str(message.label or ""))}
