"""From a frame to the model's input and from its output to boxes: letterbox, the YOLO output
layouts, NMS. Pure numpy (and OpenCV's resize and NMS); no model runs here."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

import cv2
import numpy as np
import numpy.typing as npt

from core.errors import ConfigError
from vision.const import PAD_VALUE, STRIDES, V5_ANCHORS

Layout: TypeAlias = Literal["yolox", "yolov5", "yolov8"]
Floats: TypeAlias = npt.NDArray[np.float32]
Image: TypeAlias = npt.NDArray[Any]  # an OpenCV BGR frame (uint8, H×W×3)


@dataclass(frozen=True, slots=True)
class Detection:
    """One box in frame pixels, with its class and score."""

    x1: float
    y1: float
    x2: float
    y2: float
    score: float
    label: str

    @property
    def area(self) -> float:
        """The box's area in pixels²."""
        return max(0.0, self.x2 - self.x1) * max(0.0, self.y2 - self.y1)

    @property
    def xyxy(self) -> tuple[float, float, float, float]:
        """The corners, as the API and the event log give them."""
        return self.x1, self.y1, self.x2, self.y2

    def scaled(self, factor: float) -> Detection:
        """The same box in pixels `factor` times larger (a frame decoded at reduced size)."""
        if factor == 1:
            return self
        return Detection(
            self.x1 * factor,
            self.y1 * factor,
            self.x2 * factor,
            self.y2 * factor,
            self.score,
            self.label,
        )

    @property
    def foot(self) -> tuple[float, float]:
        """The bottom centre: where an object stands on the ground (Frigate's test point)."""
        return (self.x1 + self.x2) / 2, self.y2


@dataclass(frozen=True, slots=True)
class Letterbox:
    """How a frame was fitted into the model's input: scale, then padding."""

    scale: float
    pad_x: float
    pad_y: float


@dataclass(frozen=True, slots=True)
class Preprocess:
    """What the layout's models were trained on."""

    rgb: bool  # YOLOX takes BGR as OpenCV reads it; Ultralytics' models take RGB
    unit: bool  # values 0–1 (Ultralytics) rather than 0–255 (YOLOX)
    centre: bool  # padding on both sides (Ultralytics) rather than right and bottom (YOLOX)


PREPROCESS: dict[Layout, Preprocess] = {
    "yolox": Preprocess(rgb=False, unit=False, centre=False),
    "yolov5": Preprocess(rgb=True, unit=True, centre=True),
    "yolov8": Preprocess(rgb=True, unit=True, centre=True),
}


def letterbox(
    frame: Image, size: tuple[int, int], how: Preprocess, out: Floats | None = None
) -> tuple[Floats, Letterbox]:
    """Resize keeping the aspect ratio, pad with 114, as CHW float32 (into `out`, a slot of
    the batch, when given: no copy to stack them)."""
    height, width = size
    h, w = frame.shape[:2]
    scale = min(height / h, width / w)
    nh, nw = round(h * scale), round(w * scale)
    canvas = np.full((height, width, 3), PAD_VALUE, dtype=np.uint8)
    top = (height - nh) // 2 if how.centre else 0
    left = (width - nw) // 2 if how.centre else 0
    resized = (
        frame if (nh, nw) == (h, w) else cv2.resize(frame, (nw, nh), interpolation=cv2.INTER_LINEAR)
    )
    canvas[top : top + nh, left : left + nw] = resized
    if how.rgb:
        canvas = canvas[:, :, ::-1]
    tensor = np.empty((3, height, width), np.float32) if out is None else out
    np.copyto(tensor, canvas.transpose(2, 0, 1), casting="unsafe")
    if how.unit:
        tensor *= 1 / 255.0
    return tensor, Letterbox(scale, float(left), float(top))


def reduction(frame: tuple[int, int], size: tuple[int, int]) -> int:
    """How much smaller (1, 2, 4 or 8 times) a JPEG of this frame size (width, height) may be
    decoded with nothing lost to a model of this input size (height, width): as long as the
    letterbox still shrinks it. A 1080p camera for a 416-pixel model decodes at a quarter."""
    width, height = frame
    shrink = min(size[0] / height, size[1] / width)
    return next(r for r in (8, 4, 2, 1) if r * shrink <= 1 or r == 1)


def cells(size: tuple[int, int]) -> int:
    """Anchor points of a YOLOX head at this input size (3549 at 416×416)."""
    return sum((size[0] // s) * (size[1] // s) for s in STRIDES)


def pick_layout(shape: Sequence[int | str | None], size: tuple[int, int], classes: int) -> Layout:
    """Tell the output layout from its shape: (N, A, 5+C) raw YOLOX, (N, 3A, 5+C) YOLOv5,
    (N, 4+C, A) YOLOv8/v11."""
    dims = [d if isinstance(d, int) else -1 for d in shape]
    if len(dims) != 3:
        raise ConfigError(f"the model's output has shape {shape}: expected 3 dimensions")
    _, second, third = dims
    if second == 4 + classes and third != 5 + classes:
        return "yolov8"
    if third == 5 + classes:
        if second == cells(size):
            return "yolox"
        if second == V5_ANCHORS * cells(size):
            return "yolov5"
    raise ConfigError(
        f"cannot tell the layout of an output shaped {shape} for {classes} labels at "
        f"{size[1]}×{size[0]}: check CITYLOOP_VISION_LABELS, or set CITYLOOP_VISION_DECODER"
    )


@functools.cache
def _grids(size: tuple[int, int]) -> tuple[Floats, Floats]:
    points, strides = [], []
    for s in STRIDES:
        ys, xs = np.meshgrid(np.arange(size[0] // s), np.arange(size[1] // s), indexing="ij")
        points.append(np.stack((xs, ys), axis=-1).reshape(-1, 2))
        strides.append(np.full((points[-1].shape[0], 1), s))
    return (
        np.concatenate(points).astype(np.float32),
        np.concatenate(strides).astype(np.float32),
    )


def raw_boxes(
    output: Floats, layout: Layout, size: tuple[int, int], floor: float = 0.0
) -> tuple[Floats, Floats]:
    """One image's output → (boxes cx, cy, w, h in input pixels; scores per class), only the
    rows that may reach `floor` (a score is objectness × class: never above the objectness)."""
    if layout == "yolov8":
        rows = output.T
        keep = rows[:, 4:].max(axis=1) >= floor
        return rows[keep, :4], rows[keep, 4:]
    keep = output[:, 4] >= floor
    rows = output[keep]
    if layout == "yolox":
        grid, stride = _grids(size)
        xy = (rows[:, :2] + grid[keep]) * stride[keep]
        wh = np.exp(np.minimum(rows[:, 2:4], 20.0)) * stride[keep]  # a wild value stays finite
        boxes = np.concatenate((xy, wh), axis=1)
    else:
        boxes = rows[:, :4]
    return boxes, rows[:, 4:5] * rows[:, 5:]


def decode(
    output: Floats,
    layout: Layout,
    *,
    size: tuple[int, int],
    fit: Letterbox,
    frame: tuple[int, int],
    labels: Sequence[str],
    floor: float,
    iou: float,
) -> list[Detection]:
    """Boxes of one frame, in its pixels, after the score floor and per-class NMS."""
    boxes, scores = raw_boxes(output, layout, size, floor)
    if not len(boxes):
        return []
    cls = scores.argmax(axis=1)
    best = scores[np.arange(len(cls)), cls]
    keep = best >= floor
    if not keep.any():
        return []
    boxes, best, cls = boxes[keep], best[keep], cls[keep]
    x1 = (boxes[:, 0] - boxes[:, 2] / 2 - fit.pad_x) / fit.scale
    y1 = (boxes[:, 1] - boxes[:, 3] / 2 - fit.pad_y) / fit.scale
    w, h = boxes[:, 2] / fit.scale, boxes[:, 3] / fit.scale
    rects = np.stack((x1, y1, w, h), axis=1)
    chosen = cv2.dnn.NMSBoxesBatched(
        rects.tolist(), best.tolist(), cls.astype(np.int32).tolist(), floor, iou
    )
    height, width = frame
    found = []
    for i in np.asarray(chosen, dtype=np.int64).reshape(-1):
        bx, by, bw, bh = rects[i]
        found.append(
            Detection(
                x1=float(np.clip(bx, 0, width)),
                y1=float(np.clip(by, 0, height)),
                x2=float(np.clip(bx + bw, 0, width)),
                y2=float(np.clip(by + bh, 0, height)),
                score=float(best[i]),
                label=labels[int(cls[i])],
            )
        )
    return sorted(found, key=lambda d: -d.score)
