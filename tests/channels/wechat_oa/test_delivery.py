"""Telling the citizen (channels/wechat_oa/delivery.py): template messages reach the fake
WeChat API, link a working case page, and WeChat's failures end as the notice's record."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from tortoise import timezone

from cases.models import Case, CaseEvent
from channels.wechat_oa.models import Delivery, Follower
from core.jobs.models import OutboxItem, OutboxStatus
from core.timeutil import to_local
from tests.channels.wechat_oa.conftest import Chat, hours_ago
from tests.channels.wechat_server import APP_SECRET


async def _reported(chat: Chat) -> Case:
    """A case the citizen reported through the chat (no photo)."""
    await chat.event("subscribe")
    lon, lat = await chat.place()
    await chat.location(lon, lat, label="示范路8号")
    await chat.say("人行道上堆满了建筑垃圾")
    assert "上报成功" in await chat.say("1")
    return await Case.get()


async def _register(chat: Chat, case: Case) -> None:
    await chat.city.ok(case.id, "register", "acceptor", category_code=case.category_code)


async def test_filing_the_case_sends_a_template_message_linking_the_case_page(
    chat: Chat,
) -> None:
    case = await _reported(chat)
    await _register(chat, case)
    await chat.run_jobs()
    [sent] = chat.api.templates()
    assert sent["touser"] == chat.openid and sent["template_id"] == "TPL_PROGRESS"
    case = await Case.get(id=case.id)
    assert sent["data"]["character_string1"]["value"] == case.number
    assert sent["data"]["phrase3"]["value"] == "待派遣"
    assert sent["client_msg_id"].startswith("cityloop-")
    delivery = await Delivery.get(case_id=case.id)
    assert (delivery.action, delivery.kind, delivery.status) == ("register", "template", "sent")

    url = sent["url"]
    assert url.startswith("https://city.example.cn/wechat/oa/cases/")
    page = await chat.client.get(url.removeprefix("https://city.example.cn"))
    html = await page.text()
    assert page.status == 200 and case.number is not None and case.number in html
    assert "立案" in html and "待派遣" in html and "人行道上堆满了建筑垃圾" in html
    filed = await CaseEvent.get(case_id=case.id, action="register")
    assert f"<time>{to_local(filed.created_at):%Y-%m-%d %H:%M}</time>" in html  # Beijing time
    forged = await chat.client.get(url.removeprefix("https://city.example.cn")[:-4] + "0000")
    assert forged.status == 404


async def test_a_move_without_template_is_a_custom_message_while_the_window_is_open(
    aiohttp_client: Any, settings: Any, wechat_api: Any
) -> None:
    from tests.channels.wechat_oa.conftest import make_chat

    chat = await make_chat(aiohttp_client, settings, wechat_api, safe=False, templates=False)
    case = await _reported(chat)
    await _register(chat, case)
    await chat.run_jobs()
    [text] = chat.api.texts()
    assert "有新进展：立案" in text["text"]["content"]
    # Two days later the window is closed: nothing can be sent, and that is recorded.
    await Follower.filter(openid=chat.openid).update(last_inbound_at=hours_ago(49))
    hw = await chat.city.department("HW")
    await chat.city.ok(case.id, "dispatch", "dispatcher", department_id=hw)
    await chat.run_jobs()
    assert len(chat.api.texts()) == 1
    skipped = await Delivery.get(case_id=case.id, action="dispatch")
    assert skipped.status == "skipped"


async def test_the_centre_writes_to_the_reporter_from_the_case(plain_chat: Chat) -> None:
    chat = plain_chat
    case = await _reported(chat)
    out = await chat.city.ok(case.id, "message", "acceptor", text="请补拍一张近处的照片")
    assert out["status"] == case.status  # the case itself does not move
    await chat.run_jobs()
    [text] = chat.api.texts()
    assert "城市管理中心留言" in text["text"]["content"]
    assert "请补拍一张近处的照片" in text["text"]["content"]
    detail = await chat.city.detail(case.id)
    assert [e["action"] for e in detail["timeline"]][-1] == "message"


async def test_an_expired_token_mid_send_is_refreshed_once_and_the_send_done_once(
    plain_chat: Chat,
) -> None:
    chat = plain_chat
    case = await _reported(chat)
    await _register(chat, case)
    await chat.run_jobs()
    assert chat.api.token_fetches == 1
    chat.api.expire_tokens()  # e.g. refreshed by someone else with the same secret
    hw = await chat.city.department("HW")
    await chat.city.ok(case.id, "dispatch", "dispatcher", department_id=hw)
    await chat.run_jobs()
    assert chat.api.token_fetches == 2
    assert [t["data"]["phrase3"]["value"] for t in chat.api.templates()] == ["待派遣", "处置中"]


@pytest.mark.parametrize(
    ("failure", "status", "delivery"),
    [
        (43004, OutboxStatus.DONE, "undeliverable"),  # unsubscribed
        (45009, OutboxStatus.PENDING, None),  # daily quota: waits, no attempt used
        ("500", OutboxStatus.PENDING, None),  # WeChat down: retried with back-off
        ("timeout", OutboxStatus.PENDING, None),
        (-1, OutboxStatus.PENDING, None),  # 系统繁忙
    ],
)
async def test_wechat_failures_end_as_the_notice_says(
    plain_chat: Chat,
    failure: Any,
    status: OutboxStatus,
    delivery: str | None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    chat = plain_chat
    case = await _reported(chat)
    chat.api.fail["/cgi-bin/message/template/send"] = [failure]
    # Our own loggers at their most talkative (SQL loggers are kept at INFO by setup_logging).
    for name in ("channels", "core", "cases"):
        caplog.set_level(logging.DEBUG, logger=name)
    await _register(chat, case)
    await chat.run_jobs()
    row = await OutboxItem.get(kind="notify.wechat_oa")
    assert row.status == status
    found = await Delivery.get_or_none(outbox_id=row.id)
    assert (found.status if found else None) == delivery
    if failure == 45009:
        assert row.attempts == 0 and (row.available_at - row.created_at).total_seconds() > 3000
    if failure == 43004:
        assert not (await Follower.get(openid=chat.openid)).subscribed
    if status == OutboxStatus.PENDING:
        assert chat.api.templates() == []
    # Neither the app secret nor an access token reaches a log or the outbox's error.
    tokens = {s.token for s in chat.api.sent} | chat.api.tokens
    ours = [r for r in caplog.records if r.name.split(".")[0] in ("channels", "core", "cases")]
    logged = "\n".join(r.getMessage() for r in ours) + (row.last_error or "")
    assert APP_SECRET not in logged
    assert not any(t in logged for t in tokens)


async def test_a_report_not_filed_tells_the_reason(
    aiohttp_client: Any, settings: Any, wechat_api: Any
) -> None:
    from tests.channels.wechat_oa.conftest import make_chat

    chat = await make_chat(aiohttp_client, settings, wechat_api, safe=False, templates=False)
    case = await _reported(chat)
    await chat.city.ok(case.id, "reject", "acceptor", note="经核实不属于城市管理范围，已转交物业")
    await chat.run_jobs()
    [text] = chat.api.texts()
    assert "不予立案" in text["text"]["content"]
    assert "原因：经核实不属于城市管理范围，已转交物业" in text["text"]["content"]


async def test_a_late_notice_tells_the_status_its_move_led_to(plain_chat: Chat) -> None:
    chat = plain_chat
    case = await _reported(chat)
    chat.api.fail["/cgi-bin/message/template/send"] = ["500"]  # the 立案 notice must wait
    await _register(chat, case)
    await chat.run_jobs()
    hw = await chat.city.department("HW")
    await chat.city.ok(case.id, "dispatch", "dispatcher", department_id=hw)
    await OutboxItem.filter(status="pending").update(available_at=timezone.now())
    await chat.run_jobs()
    told = sorted(t["data"]["phrase3"]["value"] for t in chat.api.templates())
    assert told == ["处置中", "待派遣"]  # the late 立案 notice still says 待派遣
