"""From a fired rule to a case: dedupe, evidence, the review queue, the one door in.

The event row is written before the case is submitted, with its evidence already stored
(files before rows, as media does): a crash between the two leaves a `filing` row that the
next start submits again, under the same idempotency key, so no problem is lost and none is
filed twice.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from dataclasses import dataclass, field

from cases import (
    CaseStatus,
    IntakeDraft,
    Location,
    Reporter,
    Source,
    Urgency,
    case_view,
    deps_of,
    submit,
)
from core.errors import CityloopError, NotFound
from core.media.service import ingest
from core.runtime import Runtime
from vision.config import CameraIn, ZoneRule
from vision.const import HOLDING, EventStatus
from vision.decoders import Detection, Image
from vision.deps import vision_of
from vision.evidence import annotate, jpeg
from vision.models import Camera, VisionEvent
from vision.rules import Fired
from vision.service import declared
from vision.zones import Zone

log = logging.getLogger(__name__)
ENDED = frozenset({CaseStatus.CLOSED, CaseStatus.CANCELLED, CaseStatus.REJECTED})


@dataclass(frozen=True)
class Sighting:
    """A rule that fired on one camera's sample, with the frame it fired on."""

    camera: Camera
    spec: CameraIn
    fired: Fired
    zone: Zone
    frame: Image
    at: dt.datetime  # the sample's instant
    since: dt.datetime  # when the object was first seen standing in the zone
    others: tuple[Detection, ...] = field(default=())


async def store_picture(runtime: Runtime, picture: Image) -> int:
    """Keep a picture as media (no uploader: the camera's); return its id."""
    quality = vision_of(runtime).config.jpeg_quality
    data = await asyncio.to_thread(jpeg, picture, quality=quality)  # 1080p: milliseconds
    media = await ingest(data, settings=runtime.settings, storage=runtime.storage)
    return int(media.id)


async def _holder(runtime: Runtime, sighting: Sighting) -> EventStatus | None:
    """DUPLICATE while this camera, zone and category have an open case or a pending review;
    COOLDOWN within the cool-down after its case ended, or after a person dismissed the last
    one as a false detection (the same parked truck is not asked about every few minutes);
    None: file it."""
    rule = sighting.fired.rule
    last = (
        await VisionEvent.filter(
            camera_id=sighting.camera.id,
            zone=sighting.fired.zone,
            category_code=rule.category_code,
            status__in=sorted(HOLDING | {EventStatus.DISMISSED}),
        )
        .order_by("-id")
        .first()
    )
    if last is None:
        return None
    cooldown = dt.timedelta(seconds=vision_of(runtime).config.cooldown_s)
    if last.status == EventStatus.DISMISSED:
        dismissed = last.reviewed_at
        cooling = dismissed is not None and sighting.at < dismissed + cooldown
        return EventStatus.COOLDOWN if cooling else None
    if last.status in {EventStatus.REVIEW, EventStatus.FILING} or last.case_id is None:
        return EventStatus.DUPLICATE
    try:
        case = await case_view(last.case_id, viewer=None, deps=deps_of(runtime))
    except NotFound:
        return None
    if case.status not in ENDED:
        return EventStatus.DUPLICATE
    ended = case.closed_at or (case.timeline[-1].at if case.timeline else None)
    if ended is not None and sighting.at < ended + cooldown:
        return EventStatus.COOLDOWN
    return None


async def record(runtime: Runtime, sighting: Sighting) -> VisionEvent:
    """Record a fired rule and do what it calls for: a case, a review, or nothing (held)."""
    fired, rule = sighting.fired, sighting.fired.rule
    held = await _holder(runtime, sighting)
    values = {
        "camera_id": sighting.camera.id,
        "zone": fired.zone,
        "rule_index": fired.rule_index,
        "category_code": rule.category_code,
        "urgency": rule.urgency.value if rule.urgency else None,
        "label": fired.box.label,
        "score": round(fired.median, 4),
        "box": [round(v, 1) for v in fired.box.xyxy],
        "since_at": sighting.since,
        "fired_at": sighting.at,
    }
    if held is not None:  # no pictures: the open case (or its cool-down) has them
        return await VisionEvent.create(status=held, **values)
    marked = annotate(
        sighting.frame,
        zone=sighting.zone,
        hits=[fired.box],
        others=sighting.others,
        camera=sighting.spec.code,
        at=sighting.at,
    )
    evidence = await store_picture(runtime, marked)
    frame = await store_picture(runtime, sighting.frame)
    status = EventStatus.REVIEW if rule.review else EventStatus.FILING
    event = await VisionEvent.create(status=status, evidence_id=evidence, frame_id=frame, **values)
    if status == EventStatus.FILING:
        return await file_case(runtime, event, done=EventStatus.FILED)
    return event


def rule_of(spec: CameraIn, zone: str, index: int) -> ZoneRule | None:
    """The rule of a zone by its index (None: the camera was declared anew without it)."""
    for each in spec.zones:
        if each.name == zone and index < len(each.rules):
            return each.rules[index]
    return None


def draft_of(event: VisionEvent, camera: Camera, category: str) -> IntakeDraft:
    """The report a camera makes of one event (its key names the event: a retry is one)."""
    spec = declared(camera)
    rule = rule_of(spec, event.zone, event.rule_index)
    text = (rule.description if rule else "") or (
        f"视频识别：摄像头「{camera.name}」在区域「{event.zone}」发现{category}"
        f"（识别为 {event.label}，置信度 {event.score:.2f}）"
    )
    return IntakeDraft(
        source=Source.VIDEO,
        idempotency_key=f"vision-event-{event.id}",
        reporter=Reporter(),
        category_code=event.category_code,
        description=text,
        location=Location(lon=camera.lon, lat=camera.lat),
        address=spec.address or camera.name,
        attachments=tuple(i for i in (event.evidence_id, event.frame_id) if i is not None),
        occurred_at=event.since_at,
        urgency=Urgency(event.urgency) if event.urgency else None,
        extras={
            "camera": camera.code,
            "zone": event.zone,
            "label": event.label,
            "score": event.score,
            "vision_event_id": event.id,
        },
    )


async def file_case(runtime: Runtime, event: VisionEvent, *, done: EventStatus) -> VisionEvent:
    """Submit the event's report through the one door in; the event then names its case."""
    camera = await Camera.get(id=event.camera_id)
    deps = deps_of(runtime)
    category = deps.policy.category(event.category_code)
    named = category.name if category else event.category_code
    try:
        result = await submit(draft_of(event, camera, named), deps=deps)
    except CityloopError as err:
        # A category retired since the camera was declared, a camera moved out of the city:
        # the event stays `filing` (resumed at the next start) and the log says why.
        log.warning("vision event %s not filed: %s", event.id, err.detail)
        raise
    await VisionEvent.filter(id=event.id).update(
        status=done, case_id=result.case.id, merged=result.merged
    )
    return await VisionEvent.get(id=event.id)


async def resume(runtime: Runtime) -> int:
    """Submit the events a crash left `filing`; return how many were filed."""
    filed = 0
    for event in await VisionEvent.filter(status=EventStatus.FILING).order_by("id"):
        try:
            await file_case(runtime, event, done=EventStatus.FILED)
            filed += 1
        except CityloopError:
            continue
    return filed
