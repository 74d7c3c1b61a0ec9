"""GET/POST /wechat/oa as WeChat's servers call them: signatures, safe mode, retries, and the
whole report from subscribe to the case number."""

from __future__ import annotations

import time

from cases.models import Case, CaseAttachment, Report
from channels.wechat_oa.models import Inbound
from core.org.models import Grid
from tests.cases.helpers import grid_code
from tests.channels.wechat_oa.conftest import Chat
from tests.channels.wechat_server import WeChatServer, _sha1


async def test_a_citizen_reports_a_problem_from_subscribe_to_case_number(chat: Chat) -> None:
    assert "感谢关注" in await chat.event("subscribe")
    assert "已收到照片（共1张）" in await chat.photo("MEDIA_PHOTO_1")
    lon, lat = await chat.place(street=2)
    assert "已收到位置" in await chat.location(lon, lat, label="示范路12号")
    confirm = await chat.say("路边垃圾堆积很多天了")
    assert "回复 1 确认提交" in confirm and "示范路12号" in confirm and "照片：1张" in confirm
    await chat.run_jobs({"wechat_oa.fetch_photo"})  # the photo, fetched from WeChat

    done = await chat.say("1")
    assert "上报成功！案件编号：" in done
    case = await Case.get()
    assert case.number is not None and case.number in done
    assert case.source == "wechat_oa"
    grid = await Grid.get(id=case.grid_id)
    assert grid.code == grid_code(chat.city.settings, 2)  # GCJ-02 converted at the edge
    report = await Report.get(case_id=case.id)
    assert report.description == "路边垃圾堆积很多天了" and report.citizen_id is not None
    assert await CaseAttachment.filter(case_id=case.id).count() == 1


async def test_the_same_msgid_three_times_is_one_message_and_one_case(chat: Chat) -> None:
    lon, lat = await chat.place()
    await chat.location(lon, lat, label="示范路1号")
    xml = chat.wechat.message(chat.openid, "text", Content="井盖丢了", msg_id=424242)
    answers = [await chat.post(xml) for _ in range(3)]  # WeChat retries after 5 s, 3 times
    assert [a[0] for a in answers] == [200, 200, 200]
    assert answers[0][1] == answers[1][1] == answers[2][1]  # the same reply each time
    assert await Inbound.filter(msg_key="424242").count() == 1
    confirm = chat.wechat.message(chat.openid, "text", Content="1", msg_id=434343)
    numbers = {(await chat.post(confirm))[1] for _ in range(3)}
    assert len(numbers) == 1 and "上报成功" in numbers.pop()
    assert await Case.all().count() == 1
    assert await Report.all().count() == 1


async def test_a_bad_signature_or_a_stale_timestamp_is_refused_and_nothing_kept(
    chat: Chat,
) -> None:
    xml = chat.wechat.message(chat.openid, "text", Content="你好")
    query, body = chat.wechat.signed(xml)
    key = "msg_signature" if chat.wechat.safe else "signature"
    forged = {**query, key: "0" * 40}
    r = await chat.client.post("/wechat/oa", params=forged, data=body)
    assert r.status == 403 and (await r.json())["code"] == "wechat_signature_invalid"
    stale = int(time.time()) - 3600
    status, text = await chat.post(xml, timestamp=stale)
    assert status == 403 and "wechat_timestamp_stale" in text
    assert await Inbound.all().count() == 0


async def test_safe_mode_refuses_plaintext_messages(chat: Chat) -> None:
    plain = WeChatServer(safe=False)
    query, body = plain.signed(plain.message(chat.openid, "text", Content="你好"))
    r = await chat.client.post("/wechat/oa", params=query, data=body)
    if chat.wechat.safe:
        assert r.status == 403 and (await r.json())["code"] == "wechat_plaintext_refused"
        assert await Inbound.all().count() == 0
    else:
        assert r.status == 200


async def test_the_url_check_echoes_only_when_signed_with_our_token(chat: Chat) -> None:
    ts, nonce = str(int(time.time())), "1234567"
    good = {"signature": _sha1(chat.wechat.token, ts, nonce), "timestamp": ts, "nonce": nonce}
    r = await chat.client.get("/wechat/oa", params={**good, "echostr": "8513261592"})
    assert r.status == 200 and await r.text() == "8513261592"
    bad = {**good, "signature": _sha1("another-token", ts, nonce), "echostr": "1"}
    r = await chat.client.get("/wechat/oa", params=bad)
    assert r.status == 403


async def test_malformed_xml_is_a_400_with_a_chinese_message(plain_chat: Chat) -> None:
    status, text = await plain_chat.post("<xml><MsgType>text")
    assert status == 400 and "malformed_xml" in text and "微信消息格式不正确" in text


async def test_without_an_app_id_the_channel_mounts_nothing(client: object) -> None:
    from aiohttp.test_utils import TestClient

    assert isinstance(client, TestClient)
    r = await client.get("/wechat/oa", params={"echostr": "1"})
    assert r.status == 404


async def test_bad_bytes_and_a_forged_sender_are_refused_and_nothing_kept(
    plain_chat: Chat,
) -> None:
    # NUL is not XML (and PostgreSQL refuses it in text): the suite runs this on both.
    status, text = await plain_chat.post(
        plain_chat.wechat.message(plain_chat.openid, "text", Content="井盖\x00丢了")
    )
    assert status == 400 and "malformed_xml" in text
    bad = plain_chat.wechat.message("o-evil/../x y", "text", Content="你好")
    status, text = await plain_chat.post(bad)
    assert status == 400 and "malformed_xml" in text
    query, body = plain_chat.wechat.signed(plain_chat.wechat.message(plain_chat.openid, "text"))
    r = await plain_chat.client.post("/wechat/oa", params=query, data=b"\xff\xfe" + body)
    assert r.status == 400 and (await r.json())["code"] == "malformed_xml"
    assert await Inbound.all().count() == 0
