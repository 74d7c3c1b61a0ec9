"""Case lists (cases/lists.py): filters, the capped and estimated total, a handler's inbox."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from cases.models import Case
from core.org.models import Department
from tests.cases.helpers import City, history
from tests.cases.helpers import four_cases as _four_cases


async def test_the_case_list_filters_sorts_and_pages(city: City) -> None:
    cases = await _four_cases(city)
    ids = {k: v["id"] for k, v in cases.items()}
    hw = await city.department("HW")

    async def listed(**params: Any) -> list[int]:
        status, page = await city.get("/api/v1/cases", "acceptor", **params)
        assert status == 200, page
        return [c["id"] for c in page["items"]]

    assert sorted(await listed(status="dispatched")) == sorted([ids["a"], ids["b"], ids["d"]])
    assert sorted(await listed(status="verifying,dispatched")) == sorted(ids.values())
    assert await listed(category="E09009") == [ids["b"]]
    assert sorted(await listed(department_id=hw)) == sorted([ids["a"], ids["d"]])
    assert await listed(q="北门口") == [ids["d"]]
    assert await listed(q=cases["b"]["number"]) == [ids["b"]]
    status, err = await city.get("/api/v1/cases", "acceptor", status="open")
    assert (status, err["code"]) == (422, "validation_error")

    await Case.filter(id=ids["a"]).update(
        deadline_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    )
    assert await listed(overdue="true") == [ids["a"]]
    assert sorted(await listed(overdue="false")) == sorted([ids["b"], ids["c"], ids["d"]])

    by_number = sorted(ids.values())  # numbers are the date, then the row id
    assert await listed(sort="number") == by_number
    assert await listed(sort="-number") == by_number[::-1]
    pages = []
    for page in (1, 2, 3):
        status, out = await city.get(
            "/api/v1/cases", "acceptor", sort="number", page=page, page_size=3
        )
        pages.append(([c["id"] for c in out["items"]], out["total"], out["page"]))
    assert pages == [(by_number[:3], 4, 1), (by_number[3:], 4, 2), ([], 4, 3)]

    # A handler's list holds their department's cases only.
    _, mine = await city.get("/api/v1/cases", "handler_hw")
    assert (sorted(c["id"] for c in mine["items"]), mine["total"]) == (
        sorted([ids["a"], ids["d"]]),
        2,
    )


async def test_a_handlers_inbox_holds_their_departments_open_cases(city: City) -> None:
    cases = await _four_cases(city)
    done = cases["d"]["id"]
    photo = await city.photo(await city.login("handler_hw"))
    await city.ok(done, "handle", "handler_hw", attachments=[photo])
    _, hw = await city.get("/api/v1/inbox", "handler_hw")
    assert [c["id"] for c in hw["items"]] == [cases["a"]["id"]]
    _, jj = await city.get("/api/v1/inbox", "handler_jj")
    assert [c["id"] for c in jj["items"]] == [cases["b"]["id"]]
    _, yl = await city.get("/api/v1/inbox", "handler_yl")
    assert yl["items"] == []
    status, err = await city.get("/api/v1/inbox", "dispatcher")
    assert (status, err["code"]) == (403, "role_forbidden")


PG = bool(os.environ.get("CITYLOOP_TEST_DATABASE_URL"))


async def test_a_large_total_is_estimated_where_counting_would_scan(city: City) -> None:
    """Past 10,000 matching cases PostgreSQL's estimate stands in for COUNT(*), and says so;
    smaller lists, and every list on SQLite, are counted exactly."""
    street = (await Department.get(name="清波街道")).id
    await history(10_050)
    await history(7, text="清波", street_id=street)
    _, everything = await city.get("/api/v1/cases", "acceptor", page_size=1)
    _, some = await city.get("/api/v1/cases", "acceptor", street_id=street)
    assert (some["total"], some["total_exact"]) == (7, True)
    if PG:
        assert everything["total_exact"] is False
        assert 10_001 <= everything["total"] <= 20_000
    else:
        assert (everything["total"], everything["total_exact"]) == (10_057, True)
    # The estimate never hides the next page.
    assert everything["next_cursor"] is not None


async def test_not_overdue_holds_the_cases_that_have_no_deadline(city: City) -> None:
    cases = await _four_cases(city)
    closed = await history(3)
    late = cases["a"]["id"]
    await Case.filter(id=late).update(deadline_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
    _, overdue = await city.get("/api/v1/cases", "acceptor", overdue="true")
    _, on_time = await city.get("/api/v1/cases", "acceptor", overdue="false")
    assert [c["id"] for c in overdue["items"]] == [late]
    assert sorted(c["id"] for c in on_time["items"]) == sorted(
        [*closed, *(c["id"] for k, c in cases.items() if k != "a")]
    )
