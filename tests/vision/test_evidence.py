"""The evidence picture: the zone's outline, the problem's box in red, the others in grey, and
a caption with the camera and the local time; the clean frame stays untouched."""

from __future__ import annotations

import datetime as dt

import cv2
import numpy as np

from tests.vision import tiny
from vision.config import CameraZone
from vision.decoders import Detection
from vision.evidence import annotate, jpeg
from vision.zones import Zone


def test_the_picture_shows_the_zone_the_boxes_and_the_caption() -> None:
    frame = tiny.frame()
    zone = Zone.of(
        CameraZone.model_validate(
            {
                "name": "z",
                "points": [[20, 20], [200, 20], [200, 200], [20, 200]],
                "rules": [{"labels": ["car"], "category_code": "E09009"}],
            }
        )
    )
    hit = Detection(100, 100, 150, 150, 0.93, "car")
    other = Detection(300, 300, 350, 350, 0.4, "person")
    at = dt.datetime(2026, 12, 4, 1, 2, 3, tzinfo=dt.UTC)
    marked = annotate(frame, zone=zone, hits=[hit], others=[other], camera="cam-7", at=at)
    assert (frame == tiny.frame()).all()  # a copy: the clean frame is kept as it was
    assert tuple(marked[20, 110]) == (0, 215, 255)  # the zone's outline, amber
    assert tuple(marked[125, 100]) == (0, 0, 255)  # the problem's box, red
    assert tuple(marked[325, 300]) == (200, 200, 200)  # another detection, grey
    caption = marked[395:412, 0:300]
    assert (np.abs(caption.astype(int) - 114).sum(axis=2) > 100).any()  # text was written
    decoded = cv2.imdecode(np.frombuffer(jpeg(marked, quality=85), np.uint8), cv2.IMREAD_COLOR)
    assert decoded is not None and decoded.shape == frame.shape
