"""Answer links are signed, single-use and expiring; a 不满意 goes to the shift lead, and a
justified one is redone (重办) and asked about again after the next 结案."""

from __future__ import annotations

from typing import Any

from tortoise import timezone

from cases.models import Case, CaseEvent
from channels.wechat_oa.models import Follower
from core.jobs.registry import JobContext
from core.web.keys import RUNTIME
from survey import delivery, tokens
from survey.const import SurveyStatus
from survey.deps import survey_of
from survey.models import Survey
from tests.survey.conftest import SECRET, Town, local

MONDAY = local(2026, 11, 30, 10, 0)
TUESDAY_9 = local(2026, 12, 1, 9, 0)


async def asked_case(town: Town, name: str = "gina") -> tuple[int, str]:
    """A follower's case, closed on Monday and asked on Tuesday: the case id and token."""
    _, me = await town.follower(name)
    cid = await town.report(me)
    await town.close(cid, MONDAY)
    await town.advance(TUESDAY_9)
    sent = [t for t in town.api.templates() if t["template_id"] == "TPL_SURVEY"][-1]
    return cid, str(sent["url"]).rsplit("/", 1)[1]


async def answer(town: Town, token: str, **body: Any) -> tuple[int, dict[str, Any]]:
    r = await town.client.post(f"/api/v1/surveys/answer/{token}", json=body)
    return r.status, await r.json()


async def test_a_tampered_expired_or_reused_token_is_refused_and_changes_nothing(
    town: Town,
) -> None:
    cid, token = await asked_case(town)
    version, survey_id, nonce, expires, sig = token.split(".")
    forged = [
        f"{version}.{int(survey_id) + 1}.{nonce}.{expires}.{sig}",  # another survey
        f"{version}.{survey_id}.{nonce}.{int(expires) + 86400}.{sig}",  # a later expiry
        f"{version}.{survey_id}.{nonce}.{expires}.{sig[:-2]}AA",
        "not-a-token",
    ]
    for bad in forged:
        status, err = await answer(town, bad, answer="unsatisfied")
        assert (status, err["code"]) == (400, "token_invalid"), bad
        page = await town.client.get(f"/survey/{bad}")
        assert page.status == 400 and "链接无效" in await page.text()
    # Signed with another key (another deployment): refused too.
    (survey,) = await town.surveys(cid)
    assert survey.expires_at is not None
    other = tokens.make(
        b"x" * 40, survey_id=survey.id, nonce=survey.nonce, expires_at=survey.expires_at
    )
    assert (await answer(town, other, answer="satisfied"))[0] == 400
    # Past the survey's expiry (7 days), the link no longer takes an answer.
    town.clock.at = local(2026, 12, 8, 10, 0)
    status, err = await answer(town, token, answer="satisfied")
    assert (status, err["code"]) == (410, "survey_expired")
    assert (await Survey.get(id=survey.id)).answer is None
    # Once answered, the same link is spent.
    town.clock.at = local(2026, 12, 2, 10, 0)
    assert (await answer(town, token, answer="satisfied"))[0] == 200
    status, err = await answer(town, token, answer="unsatisfied")
    assert (status, err["code"]) == (409, "already_answered")
    assert (await Survey.get(id=survey.id)).answer == "satisfied"
    # Our own key does sign them (so the test above proves the check, not a broken token).
    assert tokens.read(SECRET.encode(), token, now=timezone.now()).survey_id == survey.id


async def test_bad_answers_get_a_clear_error(town: Town) -> None:
    cid, token = await asked_case(town)
    cases: list[tuple[dict[str, Any], str]] = [
        ({"answer": "great"}, "validation_error"),
        ({"answer": "satisfied", "aspects": {"价格": "satisfied"}}, "unknown_aspect"),
        ({"answer": "satisfied", "comment": "x" * 501}, "validation_error"),
        ({"answer": "satisfied", "comment": "好\u0000"}, "validation_error"),
    ]
    for body, code in cases:
        status, err = await answer(town, token, **body)
        assert (status, err["code"]) == (422, code), body
        assert err["message"]
    r = await town.client.post(f"/survey/{token}", data={"comment": "没选"})
    assert r.status == 422 and "请选择您对办理结果的评价" in await r.text()
    assert (await town.surveys(cid))[0].status == SurveyStatus.ASKED


async def test_justified_unsatisfied_is_redone_and_asked_again(town: Town) -> None:
    cid, token = await asked_case(town)
    assert (await answer(town, token, answer="unsatisfied", comment="根本没清理"))[0] == 200
    _, queue = await town.city.get("/api/v1/surveys/reviews", "shift_lead")
    (pending,) = queue["items"]
    assert (pending["case_id"], pending["comment"]) == (cid, "根本没清理")

    lead = await town.city.login("shift_lead")
    url = f"/api/v1/surveys/{pending['id']}/review"
    r = await town.client.post(
        url, json={"justified": True, "reason": "现场复核仍有垃圾"}, headers=lead
    )
    out = await r.json()
    assert (r.status, out["review"]) == (200, "justified")
    case = await Case.get(id=cid)
    assert (case.status, case.reopen_count) == ("dispatched", 1)
    reopen = await CaseEvent.filter(case_id=cid, action="reopen").first()
    assert reopen is not None and "现场复核仍有垃圾" in reopen.note
    await town.advance(local(2026, 12, 1, 11, 0))  # the void subscriber links the 重办 row
    assert (await Survey.get(id=pending["id"])).reopen_event_id == reopen.id
    again = await town.client.post(url, json={"justified": False, "reason": "重复"}, headers=lead)
    assert again.status == 409

    # The department redoes it; the next 结案 brings a new survey, asked the next working day.
    await town.city.ok(
        cid,
        "handle",
        "handler_hw",
        note="已彻底清理",
        attachments=[await town.city.photo(await town.city.login("handler_hw"))],
    )
    await town.city.ok(cid, "check-result", "inspector2", passed=True, note="干净了")
    town.clock.at = local(2026, 12, 4, 16, 0)  # a Friday
    await town.city.ok(cid, "close", "acceptor", note="结案")
    await town.advance(local(2026, 12, 4, 16, 1))
    first, second = await town.surveys(cid)
    assert (first.status, second.status) == ("answered", "scheduled")
    assert second.due_at == local(2026, 12, 7, 9, 0)
    _, figures = await town.city.get("/api/v1/surveys/figures", "shift_lead", by="department")
    (row,) = figures["rows"]
    assert (row["unsatisfied"], row["reopened"], row["reopen_rate"]) == (1, 1, 1.0)


async def test_not_justified_is_kept_with_the_reason_and_told(town: Town) -> None:
    cid, token = await asked_case(town, "hank")
    await Follower.filter(openid="ohank_______________________").update(
        last_inbound_at=timezone.now()  # the 48-hour window is open: a 客服消息 can go
    )
    await answer(town, token, answer="unsatisfied", comment="处理太慢")
    (survey,) = await town.surveys(cid)
    lead = await town.city.login("shift_lead")
    r = await town.client.post(
        f"/api/v1/surveys/{survey.id}/review",
        json={"justified": False, "reason": "已在时限内办结，现场已清理"},
        headers=lead,
    )
    assert r.status == 200
    await town.advance(local(2026, 12, 1, 11, 0))
    assert (await Case.get(id=cid)).status == "closed"
    (told,) = [t for t in town.api.texts() if "不满意评价" in t["text"]["content"]]
    assert "已在时限内办结" in told["text"]["content"]
    page = await (await town.client.get(f"/survey/{token}")).text()
    assert "暂不重新办理" in page and "已在时限内办结，现场已清理" in page
    _, form = await town.city.get(f"/api/v1/surveys/answer/{token}", "acceptor")
    assert (form["review"], form["review_reason"]) == ("unjustified", "已在时限内办结，现场已清理")


async def test_a_reopen_voids_the_open_survey(town: Town) -> None:
    cid, token = await asked_case(town, "ivy")
    await town.city.ok(cid, "reopen", "shift_lead", note="领导督办，重新处理")
    await town.advance(local(2026, 12, 1, 11, 0))
    (survey,) = await town.surveys(cid)
    assert survey.status == SurveyStatus.VOIDED
    status, err = await answer(town, token, answer="satisfied")
    assert (status, err["code"]) == (409, "survey_closed")
    page = await town.client.get(f"/survey/{token}")
    assert page.status == 409 and "重新办理" in await page.text()


async def test_only_the_shift_lead_decides_and_nothing_changes_otherwise(town: Town) -> None:
    cid, token = await asked_case(town, "jack")
    await answer(town, token, answer="unsatisfied")
    (survey,) = await town.surveys(cid)
    for who in ("acceptor", "agent", "handler_hw", "inspector2"):
        r = await town.client.post(
            f"/api/v1/surveys/{survey.id}/review",
            json={"justified": True, "reason": "试试"},
            headers=await town.city.login(who),
        )
        assert r.status == 403, who
    assert (await Survey.get(id=survey.id)).review == "pending"
    assert (await Case.get(id=cid)).status == "closed"


async def test_a_reminder_that_crosses_an_answer_never_writes_over_it(town: Town) -> None:
    cid, token = await asked_case(town, "kim")
    (stale,) = await town.surveys(cid)  # what a reminder job read before the answer came
    assert (await answer(town, token, answer="satisfied"))[0] == 200
    runtime = town.client.app[RUNTIME]
    assert stale.expires_at is not None
    await delivery._asked(
        JobContext(runtime, 0, 0),
        survey_of(runtime),
        stale,
        "wechat_oa",
        town.clock.at,
        stale.expires_at,
    )
    survey = await Survey.get(id=stale.id)
    assert (survey.status, survey.answer, survey.asks) == ("answered", "satisfied", 1)
