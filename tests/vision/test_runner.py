"""The camera loop of `cityloop vision run`, against a fake IP camera over HTTP, with the tiny
model: what stays in a zone past its dwell time becomes one case; what passes, or stands
outside, does not; an open case holds its zone; a bad camera stops no other."""

from __future__ import annotations

import datetime as dt
from typing import Any

from cases.models import Case, CaseAttachment, CaseEvent, Report
from core.config import Settings
from tests.cases.helpers import actions
from tests.vision import tiny
from tests.vision.camera_server import serving
from tests.vision.conftest import INSIDE, OUTSIDE, PARKING, ZONE, Rig, car_at, make_rig
from vision.const import CameraHealth, EventStatus
from vision.models import Camera, VisionEvent
from vision.runner import Runner


async def test_a_car_parked_past_the_dwell_time_makes_exactly_one_dispatched_case(
    rig: Rig,
) -> None:
    await rig.declare()
    rig.camera.show(car_at(INSIDE))
    await rig.samples(3)
    assert await rig.cases() == [], "not before the dwell time (1 s)"
    await rig.samples(10)
    (case,) = await rig.cases()
    assert case.status == "dispatched"
    assert case.category_code == PARKING
    assert case.department_id == await rig.city.department("JJ")
    assert await actions(case.id) == ["report", "register", "dispatch"]
    report = await Report.get(case_id=case.id)
    assert report.source == "video"
    assert report.extras["camera"] == "cam1" and report.extras["label"] == "car"
    # The annotated picture first (the case's picture), then the clean frame.
    assert await CaseAttachment.filter(case_id=case.id).count() == 2
    (event,) = await VisionEvent.all()
    assert event.status == EventStatus.FILED and event.case_id == case.id
    assert event.box == [192.0, 256.0, 224.0, 288.0]  # the cell the car was drawn over
    out = await rig.city.detail(case.id)
    assert "测试路口cam1" in out["description"]


async def test_a_car_driving_through_the_zone_makes_no_case(rig: Rig) -> None:
    await rig.declare()
    for column in range(4, 10):  # one cell further each sample: never the same object
        rig.camera.show(car_at((column, 8)))
        await rig.samples(1)
    for _ in range(6):
        rig.camera.show(tiny.frame())
        await rig.samples(1)
    assert await rig.cases() == []
    assert await VisionEvent.all().count() == 0


async def test_a_car_parked_outside_the_zone_is_ignored(rig: Rig) -> None:
    await rig.declare()
    rig.camera.show(car_at(OUTSIDE))
    await rig.samples(10)
    assert await rig.cases() == []
    assert await VisionEvent.all().count() == 0


async def test_a_second_sighting_while_the_case_is_open_makes_no_new_case(rig: Rig) -> None:
    await rig.declare()
    rig.camera.show(car_at(INSIDE))
    await rig.samples(8)
    (case,) = await rig.cases()
    rig.camera.show(tiny.frame())  # it drives off: the object is lost
    await rig.samples(4)
    rig.camera.show(car_at(INSIDE))  # and parks again, a new object
    await rig.samples(8)
    assert [c.id for c in await rig.cases()] == [case.id]
    statuses = [e.status for e in await VisionEvent.all().order_by("id")]
    assert statuses == [EventStatus.FILED, EventStatus.DUPLICATE]
    duplicate = await VisionEvent.get(status=EventStatus.DUPLICATE)
    assert duplicate.case_id is None and duplicate.evidence_id is None


async def test_a_corrupt_frame_a_dropped_stream_and_a_stalled_camera_stop_no_other(
    aiohttp_client: Any, settings: Settings, tiny_model: Any
) -> None:
    async with serving() as snap, serving() as live, serving() as stuck:
        async for rig in make_rig(aiohttp_client, settings, tiny_model, snap):
            await rig.declare("snap", street=1)
            await rig.declare("live", street=2, source=f"{live.url}/video.mjpg")
            stuck.hang = True  # answers nothing, ever: its reads wait alone
            await rig.declare("stuck", street=3, source=f"{stuck.url}/snapshot.jpg")
            snap.show(car_at(INSIDE))
            live.show(car_at(INSIDE))
            snap.corrupt = 2
            await rig.samples(3)
            live.drop()  # the stream is cut: its reader reconnects
            snap.down = True  # the snapshot camera answers 503 for a while
            await rig.samples(4)
            assert (await Camera.get(code="snap")).health == CameraHealth.RECONNECTING
            snap.down = False
            await rig.samples(14, every=0.3)
            cases = await rig.cases()
            assert len(cases) == 2, [c.address for c in cases]
            cameras = {r.extras["camera"] for r in await Report.all()}
            assert cameras == {"snap", "live"}
            r = await rig.city.client.get(
                "/api/v1/vision/cameras", headers=await rig.city.login("dispatcher")
            )
            listed = {c["code"]: c for c in (await r.json())["items"]}
            assert listed["snap"]["health"] == "ok" and listed["live"]["health"] == "ok"


async def test_a_filing_a_crash_interrupted_is_filed_once_at_the_next_start(rig: Rig) -> None:
    await rig.declare()
    rig.camera.show(car_at(INSIDE))
    await rig.samples(8)
    (case,) = await rig.cases()
    (event,) = await VisionEvent.all()
    # What a crash between the event row and the case's commit leaves: the row `filing`,
    # its pictures stored, no case yet (this one's case is removed to stand for that).
    await VisionEvent.filter(id=event.id).update(status=EventStatus.FILING, case_id=None)
    await CaseAttachment.filter(case_id=case.id).delete()
    await CaseEvent.filter(case_id=case.id).delete()
    await Report.filter(case_id=case.id).delete()
    await Case.filter(id=case.id).delete()
    from vision import filing

    assert await filing.resume(rig.runtime) == 1
    assert await filing.resume(rig.runtime) == 0  # a second start files nothing more
    (again,) = await rig.cases()
    assert (await VisionEvent.get(id=event.id)).case_id == again.id


async def test_a_camera_silent_past_dead_after_is_offline_in_readyz(rig: Rig) -> None:
    await rig.declare(dead_after_s=5)
    await rig.samples(2)
    r = await rig.city.client.get("/readyz")
    body = await r.json()
    assert r.status == 200 and body["checks"]["vision"] == "ok", body
    rig.camera.down = True
    started = dt.datetime.now(dt.UTC)
    while (dt.datetime.now(dt.UTC) - started).total_seconds() < 5.5:
        await rig.samples(1, every=0.5)
    r = await rig.city.client.get("/readyz")
    body = await r.json()
    # Still ready (200): a dead camera does not take the web server out of service.
    assert r.status == 200 and body["checks"]["vision"] == "degraded", body
    assert any("cam1" in w and "离线" in w for w in body["warnings"]), body
    r = await rig.city.client.get(
        "/api/v1/vision/cameras/cam1", headers=await rig.city.login("acceptor")
    )
    out = await r.json()
    assert out["health"] == "dead" and out["health_name"] == "离线", out


async def test_a_large_snapshot_is_detected_at_the_models_size_and_filed_at_its_own(
    rig: Rig,
) -> None:
    big = [[x * 2, y * 2] for x, y in ZONE]
    await rig.declare(
        width=832,
        height=832,
        zones=[
            {
                "name": "禁停区",
                "points": big,
                "rules": [{"labels": ["car"], "category_code": PARKING, "dwell_s": 1.0}],
            }
        ],
    )
    rig.camera.show(tiny.frame(squares=((6, 8, tiny.RED),), size=832))
    await rig.samples(8)
    (held,) = rig.runner.cameras.values()
    assert getattr(held.source, "reduce", None) == 2  # decoded at 416×416
    (event,) = await VisionEvent.all()
    assert event.box == [384.0, 512.0, 448.0, 576.0]  # in the camera's own pixels
    evidence = await CaseAttachment.filter(media_id=event.evidence_id).first()
    assert evidence is not None
    from core.media.models import MediaObject

    media = await MediaObject.get(id=event.evidence_id)
    assert (media.width, media.height) == (832, 832)


async def test_two_processes_share_the_cameras_and_never_sample_one_twice(rig: Rig) -> None:
    for n in range(4):
        await rig.declare(f"cam{n}", street=1 + n % 2)
    held = []
    for index in (1, 2):
        other = Runner(
            rig.runtime, rig.runner.detector, rig.runner.config, rig.runner.http, shard=(index, 2)
        )
        await other.refresh()
        held.append({c.spec.code for c in other.cameras.values()})
        for camera in other.cameras.values():
            await camera.close()
    assert held[0] | held[1] == {"cam0", "cam1", "cam2", "cam3"}
    assert not held[0] & held[1] and len(held[0]) == len(held[1]) == 2


async def test_a_video_file_plays_as_a_camera(rig: Rig, tmp_path: Any) -> None:
    frames = [car_at(INSIDE)] * 50  # 10 s at 5 fps, looped by the reader
    clip = tiny.video(tmp_path / "gate.avi", frames, fps=5)
    out = await rig.declare(source=str(clip))
    assert out["kind"] == "file"
    await rig.samples(10)
    (case,) = await rig.cases()
    assert case.status == "dispatched"
    assert (await Camera.get(code="cam1")).health == CameraHealth.OK
