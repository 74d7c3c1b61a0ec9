"""What a citizen and a member of staff may see and use: their own photos, their own words,
and the originals of cases they work on; not other reporters' words, phones or photos."""

from __future__ import annotations

import io
import json
from typing import Any

from aiohttp import FormData
from PIL import Image

from cases.models import Case, CaseAttachment, Report
from tests.cases.helpers import City, jpeg, shifted

A_TEXT = "我是张三 电话13812345678 家门口有垃圾"
A_PHONE = "13812345678"
B_TEXT = "李四反映：这里垃圾很多，电话13987654321"
B_PHONE = "13987654321"
DISPATCH_NOTE = "内部备注：交环卫三队，勿告知市民"
VERIFY_NOTE = "监督员现场核实属实"
EXTEND_NOTE = "需调配清运车辆"


async def _upload(city: City, who: dict[str, str], colour: tuple[int, int, int]) -> int:
    """Upload a JPEG of one colour (a different photo per colour); return its media id."""
    form = FormData()
    form.add_field("file", jpeg(colour), filename="photo.jpg", content_type="image/jpeg")
    r = await city.client.post("/api/v1/media", data=form, headers=who)
    assert r.status == 201, await r.text()
    return int((await r.json())["id"])


def _text(doc: Any) -> str:
    return json.dumps(doc, ensure_ascii=False)


# --- own photos only -------------------------------------------------------------------------


async def test_a_citizen_cannot_attach_another_citizens_photo(city: City) -> None:
    a, b = await city.citizen("a"), await city.citizen("b")
    photo = await _upload(city, a, (200, 30, 30))
    status, err = await city.report(b, await city.point(1), "门口有垃圾", attachments=[photo])
    assert status == 422, err
    assert [f["field"] for f in err["fields"]] == ["attachments"]
    assert await Case.all().count() == 0
    assert await Report.all().count() == 0

    # Their own photo goes through.
    own = await _upload(city, b, (30, 200, 30))
    status, out = await city.report(b, await city.point(1), "门口有垃圾", attachments=[own])
    assert status == 201, out


async def test_one_strange_photo_among_ones_own_links_none_and_the_order_is_kept(
    city: City,
) -> None:
    a, b = await city.citizen("a"), await city.citizen("b")
    own = [await _upload(city, b, (30 * n, 200, 30)) for n in range(1, 4)]
    strange = await _upload(city, a, (200, 30, 30))
    point = await city.point(1)
    status, err = await city.report(b, point, "门口有垃圾", attachments=[*own[:2], strange])
    assert status == 422, err
    assert await Case.all().count() == 0 and await CaseAttachment.all().count() == 0

    mixed = [own[2], own[0], own[1]]
    status, out = await city.report(b, point, "门口有垃圾", attachments=mixed)
    assert status == 201, out
    detail = await city.client.get(f"/api/v1/cases/{out['case']['id']}", headers=b)
    shown = [p["media_id"] for p in (await detail.json())["attachments"]]
    assert shown == mixed  # as the reporter sent them: the first is the case's picture


async def test_a_handler_cannot_use_the_reporters_photo_as_the_fix(city: City) -> None:
    citizen = await city.citizen()
    before = await _upload(city, citizen, (120, 80, 40))
    status, out = await city.report(citizen, await city.point(2), "路边垃圾", attachments=[before])
    assert status == 201, out
    cid = out["case"]["id"]
    await city.ok(cid, "register", "acceptor")
    await city.ok(cid, "dispatch", "dispatcher", department_id=await city.department("HW"))

    status, err = await city.act(cid, "handle", "handler_hw", note="已清理", attachments=[before])
    assert status == 422, err
    assert [f["field"] for f in err["fields"]] == ["attachments"]
    # Nor another member of staff's photo.
    theirs = await _upload(city, await city.login("handler_sz"), (10, 10, 10))
    status, err = await city.act(cid, "handle", "handler_hw", note="已清理", attachments=[theirs])
    assert status == 422, err
    assert (await Case.get(id=cid)).status == "dispatched"

    after = await _upload(city, await city.login("handler_hw"), (240, 240, 240))
    handled = await city.ok(cid, "handle", "handler_hw", note="已清理", attachments=[after])
    assert handled["status"] == "handled"


# --- merged reports do not leak --------------------------------------------------------------


async def _merged_case(city: City) -> dict[str, Any]:
    """Citizen A reports, citizen B's nearby report joins it; the centre works the case up to a
    pending extension. Return the ids involved."""
    a = await city.citizen("zhangsan", phone=A_PHONE)
    b = await city.citizen("lisi", phone=B_PHONE)
    where = await city.point(2, number=2)
    photo_a = await _upload(city, a, (200, 40, 40))
    photo_b = await _upload(city, b, (40, 40, 200))
    status, first = await city.report(a, where, A_TEXT, attachments=[photo_a])
    assert status == 201, first
    cid = first["case"]["id"]
    near = shifted(where["lon"], where["lat"], east_m=10)
    status, second = await city.report(b, near, B_TEXT, attachments=[photo_b])
    assert status == 201, second
    assert (second["merged"], second["case"]["id"]) == (True, cid)

    await city.ok(cid, "accept", "acceptor")
    await city.ok(cid, "verify-result", "inspector2", passed=True, note=VERIFY_NOTE)
    await city.ok(cid, "register", "acceptor")
    hw = await city.department("HW")
    await city.ok(cid, "dispatch", "dispatcher", department_id=hw, note=DISPATCH_NOTE)
    asked = await city.ok(cid, "extend", "handler_hw", amount=1, unit="work_day", note=EXTEND_NOTE)
    assert asked["pending_request"] is not None
    return {
        "case_id": cid,
        "a": a,
        "b": b,
        "photo_a": photo_a,
        "photo_b": photo_b,
        "b_submit": second,
    }


def _sees_no_staff_side(detail: dict[str, Any]) -> None:
    text = _text(detail)
    for note in (DISPATCH_NOTE, VERIFY_NOTE, EXTEND_NOTE):
        assert note not in text
    assert detail["tasks"] == []
    assert detail["pending_request"] is None
    assert [e["actor_id"] for e in detail["timeline"] if e["actor_id"] is not None] == []
    assert {"verify_result", "extend"}.isdisjoint(e["action"] for e in detail["timeline"])


async def test_merged_reports_do_not_show_one_citizen_to_another(city: City) -> None:
    m = await _merged_case(city)
    cid = m["case_id"]

    # B's answer, list and detail: B's words and photo, nothing of A's.
    submitted = m["b_submit"]
    assert submitted["case"]["description"] == B_TEXT
    status, listed = await city.get("/api/v1/cases", m["b"])
    assert status == 200, listed
    assert [(c["id"], c["description"]) for c in listed["items"]] == [(cid, B_TEXT)]
    assert listed["items"][0]["pending_request"] is None
    seen_by_b = await city.detail(cid, m["b"])
    assert seen_by_b["description"] == B_TEXT
    for doc in (submitted, listed, seen_by_b):
        text = _text(doc)
        assert "张三" not in text
        assert A_PHONE not in text
        assert "138****5678" not in text  # not even masked
    assert [a["media_id"] for a in seen_by_b["attachments"]] == [m["photo_b"]]
    assert [r["description"] for r in seen_by_b["reports"]] == [B_TEXT]
    _sees_no_staff_side(seen_by_b)

    # A's detail: A's words and photo, nothing of B's.
    seen_by_a = await city.detail(cid, m["a"])
    assert seen_by_a["description"] == A_TEXT
    text = _text(seen_by_a)
    assert "李四" not in text
    assert B_PHONE not in text
    assert [a["media_id"] for a in seen_by_a["attachments"]] == [m["photo_a"]]
    assert [r["description"] for r in seen_by_a["reports"]] == [A_TEXT]
    _sees_no_staff_side(seen_by_a)

    # The acceptor sees everything: both reports with full phones, both photos, tasks, notes.
    full = await city.detail(cid, "acceptor")
    assert [(r["description"], r["reporter_phone"]) for r in full["reports"]] == [
        (A_TEXT, A_PHONE),
        (B_TEXT, B_PHONE),
    ]
    assert sorted(a["media_id"] for a in full["attachments"]) == sorted(
        [m["photo_a"], m["photo_b"]]
    )
    assert [t["kind"] for t in full["tasks"]] == ["verify"]
    notes = [e["note"] for e in full["timeline"]]
    assert DISPATCH_NOTE in notes and VERIFY_NOTE in notes and EXTEND_NOTE in notes
    assert full["pending_request"] == {"kind": "extend", "amount": 1.0, "unit": "work_day"}
    assert any(e["actor_id"] is not None for e in full["timeline"])


# --- originals (EXIF evidence) through a visible case ----------------------------------------


async def test_staff_reach_a_citizens_original_only_through_a_case_they_see(city: City) -> None:
    citizen = await city.citizen()
    photo = await _upload(city, citizen, (90, 140, 60))
    status, out = await city.report(citizen, await city.point(2), "路边垃圾", attachments=[photo])
    assert status == 201, out
    cid = out["case"]["id"]
    direct = f"/api/v1/media/{photo}/original"
    via_case = f"/api/v1/cases/{cid}/media/{photo}/original"

    async def fetch(path: str, who: str) -> tuple[int, bytes]:
        r = await city.client.get(path, headers=await city.login(who))
        return r.status, await r.read()

    # The grid's inspector: not straight from the media store, but through the case.
    assert (await fetch(direct, "inspector2"))[0] == 404
    status, body = await fetch(via_case, "inspector2")
    assert status == 200
    assert Image.open(io.BytesIO(body)).size == (64, 48)
    assert (await fetch(via_case, "inspector1"))[0] == 404  # another street's grids

    await city.ok(cid, "register", "acceptor")
    await city.ok(cid, "dispatch", "dispatcher", department_id=await city.department("HW"))
    assert (await fetch(via_case, "handler_hw"))[0] == 200
    assert (await fetch(via_case, "handler_sz"))[0] == 404  # another department's case
    assert (await fetch(direct, "handler_hw"))[0] == 404

    # The centre sees both ways.
    assert (await fetch(direct, "acceptor"))[0] == 200
    assert (await fetch(via_case, "acceptor"))[0] == 200
    # A photo that is not on the case is not reached through it.
    other = await _upload(city, await city.citizen("other"), (1, 2, 3))
    assert (await fetch(f"/api/v1/cases/{cid}/media/{other}/original", "acceptor"))[0] == 404


async def test_a_photos_record_and_public_url_go_only_to_those_who_see_a_case_holding_it(
    city: City,
) -> None:
    """GET /api/v1/media/{id}: ids are sequential, so nobody else learns the photo's URL."""
    citizen = await city.citizen()
    photo = await _upload(city, citizen, (200, 40, 40))
    status, out = await city.report(citizen, await city.point(2), "路边垃圾", attachments=[photo])
    assert status == 201, out
    cid = out["case"]["id"]

    async def info(who: str) -> tuple[int, dict[str, Any]]:
        r = await city.client.get(f"/api/v1/media/{photo}", headers=await city.login(who))
        return r.status, await r.json()

    assert (await info("inspector2"))[0] == 200  # the grid's inspector sees the case
    assert (await info("inspector1"))[0] == 404  # another street's
    assert (await info("handler_hw"))[0] == 404  # not dispatched to 区环卫 yet
    await city.ok(cid, "register", "acceptor")
    await city.ok(cid, "dispatch", "dispatcher", department_id=await city.department("HW"))
    status, seen = await info("handler_hw")
    assert status == 200
    assert seen["gps_lat"] is None  # a department sees the photo, not the EXIF evidence
    assert (await info("handler_sz"))[0] == 404
    detail = await city.detail(cid, "handler_hw")
    assert [a["public_url"] for a in detail["attachments"]] == [seen["public_url"]]
    assert (await city.client.get(seen["public_url"])).status == 200


# --- numbers typed into free text ------------------------------------------------------------


async def test_numbers_typed_into_text_reach_only_those_who_call_people_back(city: City) -> None:
    """A phone or 身份证 number in a description, an address or a note is masked for the
    roles that do not call back, in lists, the detail and the export, as the phone field is."""
    citizen = await city.citizen()
    text = "门口垃圾没人清，我电话 138-1234-5678，身份证110101199003074518"
    status, out = await city.report(
        citizen, await city.point(2), text, address="幸福路 8 号（有事打１３９８７６５４３２１）"
    )
    assert status == 201, out
    cid = out["case"]["id"]
    await city.ok(cid, "register", "acceptor", note="市民留了电话 13812345678，可回访")
    await city.ok(cid, "dispatch", "dispatcher", department_id=await city.department("HW"))

    masked = ("138****5678", "110101********4518", "139****4321")
    in_full = ("138-1234-5678", "110101199003074518", "１３９８７６５４３２１", "13812345678")
    for who in ("dispatcher", "handler_hw"):
        seen = _text(await city.detail(cid, who))
        assert not [n for n in in_full if n in seen], who
        assert all(m in seen for m in masked), who
        status, listed = await city.get("/api/v1/cases", who)
        assert status == 200 and A_PHONE not in _text(listed) and "138****5678" in _text(listed)
    # Who calls people back reads what was typed; the citizen reads their own words.
    readers: list[str | dict[str, str]] = ["acceptor", citizen]
    for reader in readers:
        seen = _text(await city.detail(cid, reader))
        assert "138-1234-5678" in seen and "110101199003074518" in seen
    export = await city.client.get(
        "/api/v1/cases/export", params={"format": "csv"}, headers=await city.login("dispatcher")
    )
    body = (await export.read()).decode("utf-8-sig")
    assert "138****5678" in body and "138-1234-5678" not in body and "１３９" not in body


async def test_a_masked_number_cannot_be_found_by_searching_for_it(city: City) -> None:
    """Searching `?q=` for the hidden digits would tell a dispatcher the number behind the mask:
    for readers who see numbers masked, digits search case numbers only."""
    citizen = await city.citizen()
    status, out = await city.report(
        citizen, await city.point(2), "垃圾堆在门口，电话13812345678", address="幸福路12号"
    )
    assert status == 201, out
    number = out["case"]["number"]

    async def found(who: str, q: str) -> int:
        status, page = await city.get("/api/v1/cases", who, q=q)
        assert status == 200, page
        return int(page["total"])

    for probe in ("13812345678", "1234", "１２３４", "138 1234"):
        assert await found("dispatcher", probe) == 0, probe
    for probe in ("13812345678", "1234"):
        assert await found("acceptor", probe) == 1, probe  # who calls back finds it
    # What a dispatcher searches for still works: the case number, words, a short house number.
    assert await found("dispatcher", number) == 1
    assert await found("dispatcher", number[:-2]) == 1  # case numbers match by prefix
    assert await found("dispatcher", "垃圾") == 1
    assert await found("dispatcher", "12号") == 1
    export = await city.client.get(
        "/api/v1/cases/export",
        params={"format": "csv", "q": "1234"},
        headers=await city.login("dispatcher"),
    )
    assert "垃圾" not in (await export.read()).decode("utf-8-sig")


async def test_every_screen_showing_a_number_or_an_original_in_full_is_on_record(
    city: City,
) -> None:
    """The audit log says who saw a reporter's phone number or a photo's original, when, and
    on which case: never the number itself. A masked screen is no such read."""
    from core.audit.models import AuditEntry

    citizen = await city.citizen("caller", phone=A_PHONE)
    photo = await _upload(city, citizen, (20, 40, 60))
    status, out = await city.report(citizen, await city.point(2), "路灯不亮", attachments=[photo])
    assert status == 201, out
    cid = out["case"]["id"]
    [report] = (await city.detail(cid, "dispatcher"))["reports"]
    assert report["reporter_phone"] == "138****5678"
    assert not await AuditEntry.filter(action__startswith="read.").exists()

    assert (await city.detail(cid, "acceptor"))["reports"][0]["reporter_phone"] == A_PHONE
    r = await city.client.get(
        f"/api/v1/cases/{cid}/media/{photo}/original", headers=await city.login("acceptor")
    )
    assert r.status == 200
    rows = await AuditEntry.filter(action__startswith="read.").order_by("id")
    acceptor = await city.staff_id("acceptor")
    assert [(e.action, e.actor_id, e.target, e.target_id, e.after) for e in rows] == [
        ("read.phone", acceptor, "case", str(cid), {"ids": [report["id"]]}),
        ("read.original", acceptor, "case", str(cid), {"ids": [photo]}),
    ]
    status, log = await city.get("/api/v1/audit", "admin", action="read.")
    assert status == 200 and [e["action"] for e in log["items"]] == ["read.original", "read.phone"]
    assert A_PHONE not in _text(log)
