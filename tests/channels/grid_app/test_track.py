"""GPS tracks: kept as sent (a re-sent batch adds nothing), read back for audit with gaps, jumps
and inaccurate fixes marked and none dropped; one's own track only, the centre's anyone's."""

from __future__ import annotations

import datetime as dt
from typing import Any

from channels.grid_app.models import TrackPoint
from core.geo import wgs84_to_gcj02
from core.timeutil import to_local
from tests.cases.helpers import shifted
from tests.channels.grid_app.conftest import Phone, now


def _walk(start: dt.datetime, origin: dict[str, float]) -> list[dict[str, Any]]:
    """A minute of walking east (1 m/s, a fix every 10 s), a 10-minute silence, a fix 1.5 km
    away 10 s later (a jump), and one the phone itself placed within 300 m only."""
    points = [
        {
            "at": (start + dt.timedelta(seconds=10 * i)).isoformat(),
            **shifted(**origin, east_m=10 * i),
        }
        for i in range(7)
    ]
    late = start + dt.timedelta(seconds=60 + 600)
    points.append({"at": late.isoformat(), **shifted(**origin, east_m=70)})
    points.append(
        {"at": (late + dt.timedelta(seconds=10)).isoformat(), **shifted(**origin, east_m=1570)}
    )
    points.append(
        {
            "at": (late + dt.timedelta(seconds=20)).isoformat(),
            **shifted(**origin, east_m=1580),
            "accuracy_m": 300,
        }
    )
    return points


async def test_a_track_is_kept_whole_with_its_marks(inspector: Phone) -> None:
    origin = await inspector.city.point(1)
    start = now().replace(microsecond=0) - dt.timedelta(minutes=30)
    points = _walk(start, origin)
    r = await inspector.city.client.post(
        "/api/v1/field/track", json={"points": points}, headers=await inspector.headers()
    )
    assert r.status == 200
    assert await r.json() == {"stored": 10, "duplicates": 0}
    day = to_local(start).date().isoformat()
    status, track = await inspector.get("/api/v1/field/track", date=day)
    assert status == 200, track
    assert len(track["points"]) == 10  # nothing dropped
    marks = [p["flags"] for p in track["points"]]
    assert marks == [[]] * 7 + [["gap"], ["jump"], ["inaccurate"]]
    assert (track["gaps"], track["jumps"]) == (1, 1)
    assert 55 < track["walked_m"] < 65  # the minute's walk; not the silence, not the jump


async def test_a_resent_batch_adds_nothing(inspector: Phone) -> None:
    origin = await inspector.city.point(1)
    points = _walk(now() - dt.timedelta(minutes=30), origin)
    headers = await inspector.headers()
    client = inspector.city.client
    await client.post("/api/v1/field/track", json={"points": points[:6]}, headers=headers)
    r = await client.post("/api/v1/field/track", json={"points": points}, headers=headers)
    assert await r.json() == {"stored": 4, "duplicates": 6}
    staff = await inspector.city.staff_id("inspector1")
    assert await TrackPoint.filter(staff_id=staff).count() == 10


async def test_a_fix_in_gcj02_is_kept_in_wgs84(inspector: Phone) -> None:
    origin = await inspector.city.point(1)
    lon, lat = wgs84_to_gcj02(origin["lon"], origin["lat"])
    point = {"at": now().isoformat(), "lon": lon, "lat": lat, "crs": "gcj02"}
    r = await inspector.city.client.post(
        "/api/v1/field/track", json={"points": [point]}, headers=await inspector.headers()
    )
    assert r.status == 200
    kept = await TrackPoint.get(staff_id=await inspector.city.staff_id("inspector1"))
    assert abs(kept.lon - origin["lon"]) < 1e-5 and abs(kept.lat - origin["lat"]) < 1e-5


async def test_only_ones_own_track_and_the_centre_reads_anyones(inspector: Phone) -> None:
    city = inspector.city
    origin = await city.point(1)
    start = now() - dt.timedelta(minutes=30)
    await inspector.city.client.post(
        "/api/v1/field/track",
        json={"points": _walk(start, origin)},
        headers=await inspector.headers(),
    )
    day = to_local(start).date().isoformat()
    mine = await city.staff_id("inspector1")
    status, err = await Phone(city, "inspector2").get(
        "/api/v1/field/track", date=day, staff_id=mine
    )
    assert (status, err["code"]) == (403, "not_your_track")
    status, theirs = await Phone(city, "shift_lead").get(
        "/api/v1/field/track", date=day, staff_id=mine
    )
    assert status == 200 and len(theirs["points"]) == 10
    # A staff member's whereabouts are not the hotline's to read.
    status, err = await Phone(city, "agent").get("/api/v1/field/track", date=day, staff_id=mine)
    assert (status, err["code"]) == (403, "role_forbidden")


async def test_bad_points_are_refused_and_nothing_is_kept(inspector: Phone) -> None:
    client = inspector.city.client
    headers = await inspector.headers()
    bad = [
        {"points": [{"at": "2026-12-08T10:00:00", "lon": 120.1, "lat": 30.2}]},  # no offset
        {"points": [{"at": now().isoformat(), "lon": 200, "lat": 30.2}]},
        {"points": []},
    ]
    for body in bad:
        r = await client.post("/api/v1/field/track", json=body, headers=headers)
        assert r.status == 422, body
    assert await TrackPoint.all().count() == 0
