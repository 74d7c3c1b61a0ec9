"""Letterbox and the YOLO output layouts, on arrays written by hand: each box lands where the
layout's formula puts it, in the frame's own pixels."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import ConfigError
from vision.decoders import (
    PREPROCESS,
    Letterbox,
    cells,
    decode,
    letterbox,
    pick_layout,
    reduction,
)

LABELS = ["person", "bicycle", "car"]


def test_letterbox_keeps_the_aspect_and_pads_as_each_family_was_trained() -> None:
    frame = np.zeros((480, 640, 3), np.uint8)
    frame[:, :, 2] = 200  # red, in OpenCV's BGR
    yolox, fit = letterbox(frame, (416, 416), PREPROCESS["yolox"])
    assert yolox.shape == (3, 416, 416) and fit.scale == pytest.approx(0.65)
    assert (fit.pad_x, fit.pad_y) == (0, 0)
    assert yolox[2, 0, 0] == 200 and yolox[2, 415, 0] == 114  # BGR kept, padded at the bottom
    v8, fit = letterbox(frame, (640, 640), PREPROCESS["yolov8"])
    assert (fit.pad_x, fit.pad_y) == (0, 80)  # centred
    assert v8[0, 320, 320] == pytest.approx(200 / 255)  # RGB, 0–1
    assert v8[0, 0, 320] == pytest.approx(114 / 255)


def test_yolox_raw_head_is_decoded_with_its_grid_and_strides() -> None:
    size = (416, 416)
    out = np.zeros((cells(size), 5 + len(LABELS)), np.float32)
    # The stride-16 cell (x=3, y=2): it comes after the 52×52 stride-8 cells.
    row = 52 * 52 + 2 * 26 + 3
    out[row, :4] = [0.5, 0.5, np.log(2.0), np.log(1.0)]  # centre of the cell, 32×16 px
    out[row, 4] = 0.9  # objectness
    out[row, 5 + 2] = 0.8  # car
    (car,) = decode(
        out,
        "yolox",
        size=size,
        fit=_fit(0.5),
        frame=(832, 832),
        labels=LABELS,
        floor=0.25,
        iou=0.45,
    )
    assert car.label == "car" and car.score == pytest.approx(0.72)
    # Centre (3.5×16, 2.5×16) = (56, 40) in the input; ×2 back to the 832-pixel frame.
    assert (car.x1, car.y1, car.x2, car.y2) == pytest.approx((80, 64, 144, 96))


def test_yolov5_and_yolov8_boxes_are_already_in_input_pixels() -> None:
    size = (416, 416)
    v5 = np.zeros((3 * cells(size), 5 + len(LABELS)), np.float32)
    v5[7, :6] = [100, 100, 40, 20, 0.8, 0.9]  # a person, objectness × class
    (person,) = decode(
        v5,
        "yolov5",
        size=size,
        fit=_fit(1.0),
        frame=(416, 416),
        labels=LABELS,
        floor=0.25,
        iou=0.45,
    )
    assert person.label == "person" and person.score == pytest.approx(0.72)
    assert (person.x1, person.y1, person.x2, person.y2) == pytest.approx((80, 90, 120, 110))
    v8 = np.zeros((4 + len(LABELS), 100), np.float32)
    v8[:, 9] = [50, 60, 20, 20, 0, 0.7, 0]  # a bicycle, class score only
    (bike,) = decode(
        v8,
        "yolov8",
        size=size,
        fit=_fit(1.0, pad_y=10),
        frame=(396, 416),
        labels=LABELS,
        floor=0.25,
        iou=0.45,
    )
    assert bike.label == "bicycle" and bike.score == pytest.approx(0.7)
    assert (bike.y1, bike.y2) == pytest.approx((40, 60))  # the padding taken off


def test_nms_keeps_one_box_per_object_and_class() -> None:
    out = np.zeros((6, 4 + len(LABELS)), np.float32).T.copy()
    boxes = [
        (100, 100, 50, 50, 0.9, 2),
        (102, 101, 50, 50, 0.8, 2),
        (101, 100, 50, 50, 0.7, 0),
        (300, 300, 50, 50, 0.6, 2),
        (300, 300, 50, 50, 0.1, 2),
    ]
    for n, (x, y, w, h, score, cls) in enumerate(boxes):
        out[:4, n] = [x, y, w, h]
        out[4 + cls, n] = score
    found = decode(
        out,
        "yolov8",
        size=(416, 416),
        fit=_fit(1.0),
        frame=(416, 416),
        labels=LABELS,
        floor=0.25,
        iou=0.45,
    )
    assert [(d.label, round(d.score, 1)) for d in found] == [
        ("car", 0.9),
        ("person", 0.7),
        ("car", 0.6),
    ]


def test_the_layout_is_told_from_the_output_shape() -> None:
    assert pick_layout([1, 3549, 85], (416, 416), 80) == "yolox"
    assert pick_layout(["N", 25200, 85], (640, 640), 80) == "yolov5"
    assert pick_layout([1, 84, 8400], (640, 640), 80) == "yolov8"
    with pytest.raises(ConfigError, match="CITYLOOP_VISION_DECODER"):
        pick_layout([1, 3549, 85], (416, 416), 12)  # a labels file that does not fit
    with pytest.raises(ConfigError, match="3 dimensions"):
        pick_layout([1, 1000], (416, 416), 80)


def _fit(scale: float, pad_y: float = 0.0) -> Letterbox:
    return Letterbox(scale, 0.0, pad_y)


def test_a_jpeg_is_decoded_as_small_as_the_model_allows() -> None:
    assert reduction((1920, 1080), (416, 416)) == 4  # 480×270: the letterbox still shrinks it
    assert reduction((1920, 1080), (640, 640)) == 2
    assert reduction((832, 832), (416, 416)) == 2
    assert reduction((416, 416), (416, 416)) == 1
    assert reduction((320, 240), (640, 640)) == 1
