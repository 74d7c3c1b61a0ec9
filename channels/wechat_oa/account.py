"""The 公众号 as the running process holds it: settings, profile section, protocol, client."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field

from pydantic import SecretStr

from channels.wechat import WeChatClient
from channels.wechat_oa.config import OAConfig, OAProfile
from channels.wechat_oa.protocol import WeChatProtocol
from core.jobs.registry import RetryAfter
from core.runtime import Runtime, ServiceKey


@dataclass
class OfficialAccount:
    """One configured account; its client is built once the runtime's HTTP session is open."""

    config: OAConfig
    app_id: str
    app_secret: SecretStr
    profile: OAProfile
    protocol: WeChatProtocol
    base_url: str  # where citizens' phones reach this server
    _client: WeChatClient | None = field(default=None, repr=False)

    def client(self, runtime: Runtime) -> WeChatClient:
        """The API client on the runtime's shared session and key-value store."""
        if self._client is None:
            self._client = WeChatClient.on(
                runtime,
                app_id=self.app_id,
                app_secret=self.app_secret,
                api_base=self.config.api_base,
                timeout_s=self.config.api_timeout_s,
            )
        return self._client

    def _signature(self, case_id: int, citizen_id: int) -> str:
        key = hashlib.sha256(b"cityloop case page|" + self.app_secret.get_secret_value().encode())
        message = f"{case_id}:{citizen_id}".encode()
        return hmac.new(key.digest(), message, hashlib.sha256).hexdigest()[:32]

    def case_link(self, case_id: int, citizen_id: int) -> str:
        """The case page of one citizen's case, signed so that only the link opens it."""
        sig = self._signature(case_id, citizen_id)
        return f"{self.base_url}/wechat/oa/cases/{case_id}?c={citizen_id}&s={sig}"

    def link_valid(self, case_id: int, citizen_id: int, sig: str) -> bool:
        """Whether a case page link was made by case_link."""
        return hmac.compare_digest(self._signature(case_id, citizen_id), sig)


OA: ServiceKey[OfficialAccount] = ServiceKey("wechat_oa.account", OfficialAccount)


def account_of(runtime: Runtime) -> OfficialAccount:
    """The account of this process; a job of a process where the 公众号 is off waits (its
    handler may be known to a process that imported it for another runtime, as tests do)."""
    if OA not in runtime:
        raise RetryAfter(600, "the 公众号 is not enabled in this process", counts=False)
    return runtime[OA]
