"""The detector: a small protocol and the ONNX implementation (the only module that imports
onnxruntime). It warms up when it is built, so the first camera does not wait for it."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
import onnxruntime as ort

from core.errors import ConfigError
from vision.config import VisionConfig, read_labels
from vision.decoders import (
    PREPROCESS,
    Detection,
    Floats,
    Image,
    Layout,
    Letterbox,
    decode,
    letterbox,
    pick_layout,
)

log = logging.getLogger(__name__)
_PROVIDERS = {"cpu": "CPUExecutionProvider", "cuda": "CUDAExecutionProvider"}


class Detector(Protocol):
    """Find objects in frames (any number, of any size)."""

    @property
    def labels(self) -> Sequence[str]:
        """The class names, in class order."""
        ...

    @property
    def name(self) -> str:
        """What the model is called (its file's stem)."""
        ...

    @property
    def size(self) -> tuple[int, int]:
        """The model's input, height and width."""
        ...

    def detect(self, frames: Sequence[Image]) -> list[list[Detection]]:
        """Detections per frame, in that frame's pixels, best first."""
        ...


def providers(wanted: str) -> list[str]:
    """The execution providers for a setting: CUDA where onnxruntime has it, else the CPU."""
    available = ort.get_available_providers()
    chosen = _PROVIDERS[wanted]
    if chosen not in available:
        log.warning(
            "vision: provider %s is not available here (%s); using the CPU",
            chosen,
            ", ".join(available),
        )
        chosen = _PROVIDERS["cpu"]
    return [chosen] if chosen == _PROVIDERS["cpu"] else [chosen, _PROVIDERS["cpu"]]


class OnnxDetector:
    """A YOLO-family ONNX model on onnxruntime."""

    def __init__(self, config: VisionConfig, *, model: Path | None = None) -> None:
        path = model or config.model
        if path is None:
            raise ConfigError("CITYLOOP_VISION_MODEL: set the ONNX model file to run cameras")
        if not path.is_file():
            raise ConfigError(f"CITYLOOP_VISION_MODEL: file not found: {path}")
        self.name = path.stem
        self.labels = read_labels(config.labels)
        self._config = config
        options = ort.SessionOptions()
        if config.threads:
            options.intra_op_num_threads = config.threads
        try:
            self.session = ort.InferenceSession(
                str(path), options, providers=providers(config.provider)
            )
        except Exception as err:  # onnxruntime raises its own classes for a bad file
            raise ConfigError(f"CITYLOOP_VISION_MODEL: {path} does not load: {err}") from err
        given = self.session.get_inputs()[0]
        self._input = given.name
        shape = list(given.shape)
        if len(shape) != 4:
            raise ConfigError(f"the model's input {given.name} has shape {shape}: expected NCHW")
        self.size = (_fixed(shape[2], 640), _fixed(shape[3], 640))
        # A batch dimension fixed at 1 takes the frames one by one.
        self.batch = config.batch if not isinstance(shape[0], int) else max(1, shape[0])
        out_shape = self.session.get_outputs()[0].shape
        self.layout: Layout = (
            pick_layout(out_shape, self.size, len(self.labels))
            if config.decoder == "auto"
            else config.decoder
        )
        self._how = PREPROCESS[self.layout]
        self.provider = self.session.get_providers()[0]
        self.raw(np.zeros((1, 3, *self.size), dtype=np.float32))  # warm-up
        log.info(
            "vision: %s (%s, %d labels) on %s, batch %d",
            self.name,
            self.layout,
            len(self.labels),
            self.provider,
            self.batch,
        )

    def raw(self, tensor: Floats) -> Floats:
        """One bare `session.run` (the benchmark's ceiling)."""
        out = self.session.run(None, {self._input: tensor})[0]
        return np.asarray(out, dtype=np.float32)

    def prepare(self, frames: Sequence[Image]) -> tuple[Floats, list[Letterbox]]:
        """The letterboxed input of these frames and how each was fitted."""
        batch = np.empty((len(frames), 3, *self.size), np.float32)
        fits = [letterbox(f, self.size, self._how, batch[n])[1] for n, f in enumerate(frames)]
        return batch, fits

    def detect(self, frames: Sequence[Image]) -> list[list[Detection]]:
        """Detections per frame, batched as the model allows."""
        found: list[list[Detection]] = []
        for start in range(0, len(frames), self.batch):
            chunk = frames[start : start + self.batch]
            tensor, fits = self.prepare(chunk)
            out = self.raw(tensor)
            for frame, fit, output in zip(chunk, fits, out, strict=True):
                found.append(
                    decode(
                        output,
                        self.layout,
                        size=self.size,
                        fit=fit,
                        frame=(frame.shape[0], frame.shape[1]),
                        labels=self.labels,
                        floor=self._config.score_floor,
                        iou=self._config.nms_iou,
                    )
                )
        return found


def _fixed(dim: object, default: int) -> int:
    return dim if isinstance(dim, int) and dim > 0 else default
