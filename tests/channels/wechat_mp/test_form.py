"""A report with its photos in one multipart request (channels/wechat_mp/form.py)."""

from __future__ import annotations

import json

from aiohttp import FormData

from cases.models import Case, CaseAttachment
from core.media.models import MediaObject
from tests.cases.helpers import jpeg
from tests.channels.wechat_mp.conftest import Phone

OPENID = "oMP_citizen_000000000000001"


async def test_a_report_and_two_photos_in_one_request(phone: Phone) -> None:
    me = await phone.login(OPENID)
    report = {"idempotency_key": "f1", "location": await phone.gcj02(2), "description": "占道经营"}
    form = FormData(default_to_multipart=True)
    form.add_field(
        "report", json.dumps(report, ensure_ascii=False), content_type="application/json"
    )
    form.add_field("file", jpeg((10, 200, 10)), filename="a.jpg", content_type="image/jpeg")
    form.add_field("file", jpeg((10, 10, 200)), filename="b.jpg", content_type="image/jpeg")
    r = await phone.client.post("/api/v1/mp/reports/form", data=form, headers=me)
    out = await r.json()
    assert r.status == 201, out
    assert await CaseAttachment.filter(case_id=out["case_id"]).count() == 2


async def test_unknown_parts_and_a_missing_report_are_refused_and_nothing_kept(
    phone: Phone,
) -> None:
    me = await phone.login(OPENID)
    form = FormData(default_to_multipart=True)
    form.add_field(
        "report", json.dumps({"idempotency_key": "x", "description": "a", "address": "b"})
    )
    form.add_field("extra", "x" * 1000)
    r = await phone.client.post("/api/v1/mp/reports/form", data=form, headers=me)
    assert r.status == 400 and (await r.json())["code"] == "unknown_part"
    form = FormData(default_to_multipart=True)
    form.add_field("file", jpeg(), filename="a.jpg", content_type="image/jpeg")
    r = await phone.client.post("/api/v1/mp/reports/form", data=form, headers=me)
    assert r.status == 400 and (await r.json())["code"] == "report_missing"
    r = await phone.client.post("/api/v1/mp/reports/form", json={"a": 1}, headers=me)
    assert r.status == 400 and (await r.json())["code"] == "multipart_required"
    assert await Case.all().count() == 0 and await MediaObject.all().count() == 0


async def test_a_bad_report_part_names_the_field(phone: Phone) -> None:
    me = await phone.login(OPENID)
    form = FormData(default_to_multipart=True)
    form.add_field("report", json.dumps({"idempotency_key": "", "description": "a"}))
    r = await phone.client.post("/api/v1/mp/reports/form", data=form, headers=me)
    body = await r.json()
    assert r.status == 422 and [f["field"] for f in body["fields"]] == ["idempotency_key"]
