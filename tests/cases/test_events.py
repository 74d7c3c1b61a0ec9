"""Case events (cases/events.py): every timeline row is an event; notices are its subscribers;
a report's source comes from the reporter's identity; replay restores what was lost."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

from cases.models import CaseEvent
from core.auth.service import citizen_identity, issue_token
from core.jobs.models import OutboxItem
from tests.cases.helpers import City


def _cli(city: City, *args: str) -> str:
    """Run `cityloop ARGS` on the test's database, as an operator would; return its output."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITYLOOP_")}
    env |= {"CITYLOOP_DATABASE_URL": city.settings.database_url, "CITYLOOP_LOG_LEVEL": "ERROR"}
    done = subprocess.run(
        [sys.executable, "-m", "core.cli", *args], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


async def _citizen(channel: str, openid: str) -> tuple[int, dict[str, str]]:
    person = await citizen_identity(channel=channel, external_id=openid)
    token, _ = await issue_token(citizen=person, ttl=dt.timedelta(hours=1))
    return person.id, {"Authorization": f"Bearer {token}"}


async def _notices(case_id: int) -> list[tuple[str, str, int]]:
    rows = await OutboxItem.filter(kind__startswith="notify.").order_by("id")
    return [
        (r.kind, str(r.payload.get("action")), int(r.payload.get("citizen_id") or 0))
        for r in rows
        if r.payload.get("case_id") == case_id and r.kind != "notify.staff"
    ]


async def test_a_mini_program_citizens_notices_go_to_the_mini_program(city: City) -> None:
    citizen, who = await _citizen("wechat_mp", "oMP_citizen_000000000000000")
    where = await city.point(2)
    status, out = await city.report(who, where, "人行道上井盖丢了")
    assert status == 201, out
    assert out["case"]["source"] == "wechat_mp"
    case_id = out["case"]["id"]
    await city.ok(case_id, "register", "acceptor", category_code="E01003")
    # 立案 of a new report is its 受理 too (a row of its own); the citizen hears of the 立案.
    assert await _notices(case_id) == [("notify.wechat_mp", "register", citizen)]
    # A second reporter through the 公众号 hears through the 公众号, of the same move.
    oa_citizen, oa = await _citizen("wechat_oa", "oOA_citizen_000000000000000")
    status, joined = await city.report(oa, where, "这里井盖没了", category_code="E01003")
    assert (status, joined["merged"]) == (201, True)
    await city.ok(case_id, "dispatch", "dispatcher")
    assert (await _notices(case_id))[1:] == [
        ("notify.wechat_mp", "dispatch", citizen),
        ("notify.wechat_oa", "dispatch", oa_citizen),
    ]


async def test_a_staff_members_reports_take_their_client_else_their_role(city: City) -> None:
    where = await city.point(1)
    r = await city.client.post(
        "/api/v1/auth/login",
        json={"username": "agent", "password": city.passwords["agent"], "client": "web"},
    )
    web_agent = {"Authorization": f"Bearer {(await r.json())['token']}"}
    me = await (await city.client.get("/api/v1/auth/me", headers=web_agent)).json()
    assert me["client"] == "web"
    _, out = await city.report(web_agent, where, "来电：路灯不亮")
    assert out["case"]["source"] == "web"  # the agent used the web console
    _, out = await city.report(await city.login("agent"), where, "来电：路面破损")
    assert out["case"]["source"] == "hotline"  # no client named: the role decides
    _, out = await city.report(await city.login("inspector1"), where, "垃圾堆放")
    assert out["case"]["source"] == "grid_app"
    bad = await city.client.post(
        "/api/v1/auth/login",
        json={"username": "agent", "password": city.passwords["agent"], "client": "video"},
    )
    assert bad.status == 422


async def test_replay_restores_a_lost_notice_once(city: City) -> None:
    citizen, who = await _citizen("wechat_oa", "oOA_replay_0000000000000000")
    _, out = await city.report(who, await city.point(3), "路边垃圾没人清理")
    case_id = out["case"]["id"]
    await city.ok(case_id, "register", "acceptor", category_code="E06010")
    lost = await OutboxItem.get(kind="notify.wechat_oa")
    await OutboxItem.filter(id=lost.id).delete()  # say, a restore from an older backup
    event = await CaseEvent.get(case_id=case_id, action="register")
    since = (event.created_at - dt.timedelta(seconds=1)).isoformat()
    said = _cli(
        city, "events", "replay", "--since", since, "--subscriber", "cases.reporter_notices"
    )
    assert ": 1 new outbox rows" in said
    told = [("notify.wechat_oa", "register", citizen)]
    assert await _notices(case_id) == told
    assert ": 0 new outbox rows" in _cli(city, "events", "replay", "--since", since)  # again
    assert await _notices(case_id) == told
