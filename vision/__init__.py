"""Video recognition (视频识别): cameras, zones and rules; ONNX detection on sampled frames in
worker processes (`cityloop vision run`); a problem that stays in a zone past its dwell time
becomes a case with an evidence picture (or waits for a person's confirmation); after the
department's 处置 the camera checks the zone again (智能核查). The web process only reads the
registry and serves the evidence: no model loads there.
"""

from __future__ import annotations

import importlib.util

from core.config import Settings
from core.packages import Package, config_of
from core.runtime import Runtime
from vision.config import VisionConfig, read_labels
from vision.const import NAME
from vision.deps import VISION, VisionDeps


def _installed(settings: Settings) -> bool:
    """On where the `vision` extra is installed (OpenCV, onnxruntime): a city without cameras
    installs none of it, and the package is then off."""
    return all(importlib.util.find_spec(m) is not None for m in ("cv2", "onnxruntime"))


def _configure(runtime: Runtime) -> None:
    """Read the label file (zones' rules are checked against it); load no model."""
    config = config_of(runtime.settings, NAME, VisionConfig)
    runtime[VISION] = VisionDeps(config=config, labels=tuple(read_labels(config.labels)))


PACKAGE = Package(
    name=NAME,
    title="视频识别（摄像头、区域规则、自动立案、智能核查）",
    routes=("vision.views",),
    jobs=("vision.jobs",),
    models=("vision.models",),
    requires=("cases",),
    config=VisionConfig,
    enabled=_installed,
    configure=_configure,
    commands=("vision.commands",),
    ready="vision.service:readiness",
    demo_hint="视频识别: `cityloop vision analyze VIDEO --config cameras.toml` (README, "
    '"Video recognition"); `cityloop vision run` with CITYLOOP_VISION_MODEL watches the cameras',
)

__all__ = ["PACKAGE", "VISION", "VisionDeps"]
