"""`cityloop vision analyze VIDEO --config cameras.toml`: the pipeline over a video file, with a
progress bar; events as JSON lines, annotated pictures, a summary table. Cases only with
--submit (the camera is then registered first, and every event goes through filing as a
live camera's would)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
from tqdm import tqdm

from core.config import load_settings
from core.errors import CityloopError
from core.packages import config_of
from core.runtime import Runtime, build_runtime
from core.timeutil import now as utc_now
from vision import service
from vision.config import CameraIn, VisionConfig
from vision.const import NAME
from vision.decoders import Image
from vision.evidence import annotate
from vision.frames import file_samples
from vision.pipeline import CameraWatch
from vision.rules import Fired
from vision.zones import Zone


def _camera(runtime: Runtime, path: Path, code: str | None) -> CameraIn:
    file = service.read_file(runtime, path.read_text(encoding="utf-8"))
    if code is None:
        return file.camera[0]
    for camera in file.camera:
        if camera.code == code:
            return camera
    raise CityloopError(f"no camera {code} in {path}", message=f"配置文件中没有摄像头 {code}")


def analyze(
    video: Path, *, config: Path, camera: str | None, model: Path | None, out: Path, submit: bool
) -> int:
    """Run it; 0, or 2 when the inputs are wrong."""
    from vision.detector import OnnxDetector

    settings = load_settings()
    runtime = build_runtime(settings, process="cli")
    vision = config_of(settings, NAME, VisionConfig)
    try:
        spec = _camera(runtime, config, camera)
        detector = OnnxDetector(vision, model=model)
        total, frames = file_samples(str(video), spec.interval_s)
    except (CityloopError, OSError) as err:
        message = err.message if isinstance(err, CityloopError) else str(err)
        print(f"cityloop vision analyze: {message}", file=sys.stderr)
        for problem in getattr(err, "extra", {}).get("fields", []):
            print(f"  {problem['field']}: {problem['message']}", file=sys.stderr)
        return 2
    out.mkdir(parents=True, exist_ok=True)
    watch = CameraWatch(spec, vision)
    found: list[Found] = []
    # Where the video's clock starts on the wall clock: its end is now.
    start = utc_now() - dt.timedelta(seconds=total * spec.interval_s)
    began, sampled, boxes = time.perf_counter(), 0, 0
    with (out / "events.jsonl").open("w", encoding="utf-8") as lines:
        for position, image in tqdm(frames, total=total or None, unit="帧", desc=spec.code):
            detections = detector.detect([image])[0]
            sampled, boxes = sampled + 1, boxes + len(detections)
            for fired in watch.step(detections, position):
                zone = watch.zone(fired.zone)
                if zone is None:
                    continue
                at = start + dt.timedelta(seconds=position)
                one = Found(spec, fired, zone, image, at, out / f"event-{len(found) + 1:04d}.jpg")
                cv2.imwrite(
                    str(one.picture),
                    annotate(
                        image,
                        zone=zone,
                        hits=[fired.box],
                        others=detections,
                        camera=spec.code,
                        at=at,
                    ),
                )
                found.append(one)
                lines.write(json.dumps(one.line(), ensure_ascii=False) + "\n")
    elapsed = time.perf_counter() - began
    filed = asyncio.run(_submit(spec, found)) if submit and found else []
    _summary(spec, found, filed, sampled=sampled, boxes=boxes, elapsed=elapsed, out=out)
    return 0


@dataclass(frozen=True)
class Found:
    """A rule that fired in the video, with what `--submit` files it from."""

    spec: CameraIn
    fired: Fired
    zone: Zone
    image: Image
    at: dt.datetime
    picture: Path

    def line(self) -> dict[str, Any]:
        """Its line in events.jsonl."""
        fired = self.fired
        return {
            "camera": self.spec.code,
            "zone": fired.zone,
            "rule": fired.rule_index,
            "category_code": fired.rule.category_code,
            "label": fired.box.label,
            "score": round(fired.median, 4),
            "box": [round(v, 1) for v in fired.box.xyxy],
            "since_s": round(fired.since, 2),
            "fired_s": round(fired.at, 2),
            "review": fired.rule.review,
            "picture": self.picture.name,
        }


async def _submit(spec: CameraIn, found: list[Found]) -> list[str]:
    """Register the camera, then record every event as the live loop would."""
    from vision import filing
    from vision.process import running

    said = []
    async with running() as runtime:
        row, _ = await service.save(runtime, spec)
        for one in found:
            sighting = filing.Sighting(
                row, spec, one.fired, one.zone, one.image, one.at, one.fired.began(one.at)
            )
            event = await filing.record(runtime, sighting)
            said.append(
                f"{one.picture.name}: {event.status.value}"
                + (f" → 案件 {event.case_id}" if event.case_id else "")
            )
    return said


def _summary(
    spec: CameraIn,
    found: list[Found],
    filed: list[str],
    *,
    sampled: int,
    boxes: int,
    elapsed: float,
    out: Path,
) -> None:
    counts = Counter((f.fired.zone, f.fired.rule.category_code, f.fired.box.label) for f in found)
    print(
        f"\n摄像头 {spec.code}（{spec.name}）：采样 {sampled} 帧，检测框 {boxes} 个，"
        f"用时 {elapsed:.1f} 秒（{sampled / elapsed if elapsed else 0:.1f} 帧/秒）"
    )
    print(f"{'区域':<12}{'类别编码':<12}{'标签':<14}{'事件数':>6}")
    for (zone, code, label), n in sorted(counts.items()):
        print(f"{zone:<12}{code:<12}{label:<14}{n:>6}")
    if not counts:
        print("（未发现问题）")
    for line in filed:
        print(line)
    print(f"事件：{out / 'events.jsonl'}")
