"""Names and key strings of the vision package."""

from __future__ import annotations

from enum import StrEnum
from typing import Final

NAME: Final = "vision"

# The model's class names when CITYLOOP_VISION_LABELS is unset: COCO's 80, in class order
# (what YOLOX/YOLOv5/v8 checkpoints trained on COCO put out).
DEFAULT_LABELS: Final = "coco.names"

# YOLOX's and YOLOv5/v8's heads predict at these strides (8, 16, 32 pixels per cell).
STRIDES: Final = (8, 16, 32)
# YOLOv5 predicts three anchors per cell.
V5_ANCHORS: Final = 3
# Letterbox padding value: what the YOLO family were trained with.
PAD_VALUE: Final = 114


class SourceKind(StrEnum):
    """How a camera's frames are read."""

    STREAM = "stream"  # RTSP/RTMP/HTTP video stream, through OpenCV
    SNAPSHOT = "snapshot"  # an HTTP URL that answers one JPEG per GET
    FILE = "file"  # a video file, read at the sampling interval of its own clock


class CameraHealth(StrEnum):
    """What a camera's reader last said."""

    UNKNOWN = "unknown"  # no reader has run yet
    OK = "ok"  # frames arrive
    RECONNECTING = "reconnecting"  # the source failed; retrying with backoff
    DEAD = "dead"  # no frame for longer than the camera's dead_after_s


HEALTH_NAMES: Final = {
    CameraHealth.UNKNOWN: "未连接",
    CameraHealth.OK: "正常",
    CameraHealth.RECONNECTING: "重连中",
    CameraHealth.DEAD: "离线",
}


class EventStatus(StrEnum):
    """What became of one fired rule (a problem seen in a zone past its dwell time)."""

    FILING = "filing"  # written first; the case is being submitted (a crash resumes it)
    FILED = "filed"  # a case was made (or the report joined an open case)
    REVIEW = "review"  # waiting for a person's confirmation (the rule asks for it)
    CONFIRMED = "confirmed"  # a person confirmed it: filed as a case
    DISMISSED = "dismissed"  # a person dismissed it (a false detection), with a reason
    DUPLICATE = "duplicate"  # the same camera, zone and category already has an open case
    COOLDOWN = "cooldown"  # fired within the cool-down after the last case's closure


EVENT_NAMES: Final = {
    EventStatus.FILING: "立案中",
    EventStatus.FILED: "已立案",
    EventStatus.REVIEW: "待确认",
    EventStatus.CONFIRMED: "已确认立案",
    EventStatus.DISMISSED: "已驳回",
    EventStatus.DUPLICATE: "重复（已有在办案件）",
    EventStatus.COOLDOWN: "冷却期内",
}

# Events that hold their camera, zone and category: a new detection there makes no case.
HOLDING: Final = frozenset(
    {EventStatus.FILING, EventStatus.FILED, EventStatus.REVIEW, EventStatus.CONFIRMED}
)


class CheckStatus(StrEnum):
    """智能核查 of one 处置: the camera watches the zone again."""

    WATCHING = "watching"
    PASSED = "passed"  # absent for the configured samples: 核查通过
    FAILED = "failed"  # still there: 返工
    SUPERSEDED = "superseded"  # a person checked first, or the case moved on


# A reader writes its camera's health when it changes, else this often: a thousand cameras
# sampled every 5 s must not make a thousand UPDATEs every few seconds.
HEALTH_EVERY_S: Final = 30.0

# Job names (case-event subscribers).
ON_HANDLE: Final = "vision.recheck"
