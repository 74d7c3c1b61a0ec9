"""The chat as a citizen meets it (channels/wechat_oa/conversation.py): any order, plain words,
forgiving of what people actually type."""

from __future__ import annotations

import datetime as dt

from tortoise import timezone

from cases.models import Case
from channels.wechat_oa.models import Draft
from tests.channels.wechat_oa.conftest import Chat


async def test_any_order_address_typed_and_voice_as_text(plain_chat: Chat) -> None:
    chat = plain_chat
    assert "请发送位置" in await chat.say("小区门口的路灯坏了")
    reply = await chat.say("地址：示范路99号")
    assert "已记录地址：示范路99号" in reply and "回复 1 确认提交" in reply
    xml = chat.wechat.message(
        chat.openid, "voice", MediaId="v1", Format="amr", Recognition="晚上一片漆黑"
    )
    status, heard = await chat.post(xml)
    assert status == 200 and "回复 1 确认提交" in heard
    assert "上报成功" in await chat.say("确认")
    case = await Case.get()
    assert case.address == "示范路99号" and case.grid_id is None


async def test_a_place_outside_the_city_is_told_and_the_draft_kept(plain_chat: Chat) -> None:
    chat = plain_chat
    await chat.say("马路上有个大坑")
    assert "不在示范市的管辖范围内" in await chat.location(116.397, 39.909)  # 北京
    lon, lat = await chat.place()
    assert "回复 1 确认提交" in await chat.location(lon, lat)
    assert "上报成功" in await chat.say("1")
    assert (await Case.get()).grid_id is not None


async def test_query_lists_my_reports_with_status_names(plain_chat: Chat) -> None:
    chat = plain_chat
    assert "还没有上报记录" in await chat.say("查询")
    lon, lat = await chat.place()
    await chat.location(lon, lat)
    await chat.say("垃圾桶满了")
    await chat.say("1")
    case = await Case.get()
    mine = await chat.say("查询")
    assert case.number is not None and case.number in mine and "待受理" in mine
    assert case.number in await chat.event("CLICK", EventKey="MY_REPORTS")


async def test_help_cancel_and_things_it_cannot_read(plain_chat: Chat) -> None:
    chat = plain_chat
    assert "拍照发送" in await chat.say("帮助")
    assert "没有待确认的上报" in await chat.say("1")
    await chat.say("树倒了")
    assert "已取消" in await chat.say("0")
    assert await Draft.filter(status="cancelled").count() == 1
    xml = chat.wechat.message(chat.openid, "link", Title="t", Description="d", Url="http://x")
    assert "暂时无法识别" in (await chat.post(xml))[1]
    assert "感谢关注" in await chat.event("subscribe", EventKey="qrscene_123", Ticket="T")
    assert await chat.event("unsubscribe") == ""


async def test_an_idle_draft_expires_and_the_citizen_is_told(plain_chat: Chat) -> None:
    chat = plain_chat
    await chat.say("井盖松动")
    await Draft.filter().update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    reply = await chat.say("路面塌陷")
    assert "已超过30分钟未更新，已作废" in reply
    live = await Draft.get(status="open")
    assert live.description == "路面塌陷"
