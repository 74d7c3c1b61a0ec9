"""`cityloop vision analyze VIDEO --config cameras.toml`, as a person runs it, on a video the
test draws: one car parked in the zone past the dwell time, one driving through it, one
parked outside it. One event, its picture, a summary; cases only with --submit."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2

from cases.models import Case, Report
from core.config import Settings
from core.demo import seed_demo
from tests.cases.helpers import grid_point
from tests.core.processes import REDIS_URL, base_env
from tests.vision import tiny
from tests.vision.conftest import PARKING, camera_file

FPS = 5


def street_video(path: Path) -> Path:
    """20 s at 5 fps: a car parked over cell (6, 8) from 2 s to 14 s, one driving through
    the zone from 3 s (a cell a second), one parked outside it all along."""
    frames = []
    for n in range(20 * FPS):
        t = n / FPS
        squares = [(11, 2, tiny.RED)]  # outside the zone
        if 2 <= t < 14:
            squares.append((6, 8, tiny.RED))
        if 3 <= t < 9:
            squares.append((4 + int(t - 3), 10, tiny.RED))
        frames.append(tiny.frame(squares=tuple(squares)))
    return tiny.video(path, frames, fps=FPS)


def cameras_toml(path: Path, video: Path, lon: float = 120.0, lat: float = 36.0) -> Path:
    """The video as a camera: one sample a second, a 5-second dwell."""
    return camera_file(
        path, "file1", {"lon": lon, "lat": lat}, str(video), interval_s=1, rule={"dwell_s": 5}
    )


def analyze(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "core.cli", "vision", "analyze", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_analyze_writes_one_event_and_its_picture_and_files_nothing(
    tmp_path: Path, tiny_model: Path, settings: Settings
) -> None:
    video = street_video(tmp_path / "street.avi")
    config = cameras_toml(tmp_path / "cameras.toml", video)
    env = base_env(
        settings, redis=False, path=[str(Path.cwd())], CITYLOOP_VISION_MODEL=str(tiny_model)
    )
    out = tmp_path / "out"
    done = analyze(env, str(video), "--config", str(config), "--out", str(out))
    assert done.returncode == 0, done.stderr
    (event,) = [json.loads(line) for line in (out / "events.jsonl").read_text().splitlines()]
    assert (event["zone"], event["label"], event["category_code"]) == ("禁停区", "car", PARKING)
    assert (event["since_s"], event["fired_s"]) == (2.0, 7.0)
    assert event["box"] == [192.0, 256.0, 224.0, 288.0]
    picture = cv2.imread(str(out / event["picture"]))
    assert picture is not None and picture.shape == (416, 416, 3)
    assert tuple(int(v) for v in picture[200, 200]) != tiny.GREY  # the zone's outline drawn
    assert "采样 20 帧" in done.stdout and "E09009" in done.stdout
    assert "帧" in done.stderr  # tqdm's progress bar


def test_analyze_refuses_a_bad_config_naming_the_field(
    tmp_path: Path, tiny_model: Path, settings: Settings
) -> None:
    video = street_video(tmp_path / "street.avi")
    config = cameras_toml(tmp_path / "cameras.toml", video)
    config.write_text(config.read_text().replace('"car"', '"stall"'), encoding="utf-8")
    env = base_env(
        settings, redis=False, path=[str(Path.cwd())], CITYLOOP_VISION_MODEL=str(tiny_model)
    )
    done = analyze(env, str(video), "--config", str(config), "--out", str(tmp_path / "o"))
    assert done.returncode == 2
    assert "camera.0.zones.0.rules.0.labels.0: 模型没有标签“stall”" in done.stderr


async def test_analyze_submit_files_the_case_as_a_live_camera_would(
    tmp_path: Path, tiny_model: Path, settings: Settings, db: None
) -> None:
    await seed_demo(settings)
    where = await grid_point(settings, 1)
    video = street_video(tmp_path / "street.avi")
    config = cameras_toml(tmp_path / "cameras.toml", video, where["lon"], where["lat"])
    env = base_env(
        settings,
        redis=bool(REDIS_URL),
        path=[str(Path.cwd())],
        CITYLOOP_VISION_MODEL=str(tiny_model),
    )
    done = analyze(
        env, str(video), "--config", str(config), "--out", str(tmp_path / "o"), "--submit"
    )
    assert done.returncode == 0, done.stderr
    (case,) = await Case.all()
    assert case.status == "dispatched" and case.category_code == PARKING
    assert f"→ 案件 {case.id}" in done.stdout
    assert (await Report.get(case_id=case.id)).source == "video"
