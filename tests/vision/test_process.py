"""`cityloop vision import` and `cityloop vision run` as processes, the way a city runs them:
the cameras registered from a file, then watched until SIGTERM; a parked car becomes a case."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from pathlib import Path

from cases.models import Case
from core.config import Settings
from core.demo import seed_demo
from tests.cases.helpers import grid_point
from tests.core.processes import REDIS_URL, base_env
from tests.vision.camera_server import FakeCamera
from tests.vision.conftest import INSIDE, camera_file, car_at
from vision.models import Camera


def gate(path: Path, url: str, where: dict[str, float], label: str = "car") -> Path:
    """The fake camera's snapshots as the camera `gate`, sampled every 0.3 s."""
    return camera_file(
        path, "gate", where, f"{url}/snapshot.jpg", interval_s=0.3, rule={"labels": [label]}
    )


def start(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "core.cli", "vision", "run"], env=env, stdout=out, stderr=out
        )


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "core.cli", "vision", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_import_then_run_files_a_case_and_stops_on_sigterm(
    tmp_path: Path,
    tiny_model: Path,
    settings: Settings,
    db: None,
    fake_camera: FakeCamera,
    runners: list[subprocess.Popen[bytes]],
) -> None:
    await seed_demo(settings)
    where = await grid_point(settings, 1)
    env = base_env(
        settings,
        redis=bool(REDIS_URL),
        path=[str(Path.cwd())],
        CITYLOOP_VISION_MODEL=str(tiny_model),
    )
    bad = gate(tmp_path / "bad.toml", fake_camera.url, where, label="stall")
    refused = await asyncio.to_thread(cli, env, "import", str(bad))
    assert refused.returncode == 2
    assert "camera.0.zones.0.rules.0.labels.0: 模型没有标签“stall”" in refused.stderr
    assert await Camera.all().count() == 0
    good = gate(tmp_path / "cameras.toml", fake_camera.url, where)
    done = await asyncio.to_thread(cli, env, "import", str(good))
    assert done.returncode == 0 and "新增 1" in done.stdout, done.stderr
    fake_camera.show(car_at(INSIDE))
    log = tmp_path / "vision.log"
    proc = await asyncio.to_thread(start, env, log)
    runners.append(proc)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not await Case.exists():
        assert proc.poll() is None, log.read_text()
        await asyncio.sleep(0.3)
    (case,) = await Case.all()
    assert case.status == "dispatched", log.read_text()
    proc.send_signal(signal.SIGTERM)
    assert await asyncio.to_thread(proc.wait, 20) == 0, log.read_text()
    text = log.read_text()
    assert "watching the enabled cameras" in text
    assert (await Camera.get(code="gate")).health == "ok"
