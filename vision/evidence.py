"""Evidence pictures: the clean frame, and one annotated with the zone, the boxes, their labels
and scores, the camera and the time (ASCII text: OpenCV's fonts have no Chinese glyphs, so the
camera is named by its code)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import cv2
import numpy as np

from core.timeutil import to_local
from vision.decoders import Detection, Image
from vision.zones import Zone

_ZONE = (0, 215, 255)  # amber, BGR
_HIT = (0, 0, 255)  # red: the problem
_OTHER = (200, 200, 200)  # grey: what else the model saw


def jpeg(frame: Image, *, quality: int) -> bytes:
    """Encode a frame as JPEG."""
    ok, data = cv2.imencode(".jpg", frame, [int(cv2.IMWRITE_JPEG_QUALITY), quality])
    if not ok:
        raise ValueError("the frame could not be encoded")
    return bytes(data.tobytes())


def annotate(
    frame: Image,
    *,
    zone: Zone | None,
    hits: Sequence[Detection],
    others: Sequence[Detection] = (),
    camera: str,
    at: dt.datetime,
) -> Image:
    """A copy of the frame with the zone outline, the boxes and a caption."""
    out = frame.copy()
    scale = max(1.0, out.shape[1] / 640)
    thick = max(1, round(2 * scale))
    if zone is not None:
        points = np.array(zone.points, dtype=np.int32).reshape(-1, 1, 2)
        cv2.polylines(out, [points], isClosed=True, color=_ZONE, thickness=thick)
    for detection, colour in [*((d, _OTHER) for d in others), *((d, _HIT) for d in hits)]:
        p1 = (round(detection.x1), round(detection.y1))
        p2 = (round(detection.x2), round(detection.y2))
        cv2.rectangle(out, p1, p2, colour, thick)
        _text(
            out,
            f"{detection.label} {detection.score:.2f}",
            (p1[0], max(12, p1[1] - 4)),
            colour,
            scale,
        )
    stamp = to_local(at).strftime("%Y-%m-%d %H:%M:%S")
    _text(out, f"{camera}  {stamp}", (6, out.shape[0] - 8), (255, 255, 255), scale)
    return out


def _text(
    image: Image, text: str, at: tuple[int, int], colour: tuple[int, int, int], scale: float
) -> None:
    # A dark outline keeps the caption readable on any background.
    font, size = cv2.FONT_HERSHEY_SIMPLEX, 0.5 * scale
    cv2.putText(image, text, at, font, size, (0, 0, 0), max(2, round(3 * scale)), cv2.LINE_AA)
    cv2.putText(image, text, at, font, size, colour, max(1, round(scale)), cv2.LINE_AA)
