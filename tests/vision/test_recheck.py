"""智能核查: after the department's 处置 the camera watches the zone again; the problem gone →
核查通过 by the system with the picture, still there → 返工 with a new picture; a person who
checks first wins."""

from __future__ import annotations

from cases.const import AttachmentKind
from cases.models import Case, CaseAttachment, CaseEvent
from tests.vision import tiny
from tests.vision.conftest import INSIDE, Rig, car_at
from vision.const import CheckStatus
from vision.models import VisionCheck


async def _handled_case(rig: Rig) -> int:
    """A parked car filed by the camera, then 处置'd by 交警 (the handle job has run)."""
    await rig.declare()
    rig.camera.show(car_at(INSIDE))
    await rig.samples(8)
    (case,) = await rig.cases()
    photo = await rig.city.photo(await rig.city.login("handler_jj"))
    await rig.city.ok(case.id, "handle", "handler_jj", note="已劝离", attachments=[photo])
    await rig.jobs()
    check = await VisionCheck.get(case_id=case.id)
    assert check.status == CheckStatus.WATCHING
    return int(case.id)


async def test_the_car_gone_passes_the_check_by_the_camera_with_its_picture(rig: Rig) -> None:
    case_id = await _handled_case(rig)
    rig.camera.show(tiny.frame())
    await rig.samples(4)
    case = await Case.get(id=case_id)
    assert case.status == "checked"
    last = await CaseEvent.filter(case_id=case_id).order_by("-id").first()
    assert last is not None and last.action == "check_result" and last.actor_id is None
    assert "摄像头「测试路口cam1」智能核查" in last.note and "核查通过" in last.note
    assert await CaseAttachment.filter(
        case_id=case_id, event_id=last.id, kind=AttachmentKind.CHECK
    ).exists()
    check = await VisionCheck.get(case_id=case_id)
    assert check.status == CheckStatus.PASSED and check.samples == 3
    r = await rig.city.client.get(
        "/api/v1/vision/checks",
        params={"case_id": case_id},
        headers=await rig.city.login("shift_lead"),
    )
    (listed,) = (await r.json())["items"]
    assert listed["status"] == "passed" and listed["evidence_id"] == check.evidence_id
    shown = await rig.city.detail(case_id)
    assert shown["timeline"][-1]["note"] == last.note


async def test_the_car_still_there_sends_the_case_back_to_rework(rig: Rig) -> None:
    case_id = await _handled_case(rig)
    await rig.samples(4)  # still parked
    case = await Case.get(id=case_id)
    assert case.status == "dispatched"
    last = await CaseEvent.filter(case_id=case_id).order_by("-id").first()
    assert last is not None and last.action == "rework"
    assert "仍发现问题（car）" in last.note
    assert (await VisionCheck.get(case_id=case_id)).status == CheckStatus.FAILED
    # Handled again: a new watch for the new 处置.
    photo = await rig.city.photo(await rig.city.login("handler_jj"))
    await rig.city.ok(case_id, "handle", "handler_jj", note="已拖离", attachments=[photo])
    await rig.jobs()
    assert await VisionCheck.filter(case_id=case_id).count() == 2
    rig.camera.show(tiny.frame())
    await rig.samples(4)
    assert (await Case.get(id=case_id)).status == "checked"


async def test_an_inspector_who_checks_first_wins(rig: Rig) -> None:
    case_id = await _handled_case(rig)
    await rig.city.ok(case_id, "check-result", "inspector1", passed=True, note="现场已无车辆")
    rig.camera.show(tiny.frame())
    await rig.samples(4)
    check = await VisionCheck.get(case_id=case_id)
    assert check.status == CheckStatus.SUPERSEDED
    events = await CaseEvent.filter(case_id=case_id, action="check_result").count()
    assert events == 1  # the inspector's only
