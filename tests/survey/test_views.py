"""Who sees which surveys and figures, phone numbers masked but for agents, and the exports."""

from __future__ import annotations

import io
import logging
from typing import Any

import pytest
from openpyxl import load_workbook

from tests.survey.conftest import Town, local, make_town

MONDAY = local(2026, 11, 30, 10, 0)
TUESDAY_9 = local(2026, 12, 1, 9, 0)


async def answered(town: Town, number: str, answer: str) -> int:
    """A hotline caller's case, closed, called back and answered; the survey id."""
    _, caller = await town.caller(number)
    cid = await town.report(caller)
    await town.close(cid, MONDAY)
    await town.advance(TUESDAY_9)
    (survey,) = await town.surveys(cid)
    r = await town.client.post(
        f"/api/v1/surveys/{survey.id}/call",
        json={"reached": True, "answer": {"answer": answer}},
        headers=await town.city.login("agent"),
    )
    assert r.status == 200, await r.text()
    return int(survey.id)


async def test_departments_see_their_own_and_phones_are_masked(town: Town) -> None:
    await answered(town, "13911112222", "satisfied")
    _, mine = await town.city.get("/api/v1/surveys", "handler_hw")
    assert [s["phone"] for s in mine["items"]] == ["139****2222"]
    _, other = await town.city.get("/api/v1/surveys", "handler_sz")
    assert (other["items"], other["total"]) == ([], 0)
    _, figures = await town.city.get("/api/v1/surveys/figures", "handler_sz")
    assert figures["rows"] == [] and figures["total"]["answered"] == 0
    status, _ = await town.city.get("/api/v1/surveys/callbacks", "handler_hw")
    assert status == 403
    status, err = await town.city.get("/api/v1/surveys/figures", "shift_lead", by="street")
    assert (status, err["code"]) == (422, "validation_error")


async def test_figures_export_as_csv_and_xlsx(town: Town) -> None:
    await answered(town, "13911113333", "satisfied")
    await answered(town, "13911114444", "unsatisfied")
    lead = await town.city.login("shift_lead")
    r = await town.client.get(
        "/api/v1/surveys/figures", params={"by": "month", "format": "csv"}, headers=lead
    )
    text = (await r.read()).decode("utf-8")
    assert r.status == 200 and text.startswith("\ufeff分组,应回访,已回访")
    lines = text.strip().splitlines()
    assert lines[1].startswith("2026-11,2,2,0,0,1,0,1,0,100.00%,50.00%,0.00%")
    assert lines[-1].startswith("合计,2,2")
    r = await town.client.get(
        "/api/v1/surveys/figures", params={"by": "source", "format": "xlsx"}, headers=lead
    )
    book = load_workbook(io.BytesIO(await r.read()))
    sheet = book["回访统计"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][:3] == ("热线", 2, 2) and rows[1][10] == "50.00%"
    # A period that holds nothing counts nothing.
    _, none = await town.city.get(
        "/api/v1/surveys/figures", "shift_lead", since="2026-12-01", until="2026-12-31"
    )
    assert none["total"]["due"] == 0


async def test_the_logging_sms_provider_never_logs_the_number(
    aiohttp_client: Any, settings: Any, wechat_api: Any, caplog: pytest.LogCaptureFixture
) -> None:
    town = await make_town(aiohttp_client, settings, wechat_api, {"by_phone": "sms"})
    _, caller = await town.caller("13700009999")
    cid = await town.report(caller)
    await town.close(cid, MONDAY)
    with caplog.at_level(logging.DEBUG):
        await town.advance(TUESDAY_9)
    assert (await town.surveys(cid))[0].via == "sms"
    assert "137****9999" in caplog.text and "13700009999" not in caplog.text


async def test_a_malformed_form_is_refused_clearly(town: Town) -> None:
    _, me = await town.follower("mona")
    cid = await town.report(me)
    await town.close(cid, MONDAY)
    await town.advance(TUESDAY_9)
    (sent,) = [t for t in town.api.templates() if t["template_id"] == "TPL_SURVEY"]
    path = "/survey/" + str(sent["url"]).rsplit("/", 1)[1]
    # A person in WeChat's browser reads a page, not JSON: the error is said on the page.
    tries = [
        ({"Content-Type": "multipart/form-data"}, b"--x\r\n", 415, "请通过评价页面提交"),
        ({"Content-Type": "text/plain"}, b"answer=satisfied", 415, "请通过评价页面提交"),
        (
            {"Content-Type": "application/x-www-form-urlencoded"},
            b"answer=\xff\xfe",
            400,
            "提交的内容格式不正确",
        ),
        (
            {"Content-Type": "application/x-www-form-urlencoded"},
            b"comment=" + b"x" * 20_000,
            413,
            "提交的内容过长",
        ),
    ]
    for headers, body, status, said in tries:
        r = await town.client.post(path, data=body, headers=headers)
        assert r.status == status and r.content_type == "text/html", headers
        assert said in await r.text(), headers
    assert (await town.surveys(cid))[0].status == "asked"


async def test_the_detail_shows_every_try_to_those_who_may_see_it(town: Town) -> None:
    survey_id = await answered(town, "13911115555", "basic")
    r = await town.client.get(
        f"/api/v1/surveys/{survey_id}", headers=await town.city.login("shift_lead")
    )
    detail = await r.json()
    assert r.status == 200 and detail["answer"] == "basic"
    assert [(a["via"], a["outcome"]) for a in detail["attempts"]] == [
        ("callback", "sent"),  # the task was put on the agents' list
        ("callback", "answered"),
    ]
    status, err = await town.city.get(f"/api/v1/surveys/{survey_id}", "handler_sz")
    assert (status, err["code"]) == (404, "not_found")
