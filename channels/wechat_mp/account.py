"""The 小程序 as the running process holds it: settings, profile section, API client."""

from __future__ import annotations

from dataclasses import dataclass, field

from pydantic import SecretStr

from channels.wechat.miniprogram import MiniProgramClient
from channels.wechat_mp.config import MPConfig, MPProfile
from core.jobs.registry import RetryAfter
from core.runtime import Runtime, ServiceKey


@dataclass
class MiniProgram:
    """One configured 小程序; its client is built once the HTTP session is open."""

    config: MPConfig
    app_id: str
    app_secret: SecretStr
    profile: MPProfile
    base_url: str  # where WeChat reaches this server (photos for the content check)
    _client: MiniProgramClient | None = field(default=None, repr=False)

    def client(self, runtime: Runtime) -> MiniProgramClient:
        """The API client on the runtime's shared session and key-value store."""
        if self._client is None:
            self._client = MiniProgramClient.on(
                runtime,
                app_id=self.app_id,
                app_secret=self.app_secret,
                api_base=self.config.api_base,
                timeout_s=self.config.api_timeout_s,
            )
        return self._client


MP: ServiceKey[MiniProgram] = ServiceKey("wechat_mp.account", MiniProgram)


def program_of(runtime: Runtime) -> MiniProgram:
    """The 小程序 of this process; a job where it is off waits (see wechat_oa.account_of)."""
    if MP not in runtime:
        raise RetryAfter(600, "the 小程序 is not enabled in this process", counts=False)
    return runtime[MP]
