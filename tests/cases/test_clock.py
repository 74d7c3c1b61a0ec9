"""Stage clocks on the case row (cases/clock.py): instants written in UTC, so that the overdue
marker and the list filters compare them right, late by days or by hours."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import Any

from tortoise import connections

from cases import Deps, deps_of
from cases.const import Urgency
from cases.jobs import mark_overdue_now
from cases.models import Case
from core.calendar import TimeUnit
from core.web.keys import CALENDAR
from tests.cases.helpers import City
from tests.cases.helpers import inspector_report as _inspector_report

CST = dt.timezone(dt.timedelta(hours=8))
CASES = "/api/v1/cases"


def _app_deps(city: City, now: Callable[[], dt.datetime]) -> Deps:
    """The running app's case dependencies, on another clock and without a queue."""
    return dataclasses.replace(deps_of(city.client.app), queue=None, now=now)


async def _ids(city: City, **params: Any) -> list[int]:
    status, out = await city.get(CASES, "shift_lead", **params)
    assert status == 200, out
    return [int(c["id"]) for c in out["items"]]


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
