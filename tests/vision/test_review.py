"""The review queue: a rule that asks for a person files nothing until confirmed; dismissed,
it is recorded with the reason; decided once."""

from __future__ import annotations

from tests.vision import tiny
from tests.vision.conftest import INSIDE, Rig, car_at
from vision.const import EventStatus
from vision.models import VisionEvent


async def _queued(rig: Rig) -> dict[str, object]:
    await rig.declare(rule={"review": True})
    rig.camera.show(car_at(INSIDE))
    await rig.samples(8)
    assert await rig.cases() == []
    r = await rig.city.client.get(
        "/api/v1/vision/events",
        params={"status": "review"},
        headers=await rig.city.login("acceptor"),
    )
    assert r.status == 200
    (item,) = (await r.json())["items"]
    return dict(item)


async def test_confirm_files_the_case_with_the_evidence(rig: Rig) -> None:
    item = await _queued(rig)
    assert item["status_name"] == "待确认" and item["category_name"] == "机动车乱停放"
    assert item["evidence_id"] and item["frame_id"]
    # The centre sees the evidence before deciding.
    r = await rig.city.client.get(
        f"/api/v1/media/{item['evidence_id']}", headers=await rig.city.login("acceptor")
    )
    assert r.status == 200
    headers = await rig.city.login("acceptor")
    r = await rig.city.client.post(
        f"/api/v1/vision/events/{item['id']}/confirm", json={"note": "确认违停"}, headers=headers
    )
    assert r.status == 200, await r.text()
    done = await r.json()
    (case,) = await rig.cases()
    assert done["status"] == "confirmed" and done["case_id"] == case.id
    assert case.status == "dispatched"
    again = await rig.city.client.post(
        f"/api/v1/vision/events/{item['id']}/confirm", json={}, headers=headers
    )
    assert again.status == 409 and (await again.json())["code"] == "review_closed"
    assert len(await rig.cases()) == 1


async def test_dismiss_records_the_reason_and_files_nothing(rig: Rig) -> None:
    item = await _queued(rig)
    headers = await rig.city.login("shift_lead")
    empty = await rig.city.client.post(
        f"/api/v1/vision/events/{item['id']}/dismiss", json={"reason": ""}, headers=headers
    )
    assert empty.status == 422
    assert (await VisionEvent.get(id=item["id"])).status == EventStatus.REVIEW
    r = await rig.city.client.post(
        f"/api/v1/vision/events/{item['id']}/dismiss",
        json={"reason": "施工车辆，已报备"},
        headers=headers,
    )
    assert r.status == 200, await r.text()
    event = await VisionEvent.get(id=item["id"])
    assert event.status == EventStatus.DISMISSED and event.review_note == "施工车辆，已报备"
    assert event.reviewed_by_id == await rig.city.staff_id("shift_lead")
    assert await rig.cases() == []
    late = await rig.city.client.post(
        f"/api/v1/vision/events/{item['id']}/confirm", json={}, headers=headers
    )
    assert late.status == 409 and await rig.cases() == []
    # The same kind of thing there again soon after: not asked about again (cool-down).
    rig.camera.show(tiny.frame())
    await rig.samples(4)
    rig.camera.show(car_at(INSIDE))
    await rig.samples(8)
    statuses = [e.status for e in await VisionEvent.all().order_by("id")]
    assert statuses == [EventStatus.DISMISSED, EventStatus.COOLDOWN]


async def test_only_the_centre_decides_and_a_pending_review_holds_the_zone(rig: Rig) -> None:
    item = await _queued(rig)
    for who in ("inspector1", "handler_jj", "dispatcher"):
        r = await rig.city.client.post(
            f"/api/v1/vision/events/{item['id']}/confirm",
            json={},
            headers=await rig.city.login(who),
        )
        assert r.status == 403, who
    rig.camera.show(tiny.frame())
    await rig.samples(4)
    rig.camera.show(car_at(INSIDE))
    await rig.samples(8)  # a new object fires again while the first waits for a person
    statuses = [e.status for e in await VisionEvent.all().order_by("id")]
    assert statuses == [EventStatus.REVIEW, EventStatus.DUPLICATE]
    missing = await rig.city.client.post(
        "/api/v1/vision/events/999999/confirm", json={}, headers=await rig.city.login("acceptor")
    )
    assert missing.status == 404 and (await missing.json())["code"] == "event_not_found"
