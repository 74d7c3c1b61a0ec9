"""Text messages to reporters reachable only by phone: a small provider interface.

A city plugs its SMS gateway in with CITYLOOP_SURVEY_SMS_PROVIDER = "module:attribute" (a
class taking the SurveyConfig, or an object). `LoggingSms`, the default, sends nothing and
logs a masked line; `HttpSms` posts JSON to a gateway (`{"phone", "text", "key"}` with a
bearer token; 2xx sent, 4xx the number cannot be reached, anything else is retried).
"""

from __future__ import annotations

import importlib
import logging
from typing import TYPE_CHECKING, Protocol, runtime_checkable

import aiohttp

from core.errors import ConfigError
from core.messaging import Reach
from core.privacy import mask_phone

if TYPE_CHECKING:
    from core.jobs.registry import JobContext
    from survey.config import SurveyConfig

log = logging.getLogger(__name__)


@runtime_checkable
class SmsProvider(Protocol):
    """Send one text message; the key is the same on a retry of the same message."""

    async def send(self, ctx: JobContext, *, phone: str, text: str, key: str) -> tuple[Reach, str]:
        """Send it, or say why it cannot reach the number; raise to be retried later."""
        ...


class LoggingSms:
    """Sends nothing: logs that it would have (the number masked, not the words)."""

    def __init__(self, config: SurveyConfig | None = None) -> None:
        self.config = config

    async def send(self, ctx: JobContext, *, phone: str, text: str, key: str) -> tuple[Reach, str]:
        """Log the message instead of sending it."""
        log.info(
            "SMS (logging provider) to %s: %d characters, key %s", mask_phone(phone), len(text), key
        )
        return Reach.SENT, "短信（仅记录，未接入短信平台）"


class HttpSms:
    """An HTTP JSON SMS gateway (CITYLOOP_SURVEY_SMS_URL, CITYLOOP_SURVEY_SMS_TOKEN)."""

    def __init__(self, config: SurveyConfig) -> None:
        if not config.sms_url:
            raise ConfigError("CITYLOOP_SURVEY_SMS_URL: needed by survey.sms:HttpSms")
        self.url = config.sms_url
        self.token = config.sms_token

    async def send(self, ctx: JobContext, *, phone: str, text: str, key: str) -> tuple[Reach, str]:
        """Post the message; a 4xx means this number will not be reached."""
        if ctx.http is None:
            raise RuntimeError("no HTTP session in this process")
        headers = {"Authorization": f"Bearer {self.token.get_secret_value()}"} if self.token else {}
        timeout = aiohttp.ClientTimeout(total=10)
        body = {"phone": phone, "text": text, "key": key}
        async with ctx.http.post(self.url, json=body, headers=headers, timeout=timeout) as reply:
            if 200 <= reply.status < 300:
                return Reach.SENT, "短信已发送"
            if 400 <= reply.status < 500:
                return Reach.UNREACHABLE, f"短信平台拒绝（HTTP {reply.status}）"
            reply.raise_for_status()
            raise RuntimeError(f"SMS gateway answered {reply.status}")


def load_provider(config: SurveyConfig) -> SmsProvider:
    """The provider the settings name; ConfigError if it cannot be imported or is not one."""
    module, _, attr = config.sms_provider.partition(":")
    try:
        found = getattr(importlib.import_module(module), attr)
    except (ImportError, AttributeError, ValueError) as err:
        raise ConfigError(
            f"CITYLOOP_SURVEY_SMS_PROVIDER: cannot import {config.sms_provider!r}: {err}"
        ) from err
    provider = found(config) if isinstance(found, type) else found
    if not isinstance(provider, SmsProvider):
        raise ConfigError(f"CITYLOOP_SURVEY_SMS_PROVIDER: {config.sms_provider} is no SmsProvider")
    return provider
