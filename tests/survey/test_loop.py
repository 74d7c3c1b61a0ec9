"""The 回访 loop through the 公众号: 结案 → asked the next working day → answered → figures."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from survey.const import SurveyStatus
from survey.models import Survey, SurveyAttempt
from tests.survey.conftest import Town, local, make_town


def asked(town: Town, template: str = "TPL_SURVEY") -> list[dict[str, Any]]:
    return [t for t in town.api.templates() if t["template_id"] == template]


def token(message: dict[str, Any]) -> str:
    url = str(message["url"])
    assert url.startswith("https://city.example.cn/survey/"), url
    return url.rsplit("/", 1)[1]


async def test_closed_on_friday_asked_on_monday_answered_and_counted(town: Town) -> None:
    citizen, me = await town.follower("alice")
    cid = await town.report(me)
    await town.close(cid, local(2026, 11, 27, 17, 0))  # a Friday
    (survey,) = await town.surveys(cid)
    assert (survey.status, survey.citizen_id) == (SurveyStatus.SCHEDULED, citizen)
    assert survey.due_at == local(2026, 11, 30, 9, 0)

    await town.advance(local(2026, 11, 29, 12, 0))  # Sunday: nothing yet
    assert asked(town) == []
    await town.advance(local(2026, 11, 30, 9, 0))
    (sent,) = asked(town)
    assert sent["touser"] == "oalice______________________"
    assert sent["data"]["character_string1"]["value"] == survey.number
    survey = await Survey.get(id=survey.id)
    assert (survey.status, survey.via, survey.asks) == ("asked", "wechat_oa", 1)

    # The citizen opens the link in WeChat's browser and answers.
    page = await town.client.get(f"/survey/{token(sent)}")
    html = await page.text()
    assert page.status == 200 and "满意度回访" in html and survey.number in html
    assert 'name="answer" value="unsatisfied"' in html and "<script" not in html
    r = await town.client.post(
        f"/survey/{token(sent)}",
        data={"answer": "satisfied", "aspect_1": "basic", "comment": "清理得很干净"},
        allow_redirects=False,
    )
    assert r.status == 303
    thanks = await (await town.client.get(r.headers["Location"])).text()
    assert "感谢您的评价" in thanks and "满意" in thanks
    survey = await Survey.get(id=survey.id)
    assert (survey.answer, survey.aspects, survey.comment) == (
        "satisfied",
        {"处置结果": "basic"},
        "清理得很干净",
    )

    # A second answer is refused and changes nothing; no reminder follows an answer.
    again = await town.client.post(f"/survey/{token(sent)}", data={"answer": "unsatisfied"})
    assert again.status == 409 and "感谢您的评价" in await again.text()
    assert (await Survey.get(id=survey.id)).answer == "satisfied"
    await town.advance(local(2026, 12, 2, 10, 0))
    assert len(asked(town)) == 1

    _, figures = await town.city.get("/api/v1/surveys/figures", "shift_lead", by="department")
    (row,) = figures["rows"]
    assert (row["name"], row["answered"], row["satisfied"], row["satisfaction_rate"]) == (
        "区环卫",
        1,
        1,
        1.0,
    )


async def test_reminders_then_expiry_count_as_not_reached_never_satisfied(town: Town) -> None:
    _, me = await town.follower("bob")
    cid = await town.report(me)
    await town.close(cid, local(2026, 11, 30, 10, 0))  # a Monday
    await town.advance(local(2026, 12, 1, 9, 0))
    await town.advance(local(2026, 12, 1, 20, 0))  # too soon for a reminder
    assert len(asked(town)) == 1
    await town.advance(local(2026, 12, 2, 9, 0))  # 24 hours on: the first reminder
    await town.advance(local(2026, 12, 3, 9, 0))  # the second and last
    await town.advance(local(2026, 12, 4, 9, 0))
    assert len(asked(town)) == 3
    (survey,) = await town.surveys(cid)
    assert (survey.status, survey.asks) == ("asked", 3)
    assert [a.reminder for a in await SurveyAttempt.filter(survey_id=survey.id)] == [
        False,
        True,
        True,
    ]

    await town.advance(local(2026, 12, 8, 9, 1))  # 7 days after the first ask
    survey = await Survey.get(id=survey.id)
    assert survey.status == SurveyStatus.EXPIRED
    page = await town.client.get(f"/survey/{token(asked(town)[0])}")
    assert page.status == 410 and "已过期" in await page.text()
    _, figures = await town.city.get("/api/v1/surveys/figures", "shift_lead", by="source")
    (row,) = figures["rows"]
    assert (row["name"], row["missed"], row["satisfied"], row["callback_rate"]) == (
        "微信公众号",
        1,
        0,
        0.0,
    )


async def test_merged_duplicates_each_reporter_asked_and_counted_once(town: Town) -> None:
    _, first = await town.follower("carol")
    _, second = await town.follower("dave")
    cid = await town.report(first)
    again = await town.report(second)
    assert again == cid  # the same problem at the same place: merged
    _, third = await town.follower("erin")
    await town.report(third, no_callback=True)  # 不需要回访
    await town.close(cid, local(2026, 11, 30, 10, 0))
    surveys = await town.surveys(cid)
    assert len(surveys) == 2
    await town.advance(local(2026, 12, 1, 9, 0))
    sent = asked(town)
    assert sorted(s["touser"] for s in sent) == [
        "ocarol______________________",
        "odave_______________________",
    ]
    for message, answer in zip(sent, ("satisfied", "unsatisfied"), strict=True):
        r = await town.client.post(
            f"/api/v1/surveys/answer/{token(message)}", json={"answer": answer}
        )
        assert r.status == 200, await r.text()
    _, figures = await town.city.get("/api/v1/surveys/figures", "shift_lead", by="category")
    (row,) = figures["rows"]
    assert (row["answered"], row["satisfied"], row["unsatisfied"], row["satisfaction_rate"]) == (
        2,
        1,
        1,
        0.5,
    )
    assert re.fullmatch(r".+", row["name"]) and row["key"] == "E06010"


@pytest.mark.parametrize(
    ("closed", "not_yet", "asked_at"),
    [
        # The day before National Day: asked on the first working day after it.
        (local(2026, 9, 30, 16, 0), local(2026, 10, 7, 12, 0), local(2026, 10, 8, 9, 0)),
        # The Friday after it: the next day is a 调休 working Saturday.
        (local(2026, 10, 9, 16, 0), local(2026, 10, 10, 8, 59), local(2026, 10, 10, 9, 0)),
    ],
)
async def test_holidays_and_working_saturdays_on_the_way_to_the_citizen(
    town: Town, closed: dt.datetime, not_yet: dt.datetime, asked_at: dt.datetime
) -> None:
    _, me = await town.follower("lily")
    cid = await town.report(me)
    await town.close(cid, closed)
    await town.advance(not_yet)
    assert asked(town) == []
    await town.advance(asked_at)
    (sent,) = asked(town)
    assert sent["touser"] == "olily_______________________"
    (survey,) = await town.surveys(cid)
    assert (survey.asked_at, survey.status) == (asked_at, "asked")


async def test_nothing_is_sent_in_the_quiet_hours(
    aiohttp_client: Any, settings: Any, wechat_api: Any
) -> None:
    town = await make_town(aiohttp_client, settings, wechat_api, {"after_workdays": 0})
    _, me = await town.follower("nina")
    cid = await town.report(me)
    await town.close(cid, local(2026, 11, 30, 22, 30))  # asked "at once", but it is night
    await town.advance(local(2026, 12, 1, 7, 59))
    assert asked(town) == []
    await town.advance(local(2026, 12, 1, 8, 0))
    assert len(asked(town)) == 1
