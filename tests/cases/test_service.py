"""Reading cases (cases/service.py): list filters, sorting and paging, a handler's inbox."""

from __future__ import annotations

import datetime as dt
from typing import Any

from cases.models import Case
from tests.cases.helpers import City
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
