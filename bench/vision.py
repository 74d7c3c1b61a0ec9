"""Vision pipeline throughput against bare inference, and detection-to-case latency.

    python bench/vision.py --quick                       # within 60 s
    python bench/vision.py --model ../shared/models/yolox_nano.onnx --cameras 16
    python bench/vision.py --provider cuda --batch 8     # on a machine with a GPU

On the same camera frames (JPEGs as snapshots arrive, `--size`, default 1920×1080) and the same
model (`--model`; default ../shared/models/yolox_nano.onnx where it exists, else the tests' tiny
model), in alternating rounds:

- raw: bare `session.run` on the frames already letterboxed (the ceiling);
- pipeline: what `cityloop vision run` does per frame: JPEG decode (in a thread, beside the
  detector, and as small as the model's input allows, as the snapshot readers do), letterbox,
  inference, boxes and NMS, tracking, zones and rules, one `CameraWatch` per camera.

`overhead_ratio` = pipeline frames/s ÷ raw frames/s. Then a temp SQLite city (the demo city,
migrated and seeded by the project's code) takes fired rules through `vision.filing.record` as
the loop does (evidence pictures stored, the case submitted, 自动立案 + 派遣): the time from a
detection to its committed case. `cameras_per_core_at_5s`: 5 s ÷ the pipeline's CPU seconds
per frame (process CPU time, all threads). Last line: `RESULT model=… pipeline_fps=…
raw_fps=… overhead_ratio=… detect_to_case_ms=… cameras_per_core_at_5s=…`.
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import datetime as dt
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
# This file is named like the package it measures: the package must win the import, and
# bench's helpers (_setup) are found after it.
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != HERE), str(HERE)]

from vision.config import CameraIn, VisionConfig  # noqa: E402
from vision.decoders import reduction  # noqa: E402
from vision.detector import OnnxDetector  # noqa: E402
from vision.frames import decode_jpeg  # noqa: E402
from vision.pipeline import CameraWatch  # noqa: E402

SHARED = ROOT.parent / "shared" / "models" / "yolox_nano.onnx"


@dataclass(frozen=True)
class Options:
    quick: bool
    model: Path | None
    cameras: int
    size: tuple[int, int]
    threads: int
    provider: str
    batch: int
    rounds: int
    seconds: float
    fires: int


def parse_args(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="done within 60 s")
    parser.add_argument("--model", type=Path, help="an ONNX model (default: YOLOX-Nano, else tiny)")
    parser.add_argument("--cameras", type=int, default=8, help="cameras sampled together")
    parser.add_argument("--size", default="1920x1080", help="camera frame size, WxH")
    parser.add_argument("--threads", type=int, default=1, help="onnxruntime intra-op threads")
    parser.add_argument("--provider", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--batch", type=int, default=8, help="frames per run (free batch only)")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))
    return Options(
        quick=args.quick,
        model=args.model,
        cameras=args.cameras,
        size=(width, height),
        threads=args.threads,
        provider=args.provider,
        batch=args.batch,
        rounds=3,
        seconds=3.0 if args.quick else 15.0,
        fires=20 if args.quick else 100,
    )


def scene(n: int, size: tuple[int, int]) -> bytes:
    """A street-like frame as a camera's JPEG: road, kerb, buildings, a few blocks, a little
    noise (flat pictures decode faster than real ones)."""
    width, height = size
    rng = np.random.default_rng(n)
    image = np.zeros((height, width, 3), np.uint8)
    image[: height // 2] = (170 + n % 20, 160, 150)
    image[height // 2 :] = (90, 90, 95)
    for _ in range(6):
        x, y = int(rng.integers(0, width - 200)), int(rng.integers(height // 3, height - 150))
        colour = tuple(int(c) for c in rng.integers(0, 255, 3))
        cv2.rectangle(image, (x, y), (x + 160, y + 110), colour, -1)
    # The tiny model's car: a red block over one of its cells (nothing to a real model).
    cell = width // 13
    cv2.rectangle(
        image,
        (6 * cell, 8 * cell * height // width),
        (7 * cell, 9 * cell * height // width),
        (0, 0, 255),
        -1,
    )
    noise = rng.normal(0, 6, image.shape)
    image = np.clip(image + noise, 0, 255).astype(np.uint8)
    ok, data = cv2.imencode(".jpg", image, [int(cv2.IMWRITE_JPEG_QUALITY), 85])
    assert ok
    return bytes(data.tobytes())


def camera(n: int, size: tuple[int, int], point: tuple[float, float] = (120.0, 36.0)) -> CameraIn:
    width, height = size
    return CameraIn.model_validate(
        {
            "code": f"bench{n:03d}",
            "name": f"压测摄像头{n}",
            "source": "rtsp://bench/1",
            "width": width,
            "height": height,
            "lon": point[0],
            "lat": point[1],
            "zones": [
                {
                    "name": "禁停区",
                    "points": [
                        [0, height // 2],
                        [width, height // 2],
                        [width, height],
                        [0, height],
                    ],
                    "rules": [
                        {
                            "labels": ["car", "truck", "bus"],
                            "category_code": "E09009",
                            "dwell_s": 180,
                        }
                    ],
                }
            ],
        }
    )


def load_model(opts: Options, tmp: Path) -> Path:
    if opts.model is not None:
        return opts.model
    if SHARED.is_file():
        return SHARED
    from tests.vision import tiny

    print(f"{SHARED} is absent: the tests' tiny model is measured instead")
    return tiny.build(tmp / "tiny.onnx")


def raw_round(
    detector: OnnxDetector, tensors: list[np.ndarray], seconds: float
) -> tuple[int, float]:
    """Bare session.run over the prepared tensors for about `seconds`."""
    done, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        for tensor in tensors:
            detector.raw(tensor)
            done += tensor.shape[0]
    return done, time.perf_counter() - started


def pipeline_round(
    detector: OnnxDetector,
    jpegs: list[bytes],
    watches: list[CameraWatch],
    seconds: float,
    pool: concurrent.futures.ThreadPoolExecutor,
    clock: list[float],
    size: tuple[int, int],
) -> tuple[int, float, float, int]:
    """The loop's work per sample of every camera, for about `seconds`: (frames, wall s, CPU
    s, rules fired). The next sample's JPEGs decode in a thread while this one is detected."""

    # As the snapshot readers do: decoded as small as the model's input allows, boxes scaled
    # back to the camera's pixels.
    reduce = reduction(size, detector.size)

    def decode() -> list[np.ndarray]:
        return [decode_jpeg(j, reduce) for j in jpegs]

    done, fired = 0, 0
    cpu, started = time.process_time(), time.perf_counter()
    ahead = pool.submit(decode)
    while time.perf_counter() - started < seconds:
        frames = ahead.result()
        ahead = pool.submit(decode)
        found = detector.detect(frames)
        clock[0] += 5.0  # one sample every 5 s on the cameras' clock
        for watch, detections in zip(watches, found, strict=True):
            fired += len(watch.step([d.scaled(reduce) for d in detections], clock[0]))
        done += len(frames)
    ahead.result()
    return done, time.perf_counter() - started, time.process_time() - cpu, fired


async def detect_to_case(opts: Options, tmp: Path, model: Path, jpeg: bytes) -> list[float]:
    """Seconds from a fired rule to its committed case, over `opts.fires` cameras."""
    from _setup import Database, migrate_and_seed

    from core.config import load_settings
    from core.db import database
    from core.runtime import build_runtime
    from vision import filing, service
    from vision.rules import Fired

    db = Database("sqlite", f"sqlite://{tmp / 'vision.sqlite3'}", str(tmp / "vision.sqlite3"))
    await migrate_and_seed(db, tmp / "media")
    os.environ["CITYLOOP_VISION_MODEL"] = str(model)
    settings = load_settings(database_url=db.url, media_dir=tmp / "media")
    runtime = build_runtime(settings, process="cli")
    frame = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    seconds = []
    async with database(settings):
        await runtime.grids.refresh(force=True)
        from core.org.models import Grid

        grids = await Grid.all().order_by("code").values("geometry")
        for n in range(opts.fires):
            ring = grids[n % len(grids)]["geometry"]["coordinates"][0]
            lon = sum(p[0] for p in ring[:-1]) / (len(ring) - 1) + (n // len(grids)) * 1e-4
            lat = sum(p[1] for p in ring[:-1]) / (len(ring) - 1)
            spec = camera(n, opts.size, (lon, lat))
            row, _ = await service.save(runtime, spec)
            watch = CameraWatch(spec, VisionConfig())
            zone = watch.zones[0]
            from vision.decoders import Detection

            box = Detection(900, 700, 1100, 850, 0.9, "car")
            fired = Fired(zone.name, 0, zone.rules[0], 1, box, 0.0, 180.0, 0.9)
            at = dt.datetime.now(dt.UTC)
            started = time.perf_counter()
            event = await filing.record(
                runtime,
                filing.Sighting(row, spec, fired, zone, frame, at, at - dt.timedelta(seconds=180)),
            )
            seconds.append(time.perf_counter() - started)
            if event.case_id is None:
                raise SystemExit(f"camera {n}: no case ({event.status})")
    return seconds


def main(argv: Sequence[str] | None = None) -> int:
    opts = parse_args(argv)
    began = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="cityloop-vision-") as folder:
        tmp = Path(folder)
        model = load_model(opts, tmp)
        config = VisionConfig(threads=opts.threads, provider=opts.provider, batch=opts.batch)
        detector = OnnxDetector(config, model=model)
        print(
            f"model {detector.name} ({detector.layout}, {detector.size[1]}×{detector.size[0]}, "
            f"batch {detector.batch}) on {detector.provider}, {opts.threads} thread(s); "
            f"{opts.cameras} cameras of {opts.size[0]}×{opts.size[1]}"
        )
        jpegs = [scene(n, opts.size) for n in range(opts.cameras)]
        # The ceiling's input: the same frames, decoded and letterboxed before the clock runs.
        frames = [decode_jpeg(j) for j in jpegs]
        tensors = []
        for start in range(0, len(frames), detector.batch):
            tensor, _ = detector.prepare(frames[start : start + detector.batch])
            tensors.append(tensor)
        watches = [CameraWatch(camera(n, opts.size), VisionConfig()) for n in range(opts.cameras)]
        raw_n = raw_s = pipe_n = pipe_s = cpu_s = 0.0
        fired = 0
        clock = [0.0]
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            pipeline_round(detector, jpegs, watches, 0.5, pool, clock, opts.size)  # warm both paths
            raw_round(detector, tensors, 0.5)
            for _ in range(opts.rounds):
                n, s = raw_round(detector, tensors, opts.seconds)
                raw_n, raw_s = raw_n + n, raw_s + s
                n, s, c, f = pipeline_round(
                    detector, jpegs, watches, opts.seconds, pool, clock, opts.size
                )
                pipe_n, pipe_s, cpu_s, fired = pipe_n + n, pipe_s + s, cpu_s + c, fired + f
        raw_fps, pipe_fps = raw_n / raw_s, pipe_n / pipe_s
        print(f"raw session.run: {raw_n:.0f} frames in {raw_s:.1f} s = {raw_fps:.1f} frames/s")
        print(
            f"pipeline:        {pipe_n:.0f} frames in {pipe_s:.1f} s = {pipe_fps:.1f} frames/s "
            f"({cpu_s / pipe_n * 1000:.1f} ms CPU a frame; {fired} rules fired)"
        )
        latencies = asyncio.run(detect_to_case(opts, tmp, model, jpegs[0]))
    ms = sorted(s * 1000 for s in latencies)
    p99 = ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))]
    print(
        f"detection → case committed ({len(ms)} cameras, evidence stored, 自动立案 + 派遣): "
        f"p50 {statistics.median(ms):.1f} ms, p99 {p99:.1f} ms"
    )
    per_core = 5.0 / (cpu_s / pipe_n)
    print(f"cameras one core serves at one frame every 5 s: {per_core:.0f}")
    print(f"done in {time.perf_counter() - began:.0f} s")
    print(
        f"RESULT model={detector.name} pipeline_fps={pipe_fps:.1f} raw_fps={raw_fps:.1f} "
        f"overhead_ratio={pipe_fps / raw_fps:.3f} detect_to_case_ms={p99:.1f} "
        f"cameras_per_core_at_5s={per_core:.0f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
