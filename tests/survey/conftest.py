"""A city with the 公众号, the 小程序 and survey against the fake WeChat API, on a clock the
test sets (the case core's `now`: 结案 times and the survey's "now")."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from itertools import count
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from tortoise import timezone

from cases.deps import DEPS
from channels.wechat_oa.models import Follower
from core.auth.models import Citizen
from core.auth.service import citizen_identity, issue_token
from core.config import CityProfile, Settings
from core.demo import seed_demo
from core.jobs.models import OutboxItem, OutboxStatus
from core.web import create_app
from core.web.keys import GRIDS, RUNTIME
from survey.config import SurveyConfig
from survey.models import Survey
from tests.cases.helpers import City
from tests.channels.wechat_mp.conftest import MP_PROFILE, OA_APP_ID, Phone, mp_settings
from tests.channels.wechat_oa.conftest import TEMPLATES, run_due_jobs
from tests.channels.wechat_server import APP_SECRET, FakeWeChatAPI

TZ = ZoneInfo("Asia/Shanghai")
OA_SURVEY = {
    "template_id": "TPL_SURVEY",
    "data": {"character_string1": "{number}", "thing2": "{action}", "time3": "{time}"},
}
MP_SURVEY = {
    "template_id": "SUB_SURVEY",
    "data": {"character_string1": "{number}", "thing2": "{action}"},
}
SECRET = "test-survey-secret-0123456789abcdef"
MP_TEMPLATES: dict[str, Any] = dict(MP_PROFILE["templates"])  # type: ignore[call-overload]


def local(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    """A local (Asia/Shanghai) instant."""
    return dt.datetime(year, month, day, hour, minute, tzinfo=TZ)


@dataclass
class Clock:
    at: dt.datetime

    def __call__(self) -> dt.datetime:
        return self.at


@dataclass
class Town:
    """The city's server, the fake WeChat, a phone and the clock."""

    phone: Phone
    api: FakeWeChatAPI
    clock: Clock

    @property
    def client(self) -> TestClient[Any, Any]:
        return self.phone.client

    @property
    def city(self) -> Any:
        return self.phone.city

    async def advance(self, to: dt.datetime) -> int:
        """Move the clock and run whatever falls due by then (the rows' own wall-clock
        delays stand for the days in between)."""
        self.clock.at = to
        await OutboxItem.filter(status=OutboxStatus.PENDING).update(available_at=timezone.now())
        return await run_due_jobs(self.client)

    async def follower(self, name: str, union_id: str | None = None) -> tuple[int, dict[str, str]]:
        """A 公众号 follower (as a subscribe event makes one) and their token."""
        person = await citizen_identity(
            channel="wechat_oa", external_id=f"o{name:_<27}", union_id=union_id
        )
        await Follower.create(openid=person.external_id, citizen_id=person.id, subscribed=True)
        token, _ = await issue_token(citizen=person, ttl=dt.timedelta(days=30))
        return person.id, {"Authorization": f"Bearer {token}"}

    async def caller(self, number: str) -> tuple[int, dict[str, str]]:
        """A hotline caller (the number is their identity); the agent files for them."""
        person = await citizen_identity(channel="hotline", external_id=number)
        token, _ = await issue_token(citizen=person, ttl=dt.timedelta(days=30))
        return person.id, {"Authorization": f"Bearer {token}"}

    async def mp_report(self, who: dict[str, str]) -> int:
        """A report from the 小程序; the case id."""
        status, out = await self.phone.report(
            who,
            idempotency_key=uuid.uuid4().hex,
            location=await self.phone.gcj02(2),
            description="人行道上垃圾堆积",
        )
        assert status == 201, out
        return int(out["case_id"])

    async def report(self, who: dict[str, str], street: int = 2, **extra: Any) -> int:
        """A citizen's report through the centre's API; the case id."""
        status, out = await self.city.report(
            who, await self.city.point(street), "人行道上垃圾堆积", key=uuid.uuid4().hex, **extra
        )
        assert status == 201, out
        return int(out["case"]["id"])

    async def close(self, case_id: int, at: dt.datetime) -> None:
        """立案 → 派遣 → 处置 → 核查 → 结案, closed at `at` (a street 2 case)."""
        self.clock.at = at - dt.timedelta(hours=1)
        city = self.city
        await city.ok(case_id, "register", "acceptor", urgency="B", category_code="E06010")
        hw = await city.department("HW")
        await city.ok(case_id, "dispatch", "dispatcher", department_id=hw)
        photo = await city.photo(await city.login("handler_hw"))
        await city.ok(case_id, "handle", "handler_hw", note="已清理", attachments=[photo])
        await city.ok(case_id, "check-result", "inspector2", passed=True, note="已清理干净")
        self.clock.at = at
        await city.ok(case_id, "close", "acceptor", note="结案")
        await run_due_jobs(self.client)

    async def surveys(self, case_id: int) -> list[Survey]:
        return await Survey.filter(case_id=case_id).order_by("id")

    def token_of(self, url: str) -> str:
        return url.rsplit("/", 1)[1]


def survey_settings(
    settings: Settings, base: str, survey: dict[str, Any] | None = None, **config: Any
) -> Settings:
    configured = mp_settings(settings, base)
    profile = configured.profile.model_dump()
    profile["channels"] = {
        "wechat_oa": {"templates": {**TEMPLATES["templates"], "survey": OA_SURVEY}},
        "wechat_mp": {**MP_PROFILE, "templates": {**MP_TEMPLATES, "survey": MP_SURVEY}},
    }
    profile["survey"] = survey or {}
    oa = configured.package_configs["wechat_oa"].model_copy(
        update={"public_url": "https://city.example.cn"}
    )
    values: dict[str, Any] = {"public_url": "https://city.example.cn", "secret": SECRET, **config}
    return configured.model_copy(
        update={
            "package_configs": {
                **configured.package_configs,
                "wechat_oa": oa,
                "survey": SurveyConfig(**values),
            },
            "profile": CityProfile.model_validate(profile),
        }
    )


async def make_town(
    aiohttp_client: Any,
    settings: Settings,
    wechat_api: tuple[FakeWeChatAPI, str],
    survey: dict[str, Any] | None = None,
    **config: Any,
) -> Town:
    api, base = wechat_api
    api.apps[OA_APP_ID] = APP_SECRET
    configured = survey_settings(settings, base, survey, **config)
    client: TestClient[Any, Any] = await aiohttp_client(create_app(configured))
    logins = await seed_demo(configured)
    await client.app[GRIDS].refresh(force=True)
    city = City(client, configured, {u: p for u, p, _ in logins})
    phone = Phone(client, api, city, count(1))
    runtime = client.app[RUNTIME]
    clock = Clock(timezone.now())
    runtime[DEPS] = dataclasses.replace(runtime[DEPS], now=clock)
    return Town(phone, api, clock)


@pytest.fixture
async def town(
    aiohttp_client: Any, settings: Settings, wechat_api: tuple[FakeWeChatAPI, str]
) -> Town:
    return await make_town(aiohttp_client, settings, wechat_api)


@dataclass
class Gateway:
    """A city's SMS gateway, faked: what it was asked to send."""

    url: str
    sent: list[dict[str, Any]]
    status: list[int]


@pytest.fixture
async def sms_gateway() -> AsyncIterator[Gateway]:
    sent: list[dict[str, Any]] = []
    status = [200]

    async def send(request: web.Request) -> web.Response:
        assert request.headers.get("Authorization") == "Bearer sms-token"
        sent.append(await request.json())
        return web.json_response({"ok": status[0] == 200}, status=status[0])

    app = web.Application()
    app.router.add_post("/sms/send", send)
    server = TestServer(app)
    await server.start_server()
    yield Gateway(str(server.make_url("/sms/send")), sent, status)
    await server.close()


__all__ = ["Citizen", "Clock", "Gateway", "Town", "local", "make_town"]
