"""The review queue: problems a rule sends to a person first; confirm → a case, dismiss →
recorded with the reason."""

from __future__ import annotations

from cases import deps_of
from core.auth.service import Principal
from core.errors import CityloopError, Conflict, NotFound
from core.runtime import Runtime
from vision.const import EventStatus
from vision.filing import file_case
from vision.models import VisionEvent


class ReviewClosed(Conflict):
    code = "review_closed"
    message = "该识别结果已处理（已确认或已驳回）"


async def _pending(event_id: int) -> VisionEvent:
    event = await VisionEvent.get_or_none(id=event_id)
    if event is None:
        raise NotFound(
            f"vision event {event_id}", code="event_not_found", message="未找到该识别结果"
        )
    if event.status != EventStatus.REVIEW:
        raise ReviewClosed(f"vision event {event_id} is {event.status}")
    return event


async def confirm(runtime: Runtime, event_id: int, *, who: Principal, note: str) -> VisionEvent:
    """A person confirms: the event becomes a case (once; a second confirm is 409)."""
    await _pending(event_id)
    now = deps_of(runtime).now()
    taken = await VisionEvent.filter(id=event_id, status=EventStatus.REVIEW).update(
        status=EventStatus.FILING, reviewed_by_id=who.id, reviewed_at=now, review_note=note
    )
    if not taken:  # someone else decided first
        raise ReviewClosed(f"vision event {event_id} was decided meanwhile")
    event = await VisionEvent.get(id=event_id)
    try:
        return await file_case(runtime, event, done=EventStatus.CONFIRMED)
    except CityloopError:
        # Not filed (say, the category was retired): it waits in the queue again.
        await VisionEvent.filter(id=event_id).update(
            status=EventStatus.REVIEW, reviewed_by_id=None, reviewed_at=None, review_note=""
        )
        raise


async def dismiss(runtime: Runtime, event_id: int, *, who: Principal, reason: str) -> VisionEvent:
    """A person dismisses it (a false detection, not a problem): recorded, no case."""
    await _pending(event_id)
    taken = await VisionEvent.filter(id=event_id, status=EventStatus.REVIEW).update(
        status=EventStatus.DISMISSED,
        reviewed_by_id=who.id,
        reviewed_at=deps_of(runtime).now(),
        review_note=reason,
    )
    if not taken:
        raise ReviewClosed(f"vision event {event_id} was decided meanwhile")
    return await VisionEvent.get(id=event_id)
