"""Regressions of the review fixes: deadlines in UTC, cases known by address only, accept once,
bad input answered 4xx, staff notices, paged tasks, extensions in their own unit, Redis down."""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from pydantic import SecretStr
from tortoise import connections

from cases import (
    Action,
    CaseStatus,
    Deps,
    IntakeDraft,
    Location,
    Reporter,
    Request,
    Source,
    submit,
    transition,
)
from cases.const import Urgency
from cases.jobs import mark_overdue_now
from cases.models import Case, CaseEvent, InspectorTask
from cases.policy import load_policy
from cases.views import DISPATCH, POLICY
from core.auth.models import Staff
from core.auth.service import Principal
from core.calendar import TimeUnit, WorkCalendar
from core.config import CityProfile, Settings
from core.demo import seed_demo
from core.jobs.models import OutboxItem
from core.org.service import GridCache
from core.web import create_app
from core.web.keys import CALENDAR, GRIDS
from tests.cases.helpers import City, actions, grid_point

CST = dt.timezone(dt.timedelta(hours=8))
CASES = "/api/v1/cases"


def _fields(err: dict[str, Any]) -> list[str]:
    return [str(f["field"]) for f in err.get("fields", [])]


def _app_deps(city: City, now: Callable[[], dt.datetime]) -> Deps:
    """The running app's case dependencies, on another clock and without a queue."""
    app = city.client.app
    return Deps(app[POLICY], app[CALENDAR], app[DISPATCH], None, app[GRIDS], now=now)


async def _inspector_report(
    deps: Deps, settings: Settings, street: int, category: str, urgency: Urgency | None = None
) -> Case:
    """An inspector's report through the one door: filed and dispatched at once."""
    inspector = await Staff.get(username=f"inspector{street}")
    draft = IntakeDraft(
        source=Source.GRID_APP,
        idempotency_key=uuid.uuid4().hex,
        reporter=Reporter(staff_id=inspector.id),
        category_code=category,
        description="巡查发现消防通道有车辆违停",
        location=Location(**await grid_point(settings, street)),
        urgency=urgency,
    )
    result = await submit(draft, deps=deps)
    assert result.case.status == CaseStatus.DISPATCHED
    return await Case.get(id=result.case.id)


async def _ids(city: City, **params: Any) -> list[int]:
    status, out = await city.get(CASES, "shift_lead", **params)
    assert status == 200, out
    return [int(c["id"]) for c in out["items"]]


# --- deadlines and filters in UTC ------------------------------------------------------------


async def test_a_case_late_since_days_is_flagged_listed_and_filtered_by_local_instants(
    city: City,
) -> None:
    real_now = dt.datetime.now(dt.UTC)
    cal = city.client.app[CALENDAR]
    # Three days ago in Shanghai time; further back if holidays put its deadline ahead of now.
    start = (real_now - dt.timedelta(days=3)).astimezone(CST)
    while cal.deadline(start, 2, TimeUnit.WORK_HOUR) > real_now - dt.timedelta(minutes=5):
        start -= dt.timedelta(days=1)
    case = await _inspector_report(_app_deps(city, lambda: start), city.settings, 1, "E09009")
    # 机动车乱停放, class B: 2 工作时 to handle, long past by the real clock.
    assert (case.stage, case.stage_unit, case.stage_limit_s) == ("handle", "work_hour", 7200)
    assert case.deadline_at is not None and case.deadline_at < real_now

    written = await mark_overdue_now()
    assert len(written) == 1
    assert (await Case.get(id=case.id)).overdue
    assert await _ids(city, light="red") == [case.id]
    assert await _ids(city, overdue="true") == [case.id]

    # A desk in Shanghai filters by its own clock: +08:00 instants either side of creation.
    before = (case.created_at - dt.timedelta(seconds=1)).astimezone(CST).isoformat()
    after = (case.created_at + dt.timedelta(seconds=1)).astimezone(CST).isoformat()
    assert "+08:00" in before
    assert await _ids(city, created_from=before) == [case.id]
    assert await _ids(city, created_from=after) == []
    assert await _ids(city, created_to=after) == [case.id]

    if city.settings.database_url.startswith("sqlite"):
        # SQLite compares these columns as text: every instant is written in UTC.
        rows = await connections.get("default").execute_query_dict(
            'SELECT deadline_at, warn_at, stage_started_at, created_at FROM "case" WHERE id = ?',
            [case.id],
        )
        assert all(str(v).endswith("+00:00") for v in rows[0].values()), rows


async def test_a_deadline_two_hours_ago_is_late(city: City) -> None:
    # Hours ago, not days: a deadline kept in +08:00 text would read as six hours ahead.
    start = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=3)).astimezone(CST)
    deps = _app_deps(city, lambda: start)
    # 机动车乱停放, class A: 1 小时 on the wall clock.
    case = await _inspector_report(deps, city.settings, 2, "E09009", urgency=Urgency.A)
    assert (case.stage_unit, case.stage_limit_s) == ("hour", 3600)

    assert len(await mark_overdue_now()) == 1
    assert await _ids(city, light="red") == [case.id]
    assert await _ids(city, overdue="true") == [case.id]
    assert await _ids(city, light="green") == []


# --- a case known only by its address ------------------------------------------------------


async def test_an_address_only_hotline_case_closes_without_a_check(city: City) -> None:
    agent = await city.login("agent")
    status, out = await city.report(
        agent,
        None,
        "市民来电：解放路12号门口垃圾堆积",
        address="解放路12号",
        category_code="E06010",
    )
    assert status == 201, out
    case = out["case"]
    cid = case["id"]
    assert (case["source"], case["status"], case["grid_id"]) == ("hotline", "reported", None)

    # No grid, no inspector: 核实 cannot be sent.
    status, err = await city.act(cid, "verify", "acceptor")
    assert (status, err.get("code")) == (422, "no_grid")

    await city.ok(cid, "register", "acceptor")
    hw = await city.department("HW")
    dispatched = await city.ok(cid, "dispatch", "dispatcher", department_id=hw)
    assert (dispatched["status"], dispatched["department_id"]) == ("dispatched", hw)
    photo = await city.photo(await city.login("handler_hw"))
    handled = await city.ok(cid, "handle", "handler_hw", note="已清理", attachments=[photo])
    assert handled["status"] == "handled"
    closed = await city.ok(cid, "close", "acceptor", note="电话回访，已清理")
    assert closed["status"] == "closed"

    assert await actions(cid) == ["report", "register", "dispatch", "handle", "close"]
    assert await InspectorTask.filter(case_id=cid).count() == 0
    status, err = await city.act(cid, "check", "acceptor")
    assert status == 409, err  # closed now; nothing to check


# --- accept once -----------------------------------------------------------------------------


async def test_a_report_is_accepted_once(city: City) -> None:
    agent = await city.login("agent")
    status, out = await city.report(agent, await city.point(3), "市民来电：路边垃圾没人清")
    assert status == 201, out
    cid = out["case"]["id"]
    assert (out["case"]["status"], out["case"]["stage"]) == ("reported", "accept")

    accepted = await city.ok(cid, "accept", "acceptor")
    assert (accepted["status"], accepted["stage"]) == ("reported", "register")
    status, err = await city.act(cid, "accept", "shift_lead")
    assert (status, err.get("code")) == (409, "already_accepted")
    assert await actions(cid) == ["report", "accept"]


# --- a citizen does not choose the class of their case ---------------------------------------


async def test_a_citizens_urgency_is_ignored_and_an_agents_is_kept(city: City) -> None:
    citizen = await city.citizen("hurry")
    status, out = await city.report(citizen, await city.point(1), "门口有垃圾", urgency="A")
    assert status == 201, out
    assert out["case"]["urgency"] == "B"

    agent = await city.login("agent")
    status, out = await city.report(agent, await city.point(4), "市民来电：井盖丢了", urgency="A")
    assert status == 201, out
    assert (out["case"]["source"], out["case"]["urgency"]) == ("hotline", "A")


# --- bad input is 4xx, never 500 -------------------------------------------------------------


async def test_ids_beyond_their_columns_are_not_found(city: City) -> None:
    status, err = await city.get(f"{CASES}/99999999999999999999", "acceptor")
    assert (status, err.get("code")) == (404, "not_found")
    status, err = await city.get("/api/v1/media/99999999999", "acceptor")
    assert (status, err.get("code")) == (404, "not_found")

    status, err = await city.get(CASES, "acceptor", department_id="99999999999")
    assert status == 422, err
    assert _fields(err) == ["department_id"]

    status, err = await city.report(
        await city.citizen(), await city.point(1), "门口有垃圾", attachments=[99999999999]
    )
    assert status == 422, err
    assert any(f.startswith("attachments") for f in _fields(err)), err
    assert await Case.all().count() == 0


async def test_an_instant_before_year_one_in_utc_is_refused(city: City) -> None:
    status, err = await city.report(
        await city.citizen(),
        await city.point(1),
        "门口有垃圾",
        occurred_at="0001-01-01T00:00:00+14:00",
    )
    assert status == 422, err
    assert _fields(err) == ["occurred_at"]


async def test_a_far_instant_is_refused(city: City) -> None:
    status, err = await city.report(
        await city.citizen(),
        await city.point(1),
        "门口有垃圾",
        occurred_at="1900-01-01T00:00:00+08:00",
    )
    assert status == 422, err
    assert _fields(err) == ["occurred_at"]
    status, err = await city.get(CASES, "acceptor", created_from="2200-01-01T00:00:00+08:00")
    assert status == 422, err
    assert _fields(err) == ["created_from"]


async def test_a_nesting_bomb_is_malformed_json(city: City) -> None:
    r = await city.client.post(
        "/api/v1/auth/login",
        data="[" * 100_000,
        headers={"Content-Type": "application/json"},
    )
    assert r.status == 400, await r.text()
    assert (await r.json())["code"] == "malformed_json"


async def test_a_multipart_body_without_its_boundary_is_a_bad_request(city: City) -> None:
    body = (
        b"--not-the-boundary\r\n"
        b'Content-Disposition: form-data; name="file"; filename="a.jpg"\r\n'
        b"Content-Type: image/jpeg\r\n\r\n"
        b"\xff\xd8\xff\xe0 not much of a photo\r\n"
        b"--not-the-boundary--\r\n"
    )
    headers = {
        **await city.login("inspector1"),
        "Content-Type": "multipart/form-data; boundary=xyz",
    }
    r = await city.client.post("/api/v1/media", data=body, headers=headers)
    assert r.status == 400, await r.text()


async def test_a_dispatch_rule_needs_a_real_grid_or_an_area(city: City) -> None:
    shift_lead = await city.login("shift_lead")
    hw = await city.department("HW")
    rule = {"category_code": "E06010", "department_id": hw}
    r = await city.client.post(
        "/api/v1/dispatch-rules", json={**rule, "grid_id": 999_999}, headers=shift_lead
    )
    assert r.status == 422, await r.text()
    assert "grid_id" in _fields(await r.json())
    r = await city.client.post("/api/v1/dispatch-rules", json=rule, headers=shift_lead)
    assert r.status == 422, await r.text()
    _, rules = await city.get("/api/v1/dispatch-rules", "shift_lead")
    assert rules["items"] == []


# --- staff hear of new work and tasks --------------------------------------------------------


async def _staff_notices(case_id: int) -> list[dict[str, Any]]:
    rows = await OutboxItem.filter(kind="notify.staff").order_by("id")
    return [r.payload for r in rows if r.payload.get("case_id") == case_id]


async def test_a_dispatch_tells_the_department_and_a_check_tells_the_inspector(
    city: City,
) -> None:
    agent = await city.login("agent")
    status, out = await city.report(agent, await city.point(2), "市民来电：小区门口垃圾堆积")
    assert status == 201, out
    cid = out["case"]["id"]
    await city.ok(cid, "register", "acceptor")
    hw = await city.department("HW")
    dispatched = await city.ok(cid, "dispatch", "dispatcher", department_id=hw, note="请尽快")
    event = await CaseEvent.get(case_id=cid, action="dispatch")
    assert [
        (p["audience"], p["department_id"], p["event_id"])
        for p in await _staff_notices(cid)
        if p["action"] == "dispatch"
    ] == [("department", dispatched["department_id"], event.id)]
    assert dispatched["department_id"] == hw

    photo = await city.photo(await city.login("handler_hw"))
    handled = await city.ok(cid, "handle", "handler_hw", attachments=[photo])
    assert (handled["status"], handled["stage"]) == ("handled", "check")
    task = await InspectorTask.get(case_id=cid, kind="check")
    inspector2 = await city.staff_id("inspector2")
    assert task.inspector_id == inspector2
    told = [
        (p["audience"], p.get("inspector_id"), p["task_id"])
        for p in await _staff_notices(cid)
        if "task_id" in p
    ]
    assert told == [("inspector", inspector2, task.id)]


# --- tasks come in pages ---------------------------------------------------------------------


async def test_the_task_list_is_paged(city: City) -> None:
    citizen = await city.citizen()
    for number in (1, 2):
        status, out = await city.report(citizen, await city.point(1, number=number), "有垃圾")
        assert (status, out["case"]["status"]) == (201, "verifying"), out
    status, first = await city.get("/api/v1/tasks", "acceptor", page_size=1)
    assert status == 200, first
    assert (len(first["items"]), first["total"]) == (1, 2)
    _, second = await city.get("/api/v1/tasks", "acceptor", page_size=1, page=2)
    assert len(second["items"]) == 1
    assert second["items"][0]["id"] != first["items"][0]["id"]
    status, err = await city.get("/api/v1/tasks", "acceptor", page_size=100_000)
    assert status == 422, err


# --- an extension counts in its own unit -----------------------------------------------------


class FixedClock:
    """The services' `now`, moved by the test."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


async def _principal(username: str) -> Principal:
    staff = await Staff.get(username=username)
    return Principal(
        "staff",
        staff.id,
        staff.display_name,
        roles=frozenset(staff.roles),
        department_id=staff.department_id,
    )


async def test_a_one_day_extension_is_one_calendar_day(db: None, settings: Settings) -> None:
    await seed_demo(settings)
    grids = GridCache()
    await grids.refresh()
    profile = CityProfile()
    monday_9am = dt.datetime(2026, 11, 23, 9, tzinfo=CST)
    clock = FixedClock(monday_9am)
    deps = Deps(load_policy(profile), WorkCalendar.from_profile(profile), grids=grids, now=clock)
    # 暴露垃圾, class B: 1 工作日, from Monday 09:00 to Tuesday 09:00.
    case = await _inspector_report(deps, settings, 3, "E06010")
    assert case.deadline_at == dt.datetime(2026, 11, 24, 9, tzinfo=CST)

    clock.now = dt.datetime(2026, 11, 23, 9, 30, tzinfo=CST)
    asked = Request(note="需调配清运车辆", params={"amount": 1, "unit": "day"})
    handler = await _principal("handler_hw")
    await transition(case.id, Action.EXTEND, actor=handler, deps=deps, request=asked)
    clock.now = dt.datetime(2026, 11, 23, 10, tzinfo=CST)
    dispatcher = await _principal("dispatcher")
    yes = Request(params={"approved": True})
    await transition(case.id, Action.APPROVE_EXTENSION, actor=dispatcher, deps=deps, request=yes)

    # 1 天 is one calendar day after the old deadline: Wednesday 09:00, not Friday.
    row = await Case.get(id=case.id)
    assert row.deadline_at == dt.datetime(2026, 11, 25, 9, tzinfo=CST)
    assert row.pending_request is None


# --- Redis down after the commit -------------------------------------------------------------


@dataclass
class RedisServer:
    """A private redis-server on a loopback port, stopped by the test or at teardown."""

    process: subprocess.Popen[bytes]
    url: str

    async def stop(self) -> None:
        """Stop the server and wait until it is gone."""
        self.process.terminate()
        await asyncio.to_thread(self.process.wait, 10)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"redis-server exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"redis-server did not listen on {port}")


@pytest.fixture
def private_redis() -> Iterator[RedisServer]:
    """Start a throwaway redis-server; always stop it."""
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.skip("redis-server is not installed")
    port = _free_port()
    args = ["--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    process = subprocess.Popen(
        [exe, *args, "--daemonize", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_listening(port, process)
        yield RedisServer(process, f"redis://127.0.0.1:{port}/0")
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


async def test_redis_down_does_not_fail_a_committed_urge(
    aiohttp_client: Any, settings: Settings, private_redis: RedisServer
) -> None:
    own = settings.model_copy(update={"redis_url": SecretStr(private_redis.url)})
    client: TestClient[Any, Any] = await aiohttp_client(create_app(own))
    logins = await seed_demo(own)
    await client.app[GRIDS].refresh(force=True)
    city = City(client, own, {u: p for u, p, _ in logins})
    case = await city.dispatched(1, "消防通道违停")
    cid = case["id"]

    await private_redis.stop()
    status, out = await city.act(cid, "urge", "shift_lead", note="群众反映强烈，请尽快处置")
    assert status == 200, out
    assert out["urge_count"] == 1
    assert (await Case.get(id=cid)).urge_count == 1
    event = await CaseEvent.get(case_id=cid, action="urge")
    rows = [
        r
        for r in await OutboxItem.filter(kind="notify.staff").order_by("id")
        if r.payload.get("event_id") == event.id
    ]
    assert [(r.status, r.payload["department_id"]) for r in rows] == [
        ("pending", case["department_id"])
    ]
