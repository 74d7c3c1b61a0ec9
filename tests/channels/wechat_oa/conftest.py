"""The 公众号 against the fake WeChat API, in a seeded demo city, over real HTTP."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from tortoise import timezone

from channels.wechat_oa.config import OAConfig
from core.config import CityProfile, Settings
from core.demo import seed_demo
from core.geo import wgs84_to_gcj02
from core.jobs import outbox
from core.jobs.models import OutboxItem, OutboxStatus
from core.jobs.queues import LocalQueue
from core.jobs.registry import JobContext
from core.web import create_app
from core.web.keys import GRIDS, RUNTIME
from tests.cases.helpers import City, grid_point
from tests.channels.wechat_server import (
    AES_KEY,
    APP_ID,
    APP_SECRET,
    TOKEN,
    FakeWeChatAPI,
    WeChatServer,
)

TEMPLATES = {
    "templates": {
        "default": {
            "template_id": "TPL_PROGRESS",
            "data": {
                "character_string1": "{number}",
                "thing2": "{category}",
                "phrase3": "{status}",
                "time4": "{time}",
            },
        }
    }
}


def oa_settings(
    settings: Settings, api_base: str, *, safe: bool, templates: bool = True, **extra: Any
) -> Settings:
    """The test's settings with the 公众号 configured against the fake API."""
    config = OAConfig(
        app_id=APP_ID,
        app_secret=APP_SECRET,
        token=TOKEN,
        aes_key=AES_KEY if safe else None,
        api_base=api_base,
        api_timeout_s=1.0,
        public_url="https://city.example.cn",
        **extra,
    )
    profile = settings.profile.model_dump()
    profile["channels"] = {"wechat_oa": TEMPLATES if templates else {}}
    return settings.model_copy(
        update={
            "package_configs": {**settings.package_configs, "wechat_oa": config},
            "profile": CityProfile.model_validate(profile),
        }
    )


@dataclass
class Chat:
    """A citizen's phone, WeChat's servers and our server, in one test."""

    client: TestClient[Any, Any]
    api: FakeWeChatAPI
    wechat: WeChatServer
    city: City
    openid: str = "oCitizen_0001"
    replies: list[str] = field(default_factory=list)

    async def post(self, xml: str, *, timestamp: int | None = None) -> tuple[int, str]:
        """WeChat's POST of one message; the status and what the citizen reads."""
        query, body = self.wechat.signed(xml, timestamp=timestamp)
        r = await self.client.post("/wechat/oa", params=query, data=body)
        text = await r.text()
        if r.status != 200:
            return r.status, text
        read = self.wechat.reply_text(text, query)
        self.replies.append(read)
        return r.status, read

    async def say(self, content: str, **kw: Any) -> str:
        status, text = await self.post(
            self.wechat.message(self.openid, "text", Content=content, **kw)
        )
        assert status == 200, text
        return text

    async def photo(self, media_id: str) -> str:
        xml = self.wechat.message(
            self.openid, "image", PicUrl="http://mmbiz.qpic.cn/x", MediaId=media_id
        )
        status, text = await self.post(xml)
        assert status == 200, text
        return text

    async def location(self, lon: float, lat: float, label: str = "") -> str:
        # WeChat gives GCJ-02, latitude as Location_X, longitude as Location_Y, as strings.
        xml = self.wechat.message(
            self.openid,
            "location",
            Location_X=f"{lat:.6f}",
            Location_Y=f"{lon:.6f}",
            Scale="15",
            Label=label,
        )
        status, text = await self.post(xml)
        assert status == 200, text
        return text

    async def event(self, event: str, **fields: Any) -> str:
        status, text = await self.post(self.wechat.event(self.openid, event, **fields))
        assert status == 200, text
        return text

    async def place(self, street: int = 2) -> tuple[float, float]:
        """A GCJ-02 point (as WeChat would send it) inside a demo grid of this street."""
        p = await grid_point(self.city.settings, street)
        return wgs84_to_gcj02(p["lon"], p["lat"])

    async def run_jobs(self, kinds: set[str] | None = None) -> int:
        """Run every due outbox row (see run_due_jobs)."""
        return await run_due_jobs(self.client, kinds)


async def run_due_jobs(client: TestClient[Any, Any], kinds: set[str] | None = None) -> int:
    """Run every due outbox row of the app (on SQLite the app also runs them itself; on Redis
    no worker runs in tests): return how many ran."""
    runtime = client.app[RUNTIME]
    ran = 0
    for _ in range(20):
        if isinstance(runtime.queue, LocalQueue):
            await runtime.queue.drain()
        query = OutboxItem.filter(status=OutboxStatus.PENDING, available_at__lte=timezone.now())
        if kinds:
            query = query.filter(kind__in=list(kinds))
        ids: list[Any] = list(await query.order_by("id").values_list("id", flat=True))
        if not ids:
            return ran
        for outbox_id in ids:
            await outbox.run_item(int(outbox_id), context=JobContext(runtime, 0, 0), lease_s=60)
            ran += 1
    return ran


async def make_chat(
    aiohttp_client: Any,
    settings: Settings,
    wechat_api: tuple[FakeWeChatAPI, str],
    *,
    safe: bool,
    **kw: Any,
) -> Chat:
    api, base = wechat_api
    configured = oa_settings(settings, base, safe=safe, **kw)
    client: TestClient[Any, Any] = await aiohttp_client(create_app(configured))
    logins = await seed_demo(configured)
    await client.app[GRIDS].refresh(force=True)
    api.media["MEDIA_PHOTO_1"] = (_jpeg(), "image/jpeg")
    city = City(client, configured, {u: p for u, p, _ in logins})
    return Chat(client, api, WeChatServer(safe=safe), city)


def _jpeg() -> bytes:
    from tests.cases.helpers import jpeg

    return jpeg()


@pytest.fixture(params=[False, True], ids=["plaintext", "safe-mode"])
async def chat(
    request: pytest.FixtureRequest,
    aiohttp_client: Any,
    settings: Settings,
    wechat_api: tuple[FakeWeChatAPI, str],
) -> Chat:
    """The 公众号 in plaintext mode and in safe mode (every test using it runs twice)."""
    return await make_chat(aiohttp_client, settings, wechat_api, safe=request.param)


@pytest.fixture
async def plain_chat(
    aiohttp_client: Any, settings: Settings, wechat_api: tuple[FakeWeChatAPI, str]
) -> Chat:
    """The 公众号 in plaintext mode only (for tests where the mode does not matter)."""
    return await make_chat(aiohttp_client, settings, wechat_api, safe=False)


def hours_ago(hours: float) -> dt.datetime:
    return timezone.now() - dt.timedelta(hours=hours)
