"""A report's photos read on the server: where and when their EXIF says they were taken,
against the report's point, its time and the inspector's grids. Doubts are flags the centre
sees on the case; every one of these reports is accepted."""

from __future__ import annotations

import datetime as dt
from typing import Any

from tests.cases.helpers import jpeg, shifted
from tests.channels.grid_app.conftest import Phone, exif_jpeg, item, now


async def _flags(phone: Phone, photo: bytes, where: dict[str, float], **extra: Any) -> list[Any]:
    """Report with one photo sent in the request; the flags the centre sees on the case."""
    body = item("report", description="人行道上有垃圾堆放", location=where, photos=["p"], **extra)
    answer = await phone.one(body, p=photo)
    assert answer["outcome"] == "created", answer
    detail = await phone.city.detail(answer["case_id"], "acceptor")
    flags = max(detail["reports"], key=lambda r: r["id"])["flags"]  # this one (merged or not)
    assert [(f["code"], f["message"]) for f in answer["flags"]] == [
        (f["code"], f["message"]) for f in flags
    ]  # the phone hears what the centre will see
    return [f["code"] for f in flags]


async def test_a_fresh_photo_taken_where_reported_raises_nothing(inspector: Phone) -> None:
    where = await inspector.city.point(1)
    photo = exif_jpeg(shifted(where["lon"], where["lat"], east_m=20), taken=now())
    assert await _flags(inspector, photo, where) == []


async def test_a_photo_outside_the_inspectors_grids_is_flagged(inspector: Phone) -> None:
    city = inspector.city
    elsewhere = await city.point(3)  # street 3 is inspector3's
    where = await city.point(1)
    photo = exif_jpeg(lon=elsewhere["lon"], lat=elsewhere["lat"], taken=now())
    assert await _flags(inspector, photo, where) == ["outside_grid", "gps_mismatch"]


async def test_just_past_the_grid_edge_is_within_the_tolerance(inspector: Phone) -> None:
    city = inspector.city
    ring = (await city.grid(1)).geometry["coordinates"][0]
    west = min(p[0] for p in ring)  # the demo city's western edge: no grid beyond it
    middle = sum(p[1] for p in ring[:-1]) / (len(ring) - 1)
    where = shifted(west, middle, east_m=10)
    near = shifted(west, middle, east_m=-30)  # 30 m out: within the 50 m tolerance
    far = shifted(west, middle, east_m=-120)
    assert await _flags(inspector, exif_jpeg(near, taken=now()), where) == []
    assert await _flags(inspector, exif_jpeg(far, taken=now()), where) == [
        "outside_grid",
        "gps_mismatch",
    ]


async def test_a_stale_photo_is_flagged_with_its_age(inspector: Phone) -> None:
    where = await inspector.city.point(1)
    photo = exif_jpeg(where, taken=now() - dt.timedelta(hours=3, minutes=10))
    body = item("report", description="路面破损", location=where, photos=["p"])
    answer = await inspector.one(body, p=photo)
    assert [f["code"] for f in answer["flags"]] == ["stale"]
    assert answer["flags"][0]["message"] == "照片拍摄于上报前 3.2 小时，超过规定的 2 小时"


async def test_a_photo_queued_offline_counts_its_age_from_when_it_was_queued(
    inspector: Phone,
) -> None:
    where = await inspector.city.point(1)
    queued = now() - dt.timedelta(hours=5)  # out of signal all afternoon
    photo = exif_jpeg(where, taken=queued - dt.timedelta(minutes=3))
    assert await _flags(inspector, photo, where, at=queued.isoformat()) == []


async def test_a_photo_far_from_the_given_point_is_flagged(inspector: Phone) -> None:
    where = await inspector.city.point(1)
    taken = shifted(where["lon"], where["lat"], north_m=160)  # same grid, 160 m away
    body = item("report", description="垃圾", location=where, photos=["p"])
    answer = await inspector.one(body, p=exif_jpeg(taken, taken=now()))
    codes = [f["code"] for f in answer["flags"]]
    assert codes == ["gps_mismatch"]
    assert answer["flags"][0]["message"].startswith("照片拍摄位置与上报位置相距约 16")


async def test_a_photo_without_exif_is_accepted_and_marked(inspector: Phone) -> None:
    where = await inspector.city.point(1)
    assert await _flags(inspector, jpeg(), where) == ["no_exif"]
    # Time without a position: the place cannot be checked, and says so.
    codes = await _flags(inspector, exif_jpeg(taken=now()), await inspector.city.point(1, 2))
    assert codes == ["no_exif"]


async def test_the_centre_sees_the_flags_and_the_public_copy_keeps_no_exif(
    inspector: Phone,
) -> None:
    city = inspector.city
    where = await city.point(1)
    photo = exif_jpeg(where, taken=now() - dt.timedelta(hours=4))
    body = item("report", description="垃圾", location=where, photos=["p"])
    answer = await inspector.one(body, p=photo)
    detail = await city.detail(answer["case_id"], "shift_lead")
    assert [f["code"] for f in detail["reports"][0]["flags"]] == ["stale"]
    public = detail["attachments"][0]["public_url"]
    r = await city.client.get(public)
    assert r.status == 200
    assert b"FieldPhone" not in await r.read()  # the phone's EXIF stays with the original


async def test_a_photo_taken_after_its_report_says_the_phones_clock_is_off(
    inspector: Phone,
) -> None:
    where = await inspector.city.point(1)
    queued = now() - dt.timedelta(hours=1)
    photo = exif_jpeg(where, taken=now())  # "taken" an hour after it was queued
    body = item("report", description="垃圾", location=where, photos=["p"], at=queued.isoformat())
    answer = await inspector.one(body, p=photo)
    assert [f["code"] for f in answer["flags"]] == ["future"]
    assert answer["flags"][0]["message"] == "照片拍摄时间晚于上报时间 60 分钟，手机时间可能不准"
