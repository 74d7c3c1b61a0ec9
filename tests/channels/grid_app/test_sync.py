"""POST /api/v1/field/sync: a queue of mixed items after the phone reconnects, answered item by
item, done once however often it is replayed; one bad item costs only itself."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
from typing import Any

from cases.models import Case, CaseEvent, InspectorTask, Report
from channels.grid_app.models import DutyShift, SyncItem, TrackPoint
from tests.cases.helpers import City
from tests.channels.grid_app.conftest import (
    Phone,
    check_task,
    exif_jpeg,
    item,
    now,
    open_task,
    verify_task,
)


async def _report(phone: Phone, n: int, **extra: Any) -> dict[str, Any]:
    where = await phone.city.point(1, north_m=(n % 5) * 40 - 80, east_m=(n // 5) * 35 - 120)
    return item(
        "report", description=f"巡查发现第{n}处：人行道上有垃圾堆放", location=where, **extra
    )


def _track(base: dt.datetime, start: int, count: int, lon: float, lat: float) -> dict[str, Any]:
    points = [
        {
            "at": (base + dt.timedelta(seconds=10 * (start + i))).isoformat(),
            "lon": lon + 0.00005 * (start + i),
            "lat": lat,
            "accuracy_m": 8,
        }
        for i in range(count)
    ]
    return item("track", points=points)


async def _mixed_batch(inspector: Phone) -> list[dict[str, Any]]:
    """50 items of every kind an inspector queues: reports, tracks, results, duty."""
    city = inspector.city
    verify = await open_task(city, await verify_task(city))
    check = await open_task(city, await check_task(city))
    here = await city.point(1)
    base = now() - dt.timedelta(hours=1)
    items = [item("duty", on=True, location=here, at=(base - dt.timedelta(minutes=1)).isoformat())]
    items += [await _report(inspector, n) for n in range(30)]
    items += [_track(base, 20 * n, 20, here["lon"], here["lat"]) for n in range(17)]
    items.append(item("task_result", task_id=verify["id"], passed=True, note="现场属实"))
    items.append(item("task_result", task_id=check["id"], passed=True, note="已清理干净"))
    assert len(items) == 50
    return items


async def _counts(staff_id: int) -> tuple[int, ...]:
    return (
        await Report.filter(staff_id=staff_id).count(),
        await Case.all().count(),
        await CaseEvent.all().count(),
        await InspectorTask.filter(status="done").count(),
        await TrackPoint.filter(staff_id=staff_id).count(),
        await DutyShift.filter(staff_id=staff_id).count(),
    )


async def test_a_replayed_batch_of_fifty_mixed_items_is_done_once(inspector: Phone) -> None:
    city = inspector.city
    staff_id = await city.staff_id("inspector1")
    batch = await _mixed_batch(inspector)
    status, first = await inspector.sync(batch)
    assert status == 200, first
    answers = first["items"]
    assert [a["id"] for a in answers] == [i["id"] for i in batch]  # in the order sent
    assert [a["outcome"] for a in answers] == ["created"] * 50, answers
    reports = [a for a in answers if a["kind"] == "report"]
    assert all(a["case_id"] and a["number"] for a in reports)
    tracks = [a for a in answers if a["kind"] == "track"]
    assert sum(a["stored"] for a in tracks) == 17 * 20
    results = [a for a in answers if a["kind"] == "task_result"]
    assert [a["status"] for a in results] == [
        "reported",
        "checked",
    ]  # 核实 back to 受理; 核查 passed
    after_first = await _counts(staff_id)

    # The answer was lost on the way back: the phone sends it all again, shuffled, twice.
    shuffled = batch[:]
    random.Random(7).shuffle(shuffled)
    again = await asyncio.gather(inspector.sync(shuffled), inspector.sync(batch))
    for status, out in again:
        assert status == 200, out
        by_id = {a["id"]: a for a in out["items"]}
        assert {a["outcome"] for a in out["items"]} == {"already"}
        for a in answers:  # the first answer again, item by item
            assert {**by_id[a["id"]], "outcome": "created"} == a
    assert await _counts(staff_id) == after_first
    assert await SyncItem.filter(staff_id=staff_id).count() == 50


async def test_one_bad_item_costs_only_itself(inspector: Phone) -> None:
    city = inspector.city
    good = [await _report(inspector, n) for n in range(3)]
    no_place = item("report", description="没有位置的上报")  # location is required
    unknown = item("report", description="x", location=await city.point(1), category_code="ZZ99")
    outside = item("report", description="城外", location={"lon": 100.0, "lat": 40.0})
    strange = {"kind": "teleport", "id": "not-a-uuid"}
    not_an_object = ["a", "list"]
    batch = [good[0], no_place, good[1], unknown, outside, strange, not_an_object, good[2]]
    cases_before = await Case.all().count()
    status, out = await inspector.sync(batch)  # type: ignore[arg-type]
    assert status == 200, out
    got = [(a["outcome"], a["code"]) for a in out["items"]]
    assert got == [
        ("created", None),
        ("refused", "invalid_item"),
        ("created", None),
        ("refused", "unknown_category"),
        ("refused", "location_outside_city"),
        ("refused", "invalid_item"),
        ("refused", "invalid_item"),
        ("created", None),
    ]
    assert "location" in out["items"][1]["message"]
    assert out["items"][3]["message"] == "案件类别不存在"
    assert await Case.all().count() == cases_before + 3
    # A refused item is not remembered: once fixed, the phone sends it again and it is filed.
    fixed = {**unknown, "category_code": None}
    assert (await inspector.one(fixed))["outcome"] == "created"


async def test_photos_ride_in_the_request_and_a_broken_one_refuses_its_item(
    inspector: Phone,
) -> None:
    city = inspector.city
    where = await city.point(1)
    fresh = exif_jpeg(lon=where["lon"], lat=where["lat"], taken=now())
    a = item("report", description="井盖缺失", location=where, photos=["p1"])
    b = item("report", description="路灯不亮", location=where, photos=["bad"])
    c = item("report", description="垃圾", location=where, photos=["nowhere"])
    status, out = await inspector.sync([a, b, c], photos={"p1": fresh, "bad": b"not a jpeg"})
    assert status == 200, out
    answers = out["items"]
    assert [x["outcome"] for x in answers] == ["created", "refused", "refused"]
    assert answers[1]["code"] == "photo_unusable"
    assert answers[2]["code"] == "photo_missing"
    assert set(out["photos"]) == {"p1"}
    detail = await city.detail(answers[0]["case_id"])
    assert [p["media_id"] for p in detail["attachments"]] == [out["photos"]["p1"]]
    assert detail["reports"][0]["flags"] == []  # a fresh photo taken where it was reported


async def test_someone_elses_upload_is_refused(inspector: Phone, quick_city: City) -> None:
    theirs = await Phone(quick_city, "inspector2").upload()
    body = item("report", description="垃圾", location=await quick_city.point(1), photos=[theirs])
    answer = await inspector.one(body)
    assert (answer["outcome"], answer["code"]) == ("refused", "photo_not_found")


async def test_a_batch_is_bounded_and_for_field_staff_only(
    inspector: Phone, quick_city: City
) -> None:
    items = [item("duty", on=True) for _ in range(201)]
    status, out = await inspector.sync(items)
    assert (status, out["code"]) == (422, "too_many_items")
    r = await quick_city.client.post(
        "/api/v1/field/sync",
        json={"items": [item("duty", on=True)]},
        headers=await quick_city.login("dispatcher"),
    )
    assert r.status == 403
    assert await DutyShift.all().count() == 0
