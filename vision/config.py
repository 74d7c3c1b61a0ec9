"""The vision settings (CITYLOOP_VISION_*) and the declaration of cameras, zones and rules.

A camera file (`cameras.toml`, for `cityloop vision import` and `vision analyze`) is a list of
`[[camera]]` tables, each with `[[camera.zones]]` and their `[[camera.zones.rules]]`; the API
takes the same shape as JSON. Shape errors are pydantic's; what needs the model's labels or
the city's catalog (a zone outside the frame, an unknown label or category) is checked by
`vision.service.problems`, which names the field.
"""

from __future__ import annotations

import re
from collections import Counter
from importlib.resources import files
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from cases import Urgency
from core.errors import ConfigError
from core.geo import CoordSystem
from vision.const import DEFAULT_LABELS, SourceKind

# HTTP sources whose path says they are video, not one picture per GET.
_VIDEO_PATHS = (".mjpg", ".mjpeg", ".m3u8", ".flv", ".mp4", ".ts", ".webm")
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")


class VisionConfig(BaseSettings):
    """CITYLOOP_VISION_*: the model, how it runs, and how problems become cases."""

    model_config = SettingsConfigDict(env_prefix="CITYLOOP_VISION_", extra="forbid", frozen=True)

    model: Path | None = Field(
        None,
        description="the ONNX model file (`vision run` needs it; the web process never loads it)",
    )
    labels: Path | None = Field(
        None, description="class names, one a line in class order; unset: COCO's 80"
    )
    decoder: Literal["auto", "yolox", "yolov5", "yolov8"] = Field(
        "auto",
        description="the model's output layout: auto picks it from the output shape (YOLOX "
        "raw head, YOLOv5 anchors, YOLOv8/v11 transposed); yolov8 also reads YOLO11",
    )
    provider: Literal["cpu", "cuda"] = Field(
        "cpu", description="onnxruntime's execution provider; cuda falls back to cpu, logged"
    )
    threads: int = Field(0, ge=0, le=64, description="intra-op threads (0: onnxruntime's own)")
    batch: int = Field(
        8,
        ge=1,
        le=64,
        description="frames of several cameras in one run, where the model's "
        "batch dimension is free (a model fixed at 1 runs them one by one)",
    )
    score_floor: float = Field(
        0.25, gt=0, lt=1, description="detections below this score are dropped before NMS"
    )
    nms_iou: float = Field(0.45, gt=0, lt=1, description="NMS overlap (per class)")
    track_iou: float = Field(
        0.3, gt=0, lt=1, description="boxes of two samples this much overlapped: one object"
    )
    track_missed: int = Field(
        2, ge=0, le=20, description="samples an object may go unseen before it is lost"
    )
    cooldown_s: float = Field(
        1800, ge=0, description="after a video case's 结案, no new case there for this long"
    )
    check_samples: int = Field(
        3,
        ge=1,
        le=100,
        description="智能核查: this many samples in a row decide (absent: passed; present: 返工)",
    )
    refresh_s: float = Field(
        30, gt=0, description="`vision run` reloads the camera registry this often"
    )
    jpeg_quality: int = Field(85, ge=30, le=100, description="evidence pictures' JPEG quality")

    # Only the labels: the web process reads them, while the model may live on the machines
    # that run `vision run` alone (the detector says when it is missing).
    @field_validator("labels")
    @classmethod
    def _exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"file not found: {value}")
        return value


class ZoneRule(BaseModel):
    """What counts as a problem in a zone, and what it becomes (Frigate-style filters)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    labels: tuple[str, ...] = Field(min_length=1, max_length=20, description="model labels")
    category_code: str = Field(min_length=1, max_length=16, description="the 小类 it files")
    urgency: Urgency | None = Field(None, description="立案条件 class (default: the category's)")
    min_score: float = Field(0.5, gt=0, le=1, description="a frame's detection counts from this")
    median_score: float = Field(0.6, gt=0, le=1, description="the median over the samples")
    min_frames: int = Field(3, ge=3, le=1000, description="samples before the median decides")
    min_area: float = Field(0, ge=0, description="smallest box, in pixels² of the frame")
    dwell_s: float = Field(180, ge=0, le=86400, description="in the zone this long: it fires")
    review: bool = Field(False, description="a person confirms first (the review queue)")
    description: str = Field("", max_length=200, description="the case text (default: named)")


class CameraZone(BaseModel):
    """A polygon in image coordinates (pixels of the camera's frame) with its rules."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=40)
    points: tuple[tuple[float, float], ...] = Field(min_length=3, max_length=64)
    rules: tuple[ZoneRule, ...] = Field(min_length=1, max_length=20)


class CameraIn(BaseModel):
    """One camera: where its frames come from, where it stands, its zones."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(min_length=1, max_length=32, description="a short ASCII name, unique")
    name: str = Field(min_length=1, max_length=64, description="what people call it")
    source: str = Field(min_length=1, max_length=500, description="rtsp://…, http://…, a file")
    kind: SourceKind | None = Field(
        None,
        description="stream, snapshot or file; default: rtsp/rtmp a stream, http a "
        "snapshot URL, anything else a file",
    )
    width: int = Field(ge=16, le=8192, description="the frame's width in pixels")
    height: int = Field(ge=16, le=8192, description="the frame's height in pixels")
    lon: float = Field(ge=-180, le=180)
    lat: float = Field(ge=-90, le=90)
    crs: CoordSystem = CoordSystem.WGS84
    address: str = Field("", max_length=200)
    interval_s: float = Field(5, ge=0.2, le=3600, description="one sample this often")
    dead_after_s: float = Field(60, ge=5, le=86400, description="no frame this long: 离线")
    enabled: bool = True
    zones: tuple[CameraZone, ...] = Field((), max_length=32)

    @field_validator("code")
    @classmethod
    def _code(cls, value: str) -> str:
        if not _CODE.fullmatch(value):
            raise ValueError("letters, digits, '_', '.', '-' (up to 32)")
        return value

    @model_validator(mode="after")
    def _zone_names(self) -> CameraIn:
        names = [z.name for z in self.zones]
        if len(set(names)) != len(names):
            raise ValueError("zone names repeat")
        return self

    @property
    def source_kind(self) -> SourceKind:
        """The kind given, else the one the source's scheme says."""
        if self.kind is not None:
            return self.kind
        scheme = self.source.split("://", 1)[0].lower() if "://" in self.source else ""
        if scheme in {"rtsp", "rtsps", "rtmp"}:
            return SourceKind.STREAM
        if scheme in {"http", "https"}:
            path = self.source.split("?", 1)[0].lower()
            return SourceKind.STREAM if path.endswith(_VIDEO_PATHS) else SourceKind.SNAPSHOT
        return SourceKind.FILE


class CameraFile(BaseModel):
    """A camera file: `[[camera]]` tables."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    camera: tuple[CameraIn, ...] = Field(min_length=1, max_length=100_000)

    @model_validator(mode="after")
    def _codes(self) -> CameraFile:
        counts = Counter(c.code for c in self.camera)
        repeated = sorted(c for c, n in counts.items() if n > 1)
        if repeated:
            raise ValueError(f"camera codes repeat: {', '.join(repeated)}")
        return self


def read_labels(path: Path | None) -> list[str]:
    """Class names, one a line in class order (unset: COCO's)."""
    if path is None:
        text = files("vision.data").joinpath(DEFAULT_LABELS).read_text(encoding="utf-8")
    else:
        text = path.read_text(encoding="utf-8")
    labels = [line.strip() for line in text.splitlines() if line.strip()]
    if not labels:
        raise ConfigError(f"CITYLOOP_VISION_LABELS: {path} names no class")
    return labels
