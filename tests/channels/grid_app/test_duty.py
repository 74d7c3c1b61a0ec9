"""上岗 and 下岗: one open shift at most, where and when each end was."""

from __future__ import annotations

import asyncio
import datetime as dt

from channels.grid_app.models import DutyShift
from tests.channels.grid_app.conftest import Phone, item, now


async def test_check_in_and_out_over_http(inspector: Phone) -> None:
    client, headers = inspector.city.client, await inspector.headers()
    here = await inspector.city.point(1)
    r = await client.post(
        "/api/v1/field/duty", json={"on": True, "location": here}, headers=headers
    )
    assert r.status == 200
    on = await r.json()
    assert on["on_duty"] and abs(on["shift"]["start_lon"] - here["lon"]) < 1e-9
    again = await (
        await client.post("/api/v1/field/duty", json={"on": True}, headers=headers)
    ).json()
    assert again["shift"]["id"] == on["shift"]["id"]  # 上岗 twice: still the one shift
    r = await client.post("/api/v1/field/duty", json={"on": False}, headers=headers)
    off = await r.json()
    assert not off["on_duty"] and off["shift"] is None
    status, err = await inspector.get("/api/v1/field/duty")
    assert status == 200 and not err["on_duty"]
    r = await client.post("/api/v1/field/duty", json={"on": False}, headers=headers)
    assert (r.status, (await r.json())["code"]) == (409, "not_on_duty")
    assert await DutyShift.all().count() == 1


async def test_offline_duty_keeps_the_phones_times_in_order(inspector: Phone) -> None:
    start = now() - dt.timedelta(hours=3)
    end = start + dt.timedelta(hours=2)
    # Sent back to front: done in the order they were queued.
    status, out = await inspector.sync(
        [
            item("duty", on=False, at=end.isoformat()),
            item("duty", on=True, at=start.isoformat()),
        ]
    )
    assert status == 200
    assert [a["status"] for a in out["items"]] == ["off_duty", "on_duty"]
    shift = await DutyShift.get()
    assert abs((shift.started_at - start).total_seconds()) < 1
    assert shift.ended_at is not None and abs((shift.ended_at - end).total_seconds()) < 1


async def test_a_replayed_check_out_is_answered_as_before(inspector: Phone) -> None:
    on, off = item("duty", on=True), item("duty", on=False)
    first = (await inspector.sync([on, off]))[1]["items"]
    again = (await inspector.sync([off]))[1]["items"]
    assert [a["status"] for a in first] == ["on_duty", "off_duty"]
    assert (again[0]["outcome"], again[0]["status"]) == ("already", "off_duty")


async def test_two_check_ins_at_once_open_one_shift(inspector: Phone) -> None:
    client, headers = inspector.city.client, await inspector.headers()
    answers = await asyncio.gather(
        client.post("/api/v1/field/duty", json={"on": True}, headers=headers),
        client.post("/api/v1/field/duty", json={"on": True}, headers=headers),
        inspector.sync([item("duty", on=True)]),
    )
    assert [getattr(a, "status", None) or a[0] for a in answers] == [200, 200, 200]
    assert await DutyShift.filter(ended_at=None).count() == 1
    off = await (
        await client.post("/api/v1/field/duty", json={"on": False}, headers=headers)
    ).json()
    assert off["on_duty"] is False
