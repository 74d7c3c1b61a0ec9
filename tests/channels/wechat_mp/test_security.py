"""Content security (channels/wechat_mp/security.py): risky words refused and nothing filed,
WeChat down never blocks a report, a risky photo pushed by WeChat flags the report."""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any

import pytest

from cases.models import Case
from channels.wechat_mp.models import MpReport
from tests.channels.wechat_mp.conftest import PUSH_TOKEN, Phone, make_phone

OPENID = "oMP_citizen_000000000000001"


@pytest.fixture
async def checked(aiohttp_client: Any, settings: Any, wechat_api: Any) -> Phone:
    return await make_phone(aiohttp_client, settings, wechat_api, content_check=True)


async def _flagged(phone: Phone) -> list[dict[str, Any]]:
    acceptor = await phone.city.login("acceptor")
    r = await phone.client.get("/api/v1/mp/flagged", headers=acceptor)
    assert r.status == 200
    return list((await r.json())["items"])


async def test_risky_text_is_refused_and_nothing_filed(checked: Phone) -> None:
    checked.api.risky_words.add("违禁词")
    me = await checked.login(OPENID)
    status, body = await checked.report(
        me, idempotency_key="r", location=await checked.gcj02(), description="这里有违禁词"
    )
    assert status == 422 and body["code"] == "content_risky" and "请修改后再提交" in body["message"]
    assert await Case.all().count() == 0
    status, body = await checked.report(
        me, idempotency_key="r2", location=await checked.gcj02(), description="路边垃圾"
    )
    assert status == 201 and body["check"] == "pass"


async def test_wechat_down_files_the_report_and_flags_it_for_a_person(checked: Phone) -> None:
    me = await checked.login(OPENID)
    checked.api.fail["/wxa/msg_sec_check"] = ["500"]
    status, body = await checked.report(
        me, idempotency_key="d", location=await checked.gcj02(), description="井盖丢了"
    )
    assert status == 201 and body["check"] == "unchecked"
    [flag] = await _flagged(checked)
    assert (flag["number"], flag["check"]) == (body["number"], "unchecked")


def _push(payload: dict[str, Any], token: str = PUSH_TOKEN) -> tuple[dict[str, str], bytes]:
    ts, nonce = str(int(time.time())), "98765"
    sig = hashlib.sha1("".join(sorted([token, ts, nonce])).encode()).hexdigest()  # noqa: S324
    return {"signature": sig, "timestamp": ts, "nonce": nonce}, json.dumps(payload).encode()


async def test_a_risky_photo_pushed_by_wechat_flags_the_report(checked: Phone) -> None:
    me = await checked.login(OPENID)
    photo = await checked.photo(me)
    status, body = await checked.report(
        me, idempotency_key="p", photos=[photo], location=await checked.gcj02(), description="乱贴"
    )
    assert status == 201 and body["check"] == "pending"
    from tests.channels.wechat_mp.test_views import _run_jobs

    await _run_jobs(checked)
    [sent] = checked.api.media_checks
    assert sent["media_url"].startswith("https://city.example.cn/api/v1/media/public/")
    assert (sent["version"], sent["media_type"], sent["openid"]) == (2, 2, OPENID)
    verdict = {
        "ToUserName": "gh_mp",
        "FromUserName": OPENID,
        "CreateTime": int(time.time()),
        "MsgType": "event",
        "Event": "wxa_media_check",
        "trace_id": sent["trace_id"],
        "version": 2,
        "result": {"suggest": "risky", "label": 20002},
    }
    query, data = _push(verdict, token="not-our-token")
    r = await checked.client.post("/wechat/mp", params=query, data=data)
    assert r.status == 403
    assert (await MpReport.get()).check == "pending"
    query, data = _push(verdict)
    r = await checked.client.post("/wechat/mp", params=query, data=data)
    assert r.status == 200 and await r.text() == "success"
    [flag] = await _flagged(checked)
    assert flag["check"] == "risky" and "20002" in flag["detail"]
    citizen = await checked.client.get("/api/v1/mp/flagged", headers=me)
    assert citizen.status == 403  # the centre's list, not the citizen's
