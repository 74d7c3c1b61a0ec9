"""A new case written once, in its final state (cases/journal.py): what it writes, and that a
server killed mid-load (SIGKILL) loses no acknowledged report and leaves no half-written case."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import os
import subprocess
import uuid
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
from tortoise.connection import get_connection

from cases.const import Action, CaseStatus, TaskKind
from cases.deps import deps_of
from cases.models import Case, CaseAttachment, CaseEvent, InspectorTask, Report
from core.config import Settings
from core.demo import seed_demo
from core.jobs.models import OutboxItem
from tests.cases.conftest import MakeCity
from tests.cases.helpers import City, actions, grid_point, inspector_report, jpeg
from tests.core.processes import base_env, start, wait_ready

PG = bool(os.environ.get("CITYLOOP_TEST_DATABASE_URL"))
FIRST_MOVES = [Action.REPORT, Action.REGISTER, Action.DISPATCH]


async def test_an_inspectors_report_is_written_dispatched_with_its_timeline(city: City) -> None:
    form = aiohttp.FormData()
    form.add_field("file", jpeg((90, 140, 200)), filename="p.jpg", content_type="image/jpeg")
    who = await city.login("inspector1")
    r = await city.client.post("/api/v1/media", data=form, headers=who)
    photo = int((await r.json())["id"])
    status, out = await city.report(
        who, await city.point(1), "消防通道有车辆违停", category_code="E09009", attachments=[photo]
    )
    assert status == 201, out
    case = await Case.get(id=out["case"]["id"])
    assert case.status == CaseStatus.DISPATCHED and case.department_id is not None
    assert case.number and str(case.id) in case.number
    assert case.version == 2  # two moves after the report, as when written move by move
    assert case.deadline_at is not None and case.registered_at and case.dispatched_at
    assert await actions(case.id) == FIRST_MOVES
    events = await CaseEvent.filter(case_id=case.id).order_by("id")
    report = await Report.get(case_id=case.id)
    assert events[0].data["report_id"] == report.id
    assert events[2].data["department_id"] == case.department_id
    linked = await CaseAttachment.filter(case_id=case.id).values_list("media_id", "event_id")
    assert linked == [(photo, events[0].id)]
    # The department hears of its new case: the outbox row of the 派遣 event, same transaction.
    assert await OutboxItem.filter(dedupe_key__contains=f"case_event:{events[2].id}|").exists()


async def test_instants_are_stored_in_utc_whatever_the_clock_says(city: City) -> None:
    """The journal writes the case as it stands in memory: a clock in local time (a city's
    test clock, say) must still give UTC columns, since SQLite compares datetimes as text."""
    local = ZoneInfo("Asia/Shanghai")
    deps = dataclasses.replace(deps_of(city.client.app), now=lambda: dt.datetime.now(local))
    case = await inspector_report(deps, city.settings, 1, "E09009")
    raw = await get_connection("default").execute_query_dict(
        'SELECT "registered_at", "dispatched_at", "deadline_at" FROM "case" WHERE "id" = $1'
        if PG
        else 'SELECT "registered_at", "dispatched_at", "deadline_at" FROM "case" WHERE "id" = ?',
        [case.id],
    )
    for value in raw[0].values():
        as_text = value if isinstance(value, str) else value.isoformat()
        assert as_text.endswith("+00:00"), raw
    assert case.registered_at is not None and case.registered_at.utcoffset() == dt.timedelta(0)


async def test_a_move_that_opens_a_task_writes_the_journal_first(city_with: MakeCity) -> None:
    """自动受理 of a public report sends it to 核实: the task's row refers to the case's, so the
    case is written before that move, and the rest goes on move by move."""
    city = await city_with(workflow={"auto_accept": ["wechat_oa"]})
    status, out = await city.report(await city.citizen(), await city.point(2), "路边有垃圾")
    assert status == 201, out
    case = await Case.get(id=out["case"]["id"])
    assert (case.status, case.version) == (CaseStatus.VERIFYING, 2)
    assert await actions(case.id) == [Action.REPORT, Action.ACCEPT, Action.VERIFY]
    task = await InspectorTask.get(case_id=case.id)
    verify = await CaseEvent.get(case_id=case.id, action=Action.VERIFY)
    assert verify.data["task_id"] == task.id and task.kind == TaskKind.VERIFY


async def _post_until_refused(
    http: aiohttp.ClientSession,
    url: str,
    who: dict[str, str],
    bodies: list[dict[str, Any]],
    done: list[tuple[str, int]],
    under_way: asyncio.Event,
) -> None:
    """Post the bodies in turn, keeping (key, case id) of each one answered 201."""
    for body in bodies:
        try:
            async with http.post(url, json=body, headers=who) as r:
                if r.status == 201:
                    done.append((body["idempotency_key"], int((await r.json())["case"]["id"])))
        except (TimeoutError, aiohttp.ClientError):
            return
        if len(done) >= 20:
            under_way.set()


async def test_a_server_killed_mid_load_loses_no_acknowledged_report(
    db: None, settings: Settings, tmp_path: Path, runners: list[subprocess.Popen[bytes]]
) -> None:
    passwords = {u: p for u, p, _ in await seed_demo(settings)}
    env = base_env(settings, redis=False, path=[])
    base, log = f"http://127.0.0.1:{env['CITYLOOP_PORT']}", tmp_path / "server.log"
    runners.append(start("serve", env, log))
    await wait_ready(base, runners, log)
    # Points 25 m apart in inspector1's grids (the merge radius is 20 m): every report is new.
    points = [
        await grid_point(settings, 1, east_m=e, north_m=n)
        for e in range(-140, 141, 25)
        for n in range(-140, 141, 25)
    ]
    bodies = [
        {
            "idempotency_key": uuid.uuid4().hex,
            "description": "消防通道有车辆违停",
            "category_code": "E09009",
            "location": p,
        }
        for p in points
    ]
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as http:
        login = {"username": "inspector1", "password": passwords["inspector1"]}
        async with http.post(f"{base}/api/v1/auth/login", json=login) as r:
            who = {"Authorization": f"Bearer {(await r.json())['token']}"}
        acknowledged: list[tuple[str, int]] = []
        under_way = asyncio.Event()
        url = f"{base}/api/v1/reports"
        posting = [
            asyncio.create_task(
                _post_until_refused(http, url, who, bodies[i::8], acknowledged, under_way)
            )
            for i in range(8)
        ]
        await asyncio.wait_for(under_way.wait(), 30)
        runners[0].kill()  # SIGKILL: no shutdown, transactions cut wherever they are
        runners[0].wait(10)
        await asyncio.gather(*posting)
    assert len(acknowledged) < len(bodies), "the kill came after the last report"

    for key, case_id in acknowledged:
        report = await Report.get(idempotency_key=key)
        assert report.case_id == case_id
        case = await Case.get(id=case_id)
        assert case.status == CaseStatus.DISPATCHED
        assert await actions(case_id) == FIRST_MOVES
    # Whatever the kill cut short left nothing: every case there is whole.
    for case in await Case.all():
        assert await actions(case.id) == FIRST_MOVES, case.id
        assert await Report.filter(case_id=case.id).count() == 1
        dispatch = await CaseEvent.get(case_id=case.id, action=Action.DISPATCH)
        assert await OutboxItem.filter(dedupe_key__contains=f"case_event:{dispatch.id}|").exists()

    # The phone sends its whole queue again to a new server: one case per report, no more.
    runners.append(start("serve", env, log))
    await wait_ready(base, runners[1:], log)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20)) as http:
        async with http.post(f"{base}/api/v1/auth/login", json=login) as r:
            who = {"Authorization": f"Bearer {(await r.json())['token']}"}
        for body in bodies:
            async with http.post(f"{base}/api/v1/reports", json=body, headers=who) as r:
                assert r.status in (200, 201), await r.text()
    assert await Case.all().count() == len(bodies) == await Report.all().count()
    for key, case_id in acknowledged:
        assert (await Report.get(idempotency_key=key)).case_id == case_id
