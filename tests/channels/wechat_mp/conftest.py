"""The 小程序's API against the fake WeChat API, in a seeded demo city, over real HTTP."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import count
from typing import Any

import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient

from channels.wechat_mp.config import MPConfig
from channels.wechat_oa.config import OAConfig
from core.config import CityProfile, Settings
from core.demo import seed_demo
from core.geo import wgs84_to_gcj02
from core.web import create_app
from core.web.keys import GRIDS
from tests.cases.helpers import City, grid_point, jpeg
from tests.channels.wechat_oa.conftest import Chat
from tests.channels.wechat_server import APP_ID, APP_SECRET, TOKEN, FakeWeChatAPI, WeChatServer

PUSH_TOKEN = "mppushtoken"
OA_APP_ID = "wxoa0000000000002"  # the city's 公众号, the same 开放平台 account
MP_PROFILE = {
    "templates": {
        "default": {
            "template_id": "SUB_PROGRESS",
            "data": {"character_string1": "{number}", "phrase2": "{status}", "time3": "{time}"},
        }
    },
    "icons": {"06": "garbage"},
}


@dataclass
class Phone:
    """A mini-program on a citizen's phone, with WeChat's servers faked behind ours."""

    client: TestClient[Any, Any]
    api: FakeWeChatAPI
    city: City
    _codes: Any

    async def login(self, openid: str = "oMP_citizen_000000000000001") -> dict[str, str]:
        code = f"code{next(self._codes)}"
        self.api.login_codes[code] = openid
        r = await self.client.post("/api/v1/mp/login", json={"code": code})
        assert r.status == 200, await r.text()
        return {"Authorization": f"Bearer {(await r.json())['token']}"}

    async def photo(self, who: dict[str, str], colour: tuple[int, int, int] = (90, 140, 60)) -> int:
        form = FormData()
        form.add_field("file", jpeg(colour), filename="p.jpg", content_type="image/jpeg")
        r = await self.client.post("/api/v1/media", data=form, headers=who)
        assert r.status == 201, await r.text()
        return int((await r.json())["id"])

    async def gcj02(self, street: int = 2, east_m: float = 0.0) -> dict[str, Any]:
        p = await grid_point(self.city.settings, street, east_m=east_m)
        lon, lat = wgs84_to_gcj02(p["lon"], p["lat"])
        return {"lon": lon, "lat": lat, "crs": "gcj02"}

    async def report(self, who: dict[str, str], **body: Any) -> tuple[int, Any]:
        r = await self.client.post("/api/v1/mp/reports", json=body, headers=who)
        return r.status, await r.json()


def mp_settings(settings: Settings, base: str, **extra: Any) -> Settings:
    """The test's settings with the 小程序 (and the 公众号, for one-person tests) configured."""
    mp = MPConfig(
        app_id=APP_ID,
        app_secret=APP_SECRET,
        api_base=base,
        api_timeout_s=1.0,
        token=PUSH_TOKEN,
        public_url="https://city.example.cn",
        **extra,
    )
    oa = OAConfig(app_id=OA_APP_ID, app_secret=APP_SECRET, token=TOKEN, api_base=base)
    profile = settings.profile.model_dump()
    profile["channels"] = {"wechat_mp": MP_PROFILE}
    return settings.model_copy(
        update={
            "package_configs": {**settings.package_configs, "wechat_mp": mp, "wechat_oa": oa},
            "profile": CityProfile.model_validate(profile),
        }
    )


async def make_phone(
    aiohttp_client: Any, settings: Settings, wechat_api: tuple[FakeWeChatAPI, str], **extra: Any
) -> Phone:
    api, base = wechat_api
    api.apps[OA_APP_ID] = APP_SECRET
    configured = mp_settings(settings, base, **extra)
    client: TestClient[Any, Any] = await aiohttp_client(create_app(configured))
    logins = await seed_demo(configured)
    await client.app[GRIDS].refresh(force=True)
    city = City(client, configured, {u: p for u, p, _ in logins})
    return Phone(client, api, city, count(1))


@pytest.fixture
async def phone(
    aiohttp_client: Any, settings: Settings, wechat_api: tuple[FakeWeChatAPI, str]
) -> Phone:
    return await make_phone(aiohttp_client, settings, wechat_api)


def oa_chat(phone: Phone, openid: str) -> Chat:
    """The 公众号 of the same city, for the same person."""
    return Chat(phone.client, phone.api, WeChatServer(safe=False), phone.city, openid=openid)
