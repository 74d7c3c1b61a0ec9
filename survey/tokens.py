"""Answer links: a signed, expiring token that names one survey (used once: see answers.py).

`1.<survey id>.<nonce>.<expiry, unix seconds>.<signature>`: the signature is an HMAC-SHA256
over the rest with the survey key, so a changed id, nonce or expiry is refused without a
database read; the nonce must still be the survey's own.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from dataclasses import dataclass

from core.errors import BadRequest, CityloopError
from survey.const import TOKEN_VERSION

SIGNATURE_BYTES = 18  # 144 bits: forging one is hopeless, and the link stays short
MAX_TOKEN = 120


class TokenExpired(CityloopError):
    status = 410
    code = "survey_expired"
    message = "该回访已过期，感谢您的关注"


@dataclass(frozen=True)
class Token:
    """What a valid token names."""

    survey_id: int
    nonce: str
    expires_at: dt.datetime


def _sign(key: bytes, body: str) -> str:
    digest = hmac.new(key, body.encode(), hashlib.sha256).digest()[:SIGNATURE_BYTES]
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def make(key: bytes, *, survey_id: int, nonce: str, expires_at: dt.datetime) -> str:
    """The token of one survey's answer link."""
    body = f"{TOKEN_VERSION}.{survey_id}.{nonce}.{int(expires_at.timestamp())}"
    return f"{body}.{_sign(key, body)}"


def read(key: bytes, token: str, *, now: dt.datetime) -> Token:
    """The survey a token names; BadRequest if it was not made by us, TokenExpired if late."""
    parts = token.split(".")
    if len(token) > MAX_TOKEN or len(parts) != 5 or parts[0] != TOKEN_VERSION:
        raise invalid()
    body, signature = ".".join(parts[:4]), parts[4]
    if not hmac.compare_digest(_sign(key, body), signature):
        raise invalid()
    _, survey_id, nonce, expires = parts[:4]
    if not (survey_id.isdigit() and expires.isdigit()):
        raise invalid()
    expires_at = dt.datetime.fromtimestamp(int(expires), dt.UTC)
    if now >= expires_at:
        raise TokenExpired(f"survey {survey_id} expired")
    return Token(int(survey_id), nonce, expires_at)


def invalid() -> BadRequest:
    """The error of a link we did not make (or that names no survey of ours)."""
    return BadRequest(
        "survey token invalid", code="token_invalid", message="链接无效，请核对后再试"
    )
