"""A demo city with the vision package on, a fake IP camera on a real socket, the tiny model,
and the camera loop of `cityloop vision run` driven sample by sample."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import tomli_w
from aiohttp.test_utils import TestClient

from cases.models import Case
from core.config import Settings
from core.demo import seed_demo
from core.runtime import Runtime
from core.web import create_app
from core.web.keys import GRIDS, RUNTIME
from tests.cases.helpers import City
from tests.channels.wechat_oa.conftest import run_due_jobs
from tests.vision import tiny
from tests.vision.camera_server import FakeCamera, serving
from vision.config import VisionConfig
from vision.detector import OnnxDetector
from vision.runner import Runner

PARKING = "E09009"  # 机动车乱停放: 自动立案 and 自动派遣 (交警) for video in the demo policy
# The zone: cells 4–9 across, 6–11 down (pixels 128–320 × 192–384 of a 416×416 frame).
ZONE = [[128, 192], [320, 192], [320, 384], [128, 384]]
INSIDE = (6, 8)  # a cell whose box stands in the zone (its bottom centre is inside)
OUTSIDE = (11, 2)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny YOLOX-layout detector (free batch dimension)."""
    return tiny.build(tmp_path_factory.mktemp("models") / "tiny.onnx")


def vision_config(model: Path, **changes: Any) -> VisionConfig:
    """The vision settings of a test (as CITYLOOP_VISION_* would give them)."""
    return VisionConfig(model=model, **changes)


def with_vision(settings: Settings, config: VisionConfig) -> Settings:
    """The test's settings with these vision settings."""
    configs = dict(settings.package_configs)
    configs["vision"] = config
    return settings.model_copy(update={"package_configs": configs})


def camera_body(code: str, point: dict[str, float], source: str, **changes: Any) -> dict[str, Any]:
    """A camera declaration: 416×416 frames, one zone with a parking rule (1 s dwell)."""
    rule = {"labels": ["car"], "category_code": PARKING, "dwell_s": 1.0, "min_frames": 3}
    rule.update(changes.pop("rule", {}))
    body: dict[str, Any] = {
        "code": code,
        "name": f"测试路口{code}",
        "source": source,
        "width": tiny.SIZE,
        "height": tiny.SIZE,
        "lon": point["lon"],
        "lat": point["lat"],
        "interval_s": 0.2,
        "zones": [{"name": "禁停区", "points": ZONE, "rules": [rule]}],
    }
    body.update(changes)
    return body


def camera_file(
    path: Path, code: str, point: dict[str, float], source: str, **changes: Any
) -> Path:
    """Write a camera file (TOML, as a city writes one) holding one `camera_body`."""
    path.write_text(
        tomli_w.dumps({"camera": [camera_body(code, point, source, **changes)]}), encoding="utf-8"
    )
    return path


def car_at(cell: tuple[int, int]) -> Any:
    """A frame with one car (a red square) over this cell."""
    return tiny.frame(squares=((cell[0], cell[1], tiny.RED),))


@dataclass
class Rig:
    """The city's server, its camera loop, and a fake camera."""

    city: City
    runner: Runner
    camera: FakeCamera

    @property
    def runtime(self) -> Runtime:
        return self.runner.runtime

    async def declare(self, code: str = "cam1", street: int = 1, **changes: Any) -> dict[str, Any]:
        """Register a camera through the API (as the admin), pointing at the fake camera."""
        source = changes.pop("source", f"{self.camera.url}/snapshot.jpg")
        body = camera_body(code, await self.city.point(street), source, **changes)
        r = await self.city.client.post(
            "/api/v1/vision/cameras", json=body, headers=await self.city.login("admin")
        )
        assert r.status == 201, await r.text()
        return dict(await r.json())

    async def samples(self, n: int, *, every: float = 0.25) -> None:
        """Let the loop take n samples of every camera, `every` seconds apart."""
        for _ in range(n):
            await self.runner.refresh()
            await self.runner.load_checks()
            for held in self.runner.cameras.values():
                held.due = 0.0
            started = asyncio.get_running_loop().time()
            await self.runner.tick()  # the reads start
            await self.runner.settle(every)
            await self.runner.tick()  # the frames that arrived are judged
            left = every - (asyncio.get_running_loop().time() - started)
            await asyncio.sleep(max(0.0, left))

    async def jobs(self) -> int:
        """Run the outbox rows that are due (case-event subscribers among them)."""
        return await run_due_jobs(self.city.client)

    async def cases(self) -> list[Case]:
        return await Case.all().order_by("id")


async def make_rig(
    aiohttp_client: Any, settings: Settings, model: Path, camera: FakeCamera, **config: Any
) -> AsyncIterator[Rig]:
    """Build the app with vision on, seed the demo city, start a camera loop beside it."""
    vision = vision_config(model, **config)
    local = with_vision(settings, vision)
    client: TestClient[Any, Any] = await aiohttp_client(create_app(local))
    logins = await seed_demo(local)
    await client.app[GRIDS].refresh(force=True)
    city = City(client, local, {u: p for u, p, _ in logins})
    async with aiohttp.ClientSession() as http:
        runner = Runner(client.app[RUNTIME], OnnxDetector(vision), vision, http)
        try:
            yield Rig(city, runner, camera)
        finally:
            for held in runner.cameras.values():
                await held.close()


@pytest.fixture
async def fake_camera() -> AsyncIterator[FakeCamera]:
    async with serving() as camera:
        yield camera


@pytest.fixture
async def rig(
    aiohttp_client: Any, settings: Settings, tiny_model: Path, fake_camera: FakeCamera
) -> AsyncIterator[Rig]:
    """The city with one fake camera's loop (cool-down 30 minutes, 核查 on 3 samples)."""
    async for made in make_rig(aiohttp_client, settings, tiny_model, fake_camera):
        yield made


@pytest.fixture
def shared_model() -> Iterator[Path]:
    """../shared/models/yolox_nano.onnx, where this checkout has it."""
    path = Path(__file__).resolve().parents[3] / "shared" / "models" / "yolox_nano.onnx"
    if not path.is_file():
        pytest.skip(f"{path} is absent: the real-model test needs ../shared/models")
    yield path
