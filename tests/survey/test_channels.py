"""Each way a survey reaches its reporter: 小程序, another channel of the same person, an
agent's callback task, an SMS gateway; and nobody reachable."""

from __future__ import annotations

from typing import Any

from core.audit.models import AuditEntry
from core.auth.models import Staff
from core.jobs.models import OutboxItem
from survey.const import SurveyStatus
from survey.models import Survey, SurveyAttempt
from tests.survey.conftest import Gateway, Town, local, make_town

MONDAY = local(2026, 11, 30, 10, 0)
TUESDAY_9 = local(2026, 12, 1, 9, 0)
MP_OPENID = "oMP_survey_0000000000000001"


def surveys_sent(town: Town) -> list[dict[str, Any]]:
    return [s for s in town.api.subscribes() if s["template_id"] == "SUB_SURVEY"]


async def test_mini_program_subscribe_message_and_json_answer(town: Town) -> None:
    me = await town.phone.login(MP_OPENID)
    r = await town.client.post(
        "/api/v1/mp/subscriptions", json={"SUB_SURVEY": "accept"}, headers=me
    )
    assert r.status == 200, await r.text()
    cid = await town.mp_report(me)
    await town.close(cid, MONDAY)
    await town.advance(TUESDAY_9)
    (sent,) = surveys_sent(town)
    assert sent["touser"] == MP_OPENID and sent["page"].startswith("pages/survey/index?t=")
    token = sent["page"].split("t=", 1)[1]

    r = await town.client.get(f"/api/v1/surveys/answer/{token}")
    form = await r.json()
    assert (r.status, form["status"]) == (200, "asked")
    assert form["question"] == "您对本次问题的办理结果是否满意？"
    assert [o["name"] for o in form["options"]] == ["满意", "基本满意", "不满意"]
    r = await town.client.post(
        f"/api/v1/surveys/answer/{token}",
        json={"answer": "basic", "aspects": {"服务态度": "satisfied"}, "comment": "还行"},
    )
    done = await r.json()
    assert (r.status, done["answer_name"], done["status_name"]) == (200, "基本满意", "已回访")
    r = await town.client.post(f"/api/v1/surveys/answer/{token}", json={"answer": "satisfied"})
    assert (r.status, (await r.json())["code"]) == (409, "already_answered")
    # The one authorisation was used: a second survey would need a new one.
    r = await town.client.get("/api/v1/mp/subscriptions", headers=me)
    quota = {q["template_id"]: q["remaining"] for q in (await r.json())["items"]}
    assert quota.get("SUB_SURVEY", 0) == 0


async def test_without_quota_the_same_persons_official_account_is_used(town: Town) -> None:
    town.api.unionids[MP_OPENID] = "UNION_SURVEY_1"
    me = await town.phone.login(MP_OPENID)  # no subscribe authorisation given
    await town.follower("frank", union_id="UNION_SURVEY_1")
    cid = await town.mp_report(me)
    await town.close(cid, MONDAY)
    await town.advance(TUESDAY_9)
    assert surveys_sent(town) == []
    (sent,) = [t for t in town.api.templates() if t["template_id"] == "TPL_SURVEY"]
    assert sent["touser"] == "ofrank______________________"
    (survey,) = await town.surveys(cid)
    attempts = await SurveyAttempt.filter(survey_id=survey.id).order_by("id")
    assert [(a.via, a.outcome) for a in attempts] == [
        ("wechat_mp", "unreachable"),
        ("wechat_oa", "sent"),
    ]
    assert "授权" in attempts[0].detail


async def test_nobody_reachable_is_not_reached_and_never_satisfied(town: Town) -> None:
    me = await town.phone.login(MP_OPENID)
    cid = await town.mp_report(me)
    await town.close(cid, MONDAY)
    await town.advance(TUESDAY_9)
    (survey,) = await town.surveys(cid)
    assert survey.status == SurveyStatus.UNREACHABLE
    _, figures = await town.city.get("/api/v1/surveys/figures", "shift_lead", by="source")
    (row,) = figures["rows"]
    assert (row["name"], row["missed"], row["answered"], row["satisfaction_rate"]) == (
        "微信小程序",
        1,
        0,
        None,
    )


async def test_a_phone_only_reporter_gets_an_agents_callback_task(town: Town) -> None:
    _, caller = await town.caller("13912345678")
    cid = await town.report(caller)
    await town.close(cid, MONDAY)
    await town.advance(TUESDAY_9)
    status, tasks = await town.city.get("/api/v1/surveys/callbacks", "agent")
    (task,) = tasks["items"]
    assert (status, task["phone"], task["via"], task["number"]) == (
        200,
        "13912345678",
        "callback",
        (await town.surveys(cid))[0].number,
    )
    _, seen = await town.city.get("/api/v1/surveys", "acceptor", case_id=cid)
    assert seen["items"][0]["phone"] == "139****5678"  # the acceptor does not call back
    # The agent's screen showed the number in full: on record (the acceptor's did not).
    [read] = await AuditEntry.filter(action="read.phone")
    assert (read.target, read.after, read.actor_id) == (
        "survey",
        {"ids": [task["id"]]},
        (await Staff.get(username="agent")).id,
    )

    agent = await town.city.login("agent")
    url = f"/api/v1/surveys/{task['id']}/call"
    r = await town.client.post(url, json={"reached": False}, headers=agent)
    assert r.status == 200 and (await r.json())["status"] == "asked"
    r = await town.client.post(url, json={"reached": True}, headers=agent)
    assert r.status == 422  # reached, but no answer recorded
    r = await town.client.post(
        url,
        json={"reached": True, "answer": {"answer": "unsatisfied", "comment": "垃圾又堆起来了"}},
        headers=agent,
    )
    out = await r.json()
    assert (r.status, out["answer"], out["review"]) == (200, "unsatisfied", "pending")
    _, tasks = await town.city.get("/api/v1/surveys/callbacks", "agent")
    assert tasks["items"] == []
    # A callback has no reminders: the agents call.
    before = await SurveyAttempt.filter(survey_id=task["id"]).count()
    await town.advance(local(2026, 12, 3, 9, 0))
    assert await SurveyAttempt.filter(survey_id=task["id"]).count() == before


async def test_three_unanswered_calls_end_the_task_as_not_reached(town: Town) -> None:
    _, caller = await town.caller("13800001111")
    cid = await town.report(caller)
    await town.close(cid, MONDAY)
    await town.advance(TUESDAY_9)
    (survey,) = await town.surveys(cid)
    agent = await town.city.login("agent")
    for _ in range(3):
        r = await town.client.post(
            f"/api/v1/surveys/{survey.id}/call", json={"reached": False}, headers=agent
        )
        assert r.status == 200
    assert (await Survey.get(id=survey.id)).status == SurveyStatus.UNREACHABLE
    r = await town.client.post(
        f"/api/v1/surveys/{survey.id}/call", json={"reached": False}, headers=agent
    )
    assert (r.status, (await r.json())["code"]) == (409, "survey_closed")


async def test_sms_through_the_citys_gateway(
    aiohttp_client: Any, settings: Any, wechat_api: Any, sms_gateway: Gateway
) -> None:
    town = await make_town(
        aiohttp_client,
        settings,
        wechat_api,
        {"by_phone": "sms"},
        sms_provider="survey.sms:HttpSms",
        sms_url=sms_gateway.url,
        sms_token="sms-token",
    )
    _, caller = await town.caller("13700001234")
    cid = await town.report(caller)
    await town.close(cid, MONDAY)

    sms_gateway.status[0] = 503  # the gateway is down: retried, nothing lost
    await town.advance(TUESDAY_9)
    (survey,) = await town.surveys(cid)
    assert survey.status == SurveyStatus.SCHEDULED
    row = await OutboxItem.filter(kind="survey.ask").first()
    assert row is not None and row.attempts == 1 and row.status == "pending"

    sms_gateway.status[0] = 200
    await town.advance(local(2026, 12, 1, 10, 0))
    (sms,) = sms_gateway.sent[-1:]
    assert sms["phone"] == "13700001234" and "https://city.example.cn/survey/" in sms["text"]
    assert (await Survey.get(id=survey.id)).via == "sms"
    token = sms["text"].split("/survey/", 1)[1].split(" ", 1)[0]
    r = await town.client.get(f"/survey/{token}")
    assert r.status == 200 and "满意度回访" in await r.text()
