"""智能核查: after a department says it fixed a camera's problem, the camera watches the zone
again. Absent for `check_samples` samples in a row → 核查通过, by the system, with the picture;
still there as many → 返工 with a new picture. A person who checks first wins: the watch then
ends as superseded."""

from __future__ import annotations

import logging

from cases import (
    Action,
    CaseChanged,
    CaseEventPayload,
    InvalidTransition,
    ResultIn,
    deps_of,
    transition,
)
from core.errors import Forbidden, ValidationFailed
from core.runtime import Runtime
from vision.const import CheckStatus, EventStatus
from vision.models import Camera, VisionCheck, VisionEvent

log = logging.getLogger(__name__)


async def watch(runtime: Runtime, event: CaseEventPayload) -> VisionCheck | None:
    """A 处置 of a case a camera reported: watch its zone (once per 处置)."""
    found = (
        await VisionEvent.filter(
            case_id=event.case_id, status__in=[EventStatus.FILED, EventStatus.CONFIRMED]
        )
        .order_by("-id")
        .first()
    )
    if found is None:
        return None  # not a camera's case
    check, _ = await VisionCheck.get_or_create(
        handle_event_id=event.event_id,
        defaults={"case_id": event.case_id, "event_id": found.id, "camera_id": found.camera_id},
    )
    return check


async def decide(
    runtime: Runtime, check: VisionCheck, *, gone: bool, media_id: int, samples: int
) -> CheckStatus:
    """Record the camera's verdict on the case (核查通过 or 返工); return the check's end."""
    camera = await Camera.get(id=check.camera_id)
    event = await VisionEvent.get(id=check.event_id)
    if gone:
        note = (
            f"摄像头「{camera.name}」智能核查：区域「{event.zone}」连续 {samples} 次采样"
            f"未再发现问题，核查通过"
        )
    else:
        note = (
            f"摄像头「{camera.name}」智能核查：区域「{event.zone}」连续 {samples} 次采样"
            f"仍发现问题（{event.label}），返工"
        )
    status = CheckStatus.PASSED if gone else CheckStatus.FAILED
    try:
        await transition(
            check.case_id,
            Action.CHECK_RESULT,
            ResultIn(passed=gone, note=note, attachments=(media_id,)),
            actor=None,
            deps=deps_of(runtime),
        )
    except (InvalidTransition, CaseChanged, ValidationFailed, Forbidden) as err:
        # Checked by a person first, or the case moved on: the camera's verdict is not needed.
        log.info("vision check %s superseded: %s", check.id, err.detail)
        status, note = CheckStatus.SUPERSEDED, f"已由他人核查或案件已变更：{err.message}"
    await VisionCheck.filter(id=check.id).update(
        status=status,
        samples=samples,
        evidence_id=media_id,
        detail=note[:200],
        done_at=deps_of(runtime).now(),
    )
    return status
