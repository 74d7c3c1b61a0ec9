"""Case lists (cases/lists.py): filters, sorts with empty values last, offset and keyset
paging, the capped and estimated total, a handler's inbox."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

import pytest

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


async def _walk(city: City, sort: str, page_size: int, **params: Any) -> list[int]:
    """Every id of a list, page after page by next_cursor."""
    seen: list[int] = []
    query: dict[str, Any] = {"sort": sort, "page_size": page_size, **params}
    for _ in range(100):
        status, page = await city.get("/api/v1/cases", "acceptor", **query)
        assert status == 200, page
        seen += [c["id"] for c in page["items"]]
        if page["next_cursor"] is None:
            return seen
        query["cursor"] = page["next_cursor"]
    raise AssertionError("the cursor never ended")


async def test_cases_without_a_deadline_or_number_come_last_in_both_directions(
    city: City,
) -> None:
    """Closed cases have no deadline: sorting by deadline shows the running ones first, the
    soonest or the latest, never a screen of closed cases."""
    cases = await _four_cases(city)
    closed = await history(3)
    unnumbered = await history(2, text="未编号", numbered=False)
    running = sorted(cases.values(), key=lambda c: (c["deadline_at"], c["id"]))
    soonest = [c["id"] for c in running]
    latest = [
        c["id"] for c in sorted(running, key=lambda c: (c["deadline_at"], c["id"]), reverse=True)
    ]
    empty = sorted(closed + unnumbered)
    assert await _walk(city, "deadline_at", 50) == soonest + empty
    assert await _walk(city, "-deadline_at", 50) == latest + empty[::-1]
    numbers = await Case.filter(number__not_isnull=True).values_list("number", "id")
    by_number = [int(str(i)) for _, i in sorted((str(n), int(str(i))) for n, i in numbers)]
    assert await _walk(city, "number", 50) == by_number + sorted(unnumbered)
    assert await _walk(city, "-number", 50) == by_number[::-1] + sorted(unnumbered, reverse=True)


@pytest.mark.parametrize(
    "sort", ["-created_at", "created_at", "deadline_at", "-deadline_at", "number", "-number"]
)
async def test_cursor_paging_walks_every_case_once_as_offset_paging_does(
    city: City, sort: str
) -> None:
    await _four_cases(city)
    await history(5)
    await history(2, text="未编号", numbered=False)
    # Two cases at the same instant: the id breaks the tie, so neither is lost or repeated.
    same = dt.datetime.now(dt.UTC) - dt.timedelta(days=3)
    ties = await history(2, text="同时")
    await Case.filter(id__in=ties).update(created_at=same)
    whole = await _walk(city, sort, 200)
    assert len(whole) == len(set(whole)) == 13
    for size in (1, 3, 5):
        assert await _walk(city, sort, size) == whole, size
        offset = []
        for number in range(1, 20):
            _, page = await city.get(
                "/api/v1/cases", "acceptor", sort=sort, page=number, page_size=size
            )
            offset += [c["id"] for c in page["items"]]
        assert offset == whole, size


async def test_deep_offsets_and_foreign_cursors_are_refused(city: City) -> None:
    status, page = await city.get("/api/v1/cases", "acceptor", page=201, page_size=50)
    assert (status, page["items"]) == (200, [])  # 10,000 rows deep: still allowed
    status, err = await city.get("/api/v1/cases", "acceptor", page=202, page_size=50)
    assert (status, err["code"]) == (422, "page_too_deep")
    assert "next_cursor" in err["message"] and "翻页" in err["message"]
    for bad in ("abc", "!!!", "W10", "WyJ4Il0"):
        status, err = await city.get("/api/v1/cases", "acceptor", cursor=bad)
        assert (status, err["code"]) == (422, "bad_cursor"), bad
        assert err["message"] == "翻页标记无效，请从第一页重新开始"
    await history(3)
    _, first = await city.get("/api/v1/cases", "acceptor", page_size=1)
    status, err = await city.get(
        "/api/v1/cases", "acceptor", page_size=1, sort="number", cursor=first["next_cursor"]
    )
    assert (status, err["code"]) == (422, "bad_cursor")
    assert err["message"] == "翻页标记与排序方式不符，请从第一页重新开始"


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
