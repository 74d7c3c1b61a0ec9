"""The case API's boundary (cases/views.py): bad input answers 4xx, never 500."""

from __future__ import annotations

import logging

import pytest

from cases.models import Case
from tests.cases.helpers import City
from tests.cases.helpers import error_fields as _fields

CASES = "/api/v1/cases"


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


async def test_bad_text_and_overlong_filters_are_422_not_500(city: City) -> None:
    citizen = await city.citizen()
    status, out = await city.report(citizen, await city.point(2), "井盖\x00丢了")
    assert status == 422 and [f["field"] for f in out["fields"]] == ["description"]
    assert await Case.all().count() == 0
    staff = await city.login("acceptor")
    for params in ({"q": "a\x00b"}, {"category": "E" * 17}):
        r = await city.client.get("/api/v1/cases", params=params, headers=staff)
        assert r.status == 422, (params, await r.text())
        assert [f["field"] for f in (await r.json())["fields"]] == list(params)


async def test_a_refused_filter_value_never_reaches_the_log(
    city: City, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="cityloop")
    staff = await city.login("acceptor")
    r = await city.client.get("/api/v1/cases", params={"status": "13812345678"}, headers=staff)
    assert r.status == 422
    assert not any("5678" in rec.getMessage() for rec in caplog.records)


async def test_a_replayed_report_answers_the_documented_200(city: City) -> None:
    r = await city.client.get("/api/openapi.json")
    responses = (await r.json())["paths"]["/api/v1/reports"]["post"]["responses"]
    assert responses["200"]["content"] == responses["201"]["content"]  # the same case, again
    who, point = await city.citizen(), await city.point(1)
    first = await city.report(who, point, "门口有垃圾", key="replay-0001")
    again = await city.report(who, point, "门口有垃圾", key="replay-0001")
    assert (first[0], again[0]) == (201, 200)
    assert again[1]["case"]["id"] == first[1]["case"]["id"]
    assert await Case.all().count() == 1
