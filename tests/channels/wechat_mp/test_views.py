"""The 小程序's API (/api/v1/mp) as its pages call it, with WeChat's servers faked at the
network boundary: login, report with photos at a GCJ-02 point, my reports, the detail with the
after-photo, subscribe messages only while a quota exists, one person across both channels."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from cases.models import Case
from channels.wechat_mp.models import MpDelivery, Quota, Session
from core.auth.models import Citizen
from core.org.models import Grid
from tests.cases.helpers import grid_code
from tests.channels.wechat_mp.conftest import Phone, make_phone, oa_chat
from tests.channels.wechat_oa.conftest import run_due_jobs

OPENID = "oMP_citizen_000000000000001"


async def test_login_report_mine_detail_and_a_subscribe_message_per_quota(
    phone: Phone, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="channels")
    me = await phone.login(OPENID)
    session_key = (await Session.get()).session_key
    first, second = await phone.photo(me), await phone.photo(me, (200, 30, 30))
    status, out = await phone.report(
        me,
        idempotency_key="r-1",
        photos=[first, second],
        location=await phone.gcj02(street=2),
        description="人行道上堆满了装修垃圾",
    )
    assert status == 201, out
    assert out["number"] and out["status_name"] == "待受理" and not out["merged"]
    case = await Case.get(id=out["case_id"])
    assert case.source == "wechat_mp"
    assert (await Grid.get(id=case.grid_id)).code == grid_code(phone.city.settings, 2)

    r = await phone.client.get("/api/v1/mp/reports", headers=me)
    page = await r.json()
    assert r.status == 200 and [i["number"] for i in page["items"]] == [out["number"]]
    assert page["items"][0]["description"] == "人行道上堆满了装修垃圾"
    assert "light" not in page["items"][0]

    # The centre files, dispatches; the department fixes: no authorisation yet, nothing sent.
    await phone.city.ok(case.id, "register", "acceptor")
    hw = await phone.city.department("HW")
    await phone.city.ok(case.id, "dispatch", "dispatcher", department_id=hw)
    handler = await phone.city.login("handler_hw")
    fixed = await phone.city.photo(handler)
    await phone.city.ok(case.id, "handle", "handler_hw", attachments=[fixed])
    await _run_jobs(phone)
    assert phone.api.subscribes() == []
    r = await phone.client.get(f"/api/v1/mp/reports/{case.id}", headers=me)
    detail = await r.json()
    assert r.status == 200 and detail["status_name"] == "待核查"
    kinds = [p["kind"] for p in detail["photos"]]
    assert kinds.count("report") == 2 and kinds.count("after") == 1  # the fix, once
    assert all("/public/" in p["public_url"] for p in detail["photos"])

    # Now the citizen allows one progress message: the 结案 is told, and only it.
    r = await phone.client.post(
        "/api/v1/mp/subscriptions",
        json={"errMsg": "requestSubscribeMessage:ok", "SUB_PROGRESS": "accept"},
        headers=me,
    )
    assert r.status == 200 and (await r.json())["items"][0]["remaining"] == 1
    await phone.city.ok(case.id, "check-result", "inspector2", passed=True)
    await phone.city.ok(case.id, "close", "acceptor")
    await phone.city.ok(case.id, "reopen", "shift_lead", note="市民反映未清理干净")
    await _run_jobs(phone)
    [sent] = phone.api.subscribes()  # one quota: one message
    assert sent["touser"] == OPENID and sent["data"]["phrase2"]["value"] == "已结案"
    assert sent["page"] == f"pages/report/detail?id={case.id}"
    assert sent["miniprogram_state"] == "formal" and sent["lang"] == "zh_CN"
    told = {d.action: d.status for d in await MpDelivery.filter(case_id=case.id)}
    assert told["close"] == "sent" and told["reopen"] == "no_quota"
    assert told["register"] == told["dispatch"] == told["handle"] == "no_quota"
    # session_key never leaves the server.
    everything = str(page) + str(detail) + "\n".join(r.getMessage() for r in caplog.records)
    assert session_key not in everything


async def _run_jobs(phone: Phone) -> None:
    await run_due_jobs(phone.client)


async def test_a_replayed_report_is_the_same_case_and_nobody_else_reads_it(phone: Phone) -> None:
    me = await phone.login(OPENID)
    body: dict[str, Any] = {
        "idempotency_key": "same-key",
        "location": await phone.gcj02(),
        "description": "路灯不亮",
    }
    first = await phone.report(me, **body)
    again = await phone.report(me, **body)
    assert (first[0], again[0]) == (201, 200)
    assert first[1]["case_id"] == again[1]["case_id"] and not again[1]["created"]
    assert await Case.all().count() == 1
    stranger = await phone.login("oMP_stranger_0000000000000002")
    r = await phone.client.get(f"/api/v1/mp/reports/{first[1]['case_id']}", headers=stranger)
    assert r.status == 404
    r = await phone.client.get("/api/v1/mp/reports", headers=stranger)
    assert (await r.json())["total"] == 0


@pytest.mark.parametrize(
    ("code", "status", "error"),
    [
        ("never-issued", 400, "wx_code_invalid"),
        ("used", 400, "wx_code_used"),
        ("", 422, "validation_error"),
    ],
)
async def test_bad_login_codes_are_told_plainly(
    phone: Phone, code: str, status: int, error: str
) -> None:
    phone.api.used_codes.add("used")
    r = await phone.client.post("/api/v1/mp/login", json={"code": code})
    body = await r.json()
    assert r.status == status and body["code"] == error and body["message"]
    assert await Session.all().count() == 0


async def test_the_phone_number_is_kept_and_shown_masked(phone: Phone) -> None:
    me = await phone.login(OPENID)
    phone.api.phone_codes["phone-1"] = "13812345678"
    r = await phone.client.post("/api/v1/mp/phone", json={"code": "phone-1"}, headers=me)
    assert r.status == 200 and (await r.json())["phone"] == "138****5678"
    assert (await Citizen.get(external_id=OPENID)).phone == "13812345678"
    r = await phone.client.post("/api/v1/mp/phone", json={"code": "bogus"}, headers=me)
    assert r.status == 400 and (await r.json())["code"] == "wx_code_invalid"


async def test_a_refused_subscribe_message_is_recorded_and_not_retried(phone: Phone) -> None:
    me = await phone.login(OPENID)
    await phone.client.post("/api/v1/mp/subscriptions", json={"SUB_PROGRESS": "accept"}, headers=me)
    _, out = await phone.report(
        me, idempotency_key="k", location=await phone.gcj02(), description="井盖缺失"
    )
    phone.api.fail["/cgi-bin/message/subscribe/send"] = [43101]
    await phone.city.ok(out["case_id"], "register", "acceptor")
    await _run_jobs(phone)
    [refused] = await MpDelivery.filter(case_id=out["case_id"])
    assert (refused.status, refused.errcode) == ("undeliverable", 43101)
    assert (await Quota.get()).remaining == 0
    r = await phone.client.post(
        "/api/v1/mp/subscriptions", json={"SUB_OTHER": "accept"}, headers=me
    )
    assert r.status == 422 and (await r.json())["code"] == "unknown_template"


async def test_one_person_through_the_official_account_and_the_mini_program(phone: Phone) -> None:
    phone.api.unionids |= {"oOA_person_0000000000000001": "UNION-1", OPENID: "UNION-1"}
    chat = oa_chat(phone, "oOA_person_0000000000000001")
    await chat.event("subscribe")
    await chat.run_jobs()  # the follower's unionid, from WeChat
    lon, lat = await chat.place(street=3)
    await chat.location(lon, lat)
    await chat.say("公园里的长椅坏了")
    assert "上报成功" in await chat.say("1")
    me = await phone.login(OPENID)
    await phone.report(
        me, idempotency_key="mp", location=await phone.gcj02(2), description="路面塌陷"
    )
    r = await phone.client.get("/api/v1/mp/reports", headers=me)
    assert sorted(i["description"] for i in (await r.json())["items"]) == [
        "公园里的长椅坏了",
        "路面塌陷",
    ]
    listed = await chat.say("查询")
    numbers = [c.number for c in await Case.all()]
    assert all(n and n in listed for n in numbers)


async def test_reports_per_hour_are_limited_with_a_clear_429(
    aiohttp_client: Any, settings: Any, wechat_api: Any
) -> None:
    phone = await make_phone(aiohttp_client, settings, wechat_api, reports_per_hour=2)
    me = await phone.login(OPENID)
    for i in range(2):
        status, _ = await phone.report(
            me,
            idempotency_key=f"k{i}",
            location=await phone.gcj02(2, east_m=60 * i),
            description="垃圾",
        )
        assert status == 201
    status, body = await phone.report(
        me, idempotency_key="k9", location=await phone.gcj02(3), description="垃圾"
    )
    assert (
        status == 429
        and body["code"] == "too_many_reports"
        and "每小时最多上报2次" in body["message"]
    )
    status, _ = await phone.report(  # a replay of a filed one is no new report
        me, idempotency_key="k0", location=await phone.gcj02(2), description="垃圾"
    )
    assert status == 200


async def test_nearby_open_problems_in_the_maps_coordinates(phone: Phone) -> None:
    me = await phone.login(OPENID)
    here = await phone.gcj02(2)
    _, out = await phone.report(me, idempotency_key="n", location=here, description="树枝挡路")
    r = await phone.client.get(
        "/api/v1/mp/nearby",
        params={"lon": here["lon"], "lat": here["lat"], "radius_m": 100},
        headers=me,
    )
    [item] = (await r.json())["items"]
    assert item["number"] == out["number"] and item["distance_m"] < 1
    assert abs(item["lon"] - here["lon"]) < 1e-6  # GCJ-02 back, as the page's map draws
    assert "description" not in item
    far = await phone.gcj02(4)
    r = await phone.client.get(
        "/api/v1/mp/nearby",
        params={"lon": far["lon"], "lat": far["lat"], "radius_m": 100},
        headers=me,
    )
    assert (await r.json())["items"] == []


async def test_categories_for_the_picker_and_every_route_in_openapi(phone: Phone) -> None:
    me = await phone.login(OPENID)
    r = await phone.client.get("/api/v1/mp/categories", headers=me)
    items = (await r.json())["items"]
    garbage = next(i for i in items if i["code"] == "E06010")
    assert garbage["name"] == "暴露垃圾" and garbage["icon"] == "garbage"
    assert "source" not in garbage and "department" not in garbage
    spec = await (await phone.client.get("/api/openapi.json")).json()
    mp = {p for p in spec["paths"] if p.startswith("/api/v1/mp")}
    assert mp == {
        "/api/v1/mp/login",
        "/api/v1/mp/phone",
        "/api/v1/mp/reports",
        "/api/v1/mp/reports/form",
        "/api/v1/mp/reports/{case_id}",
        "/api/v1/mp/categories",
        "/api/v1/mp/nearby",
        "/api/v1/mp/subscriptions",
        "/api/v1/mp/flagged",
    }
    assert "requestBody" in spec["paths"]["/api/v1/mp/reports"]["post"]


async def test_control_characters_are_refused_naming_the_field(phone: Phone) -> None:
    # PostgreSQL refuses NUL in text (SQLite keeps it): the suite runs this on both.
    me = await phone.login(OPENID)
    status, body = await phone.report(
        me, idempotency_key="nul", address="示范路1号", description="井盖\x00丢了"
    )
    assert status == 422 and [f["field"] for f in body["fields"]] == ["description"]
    assert await Case.all().count() == 0
