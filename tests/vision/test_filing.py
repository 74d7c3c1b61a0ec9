"""From a fired rule to a case: the case core's duplicate merge catches a citizen's report of
the same problem; after 结案 the zone cools down before it files again."""

from __future__ import annotations

from typing import Any

from cases.models import Case, Report
from core.config import Settings
from tests.vision import tiny
from tests.vision.camera_server import FakeCamera
from tests.vision.conftest import INSIDE, PARKING, Rig, car_at, make_rig
from vision.const import EventStatus
from vision.models import VisionEvent


async def _close(rig: Rig, case_id: int) -> None:
    """处置 by 交警, the camera's own 核查 (the car gone), 结案 by the acceptor."""
    photo = await rig.city.photo(await rig.city.login("handler_jj"))
    await rig.city.ok(case_id, "handle", "handler_jj", note="已拖离", attachments=[photo])
    await rig.jobs()
    rig.camera.show(tiny.frame())
    await rig.samples(4)
    assert (await Case.get(id=case_id)).status == "checked"
    await rig.city.ok(case_id, "close", "acceptor", note="结案")


async def test_a_citizens_report_of_the_same_problem_takes_the_cameras_report(rig: Rig) -> None:
    where = await rig.city.point(1)
    status, out = await rig.city.report(await rig.city.citizen(), where, "路口有辆车乱停")
    assert status == 201, out
    citizen_case = out["case"]["id"]
    await rig.city.ok(citizen_case, "register", "acceptor", category_code=PARKING, urgency="B")
    await rig.declare()
    rig.camera.show(car_at(INSIDE))
    await rig.samples(8)
    (case,) = await rig.cases()
    assert case.id == citizen_case and case.report_count == 2
    event = await VisionEvent.get()
    assert event.status == EventStatus.FILED and event.merged and event.case_id == citizen_case
    assert {r.source for r in await Report.filter(case_id=case.id)} == {"wechat_oa", "video"}


async def test_after_closure_the_zone_cools_down_before_it_files_again(rig: Rig) -> None:
    await rig.declare()
    rig.camera.show(car_at(INSIDE))
    await rig.samples(8)
    (case,) = await rig.cases()
    await _close(rig, case.id)
    rig.camera.show(car_at(INSIDE))  # back again within the 30 minutes
    await rig.samples(8)
    assert [c.id for c in await rig.cases()] == [case.id]
    last = await VisionEvent.all().order_by("-id").first()
    assert last is not None and last.status == EventStatus.COOLDOWN


async def test_without_a_cool_down_a_new_problem_after_closure_is_a_new_case(
    aiohttp_client: Any, settings: Settings, tiny_model: Any, fake_camera: FakeCamera
) -> None:
    async for rig in make_rig(aiohttp_client, settings, tiny_model, fake_camera, cooldown_s=0):
        await rig.declare()
        rig.camera.show(car_at(INSIDE))
        await rig.samples(8)
        (first,) = await rig.cases()
        await _close(rig, first.id)
        rig.camera.show(car_at(INSIDE))
        await rig.samples(8)
        cases = await rig.cases()
        assert len(cases) == 2 and cases[1].status == "dispatched"


async def test_the_evidence_is_the_centres_and_the_departments_it_was_sent_to(
    rig: Rig,
) -> None:
    await rig.declare()
    rig.camera.show(car_at(INSIDE))
    await rig.samples(8)
    event = await VisionEvent.get()
    # The centre reads the original; 交警 (the case's department) its copy; 环卫 nothing.
    for who, path, expected in (
        ("acceptor", "/original", 200),
        ("handler_jj", "", 200),
        ("handler_jj", "/original", 404),
        ("handler_hw", "", 404),
    ):
        r = await rig.city.client.get(
            f"/api/v1/media/{event.evidence_id}{path}", headers=await rig.city.login(who)
        )
        assert r.status == expected, (who, path)
