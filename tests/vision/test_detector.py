"""The ONNX detector on the tiny model (always) and on YOLOX-Nano (where ../shared has it):
boxes where the objects are, in frame pixels; batches; the layout picked from the model."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import pytest

from core.errors import ConfigError
from tests.vision import tiny
from vision.config import VisionConfig
from vision.detector import OnnxDetector


def test_the_tiny_model_finds_a_car_and_a_person_where_they_were_drawn(tiny_model: Path) -> None:
    detector = OnnxDetector(VisionConfig(model=tiny_model))
    assert (detector.layout, detector.size, detector.batch) == ("yolox", (416, 416), 8)
    image = tiny.frame(squares=((6, 8, tiny.RED), (2, 3, tiny.BLUE)))
    found = {d.label: d for d in detector.detect([image])[0]}
    assert set(found) == {"car", "person"}
    car = found["car"]
    assert (car.x1, car.y1, car.x2, car.y2) == (192, 256, 224, 288) and car.score > 0.99
    assert detector.detect([tiny.frame()]) == [[]]


def test_a_larger_frame_is_letterboxed_and_its_boxes_come_back_in_its_pixels(
    tiny_model: Path,
) -> None:
    detector = OnnxDetector(VisionConfig(model=tiny_model))
    (car,) = detector.detect([tiny.frame(squares=((6, 8, tiny.RED),), size=832)])[0]
    assert (car.x1, car.y1, car.x2, car.y2) == (384, 512, 448, 576)


def test_frames_of_several_cameras_run_as_batches(tiny_model: Path) -> None:
    detector = OnnxDetector(VisionConfig(model=tiny_model, batch=4))
    frames = [tiny.frame(squares=((n, 1, tiny.RED),)) for n in range(10)]
    found = detector.detect(frames)
    assert [d[0].x1 for d in found] == [n * 32 for n in range(10)]
    fixed = OnnxDetector(VisionConfig(model=tiny.build(tiny_model.parent / "b1.onnx", batch=1)))
    assert fixed.batch == 1 and fixed.detect(frames[:3]) == found[:3]


def test_a_yolov8_layout_model_is_recognised_and_fed_rgb(tiny_model: Path) -> None:
    v8 = OnnxDetector(
        VisionConfig(model=tiny.build(tiny_model.parent / "v8.onnx", layout="yolov8"))
    )
    assert v8.layout == "yolov8"
    (car,) = v8.detect([tiny.frame(squares=((6, 8, tiny.RED),))])[0]
    assert car.label == "car" and (car.x1, car.y1) == (192, 256)


def test_cuda_where_absent_falls_back_to_the_cpu_with_a_log_line(
    tiny_model: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="vision.detector"):
        detector = OnnxDetector(VisionConfig(model=tiny_model, provider="cuda", threads=1))
    assert detector.provider in {"CPUExecutionProvider", "CUDAExecutionProvider"}
    if detector.provider == "CPUExecutionProvider":
        assert "CUDAExecutionProvider is not available" in caplog.text


def test_a_bad_model_or_labels_file_stops_the_start_with_the_setting_named(
    tmp_path: Path, tiny_model: Path
) -> None:
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a model")
    with pytest.raises(ConfigError, match="CITYLOOP_VISION_MODEL"):
        OnnxDetector(VisionConfig(model=junk))
    labels = tmp_path / "labels.txt"
    labels.write_text("stall\nbanner\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="CITYLOOP_VISION_LABELS"):
        OnnxDetector(VisionConfig(model=tiny_model, labels=labels))
    with pytest.raises(ConfigError, match="CITYLOOP_VISION_MODEL"):
        OnnxDetector(VisionConfig())
    with pytest.raises(ConfigError, match="file not found"):
        OnnxDetector(VisionConfig(model=tmp_path / "missing.onnx"))


def test_yolox_nano_loads_picks_its_layout_and_runs(shared_model: Path) -> None:
    detector = OnnxDetector(VisionConfig(model=shared_model, threads=2))
    assert (detector.layout, detector.size, len(detector.labels)) == ("yolox", (416, 416), 80)
    assert detector.labels[2] == "car"
    rng = np.random.default_rng(7)
    noise = rng.integers(0, 255, (720, 1280, 3), dtype=np.uint8)
    started = time.perf_counter()
    found = detector.detect([tiny.frame(), noise])
    assert time.perf_counter() - started < 5
    assert [d for d in found[0] if d.score > 0.5] == []  # nothing on a grey frame
    assert all(0 <= d.x1 <= d.x2 <= 1280 and 0 <= d.y1 <= d.y2 <= 720 for d in found[1])
