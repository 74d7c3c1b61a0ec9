"""Paging a case list (cases/paging.py): keyset pages in every sort, empty values last in
both directions, deep offsets and foreign cursors refused."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from cases.models import Case
from tests.cases.helpers import City, history
from tests.cases.helpers import four_cases as _four_cases


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
    naive, huge, boolean = (  # ["-created_at", <naive instant>, 5], [… 2**64], [… null, true]
        "WyItY3JlYXRlZF9hdCIsICIyMDI2LTAxLTAxVDAwOjAwOjAwIiwgNV0",
        "WyItY3JlYXRlZF9hdCIsICIyMDI2LTAxLTAxVDAwOjAwOjAwKzAwOjAwIiwgMTg0NDY3NDQwNzM3MDk1NTE2MTZd",
        "WyItY3JlYXRlZF9hdCIsIG51bGwsIHRydWVd",
    )
    for bad in ("abc", "!!!", "W10", "WyJ4Il0", "门口", naive, huge, boolean):
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
