"""Frame sources against the fake camera: snapshots (a corrupt one skipped, an outage retried
with backoff), an MJPEG stream that drops and comes back, a video file on its own clock."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp

from tests.vision import tiny
from tests.vision.camera_server import FakeCamera
from vision.const import CameraHealth
from vision.frames import Backoff, SnapshotSource, VideoSource, file_samples


async def test_snapshots_skip_a_corrupt_picture_and_back_off_from_an_outage(
    fake_camera: FakeCamera,
) -> None:
    async with aiohttp.ClientSession() as http:
        source = SnapshotSource(f"{fake_camera.url}/snapshot.jpg", http)
        assert (await source.read()) is not None and state(source) == CameraHealth.OK
        fake_camera.corrupt = 1
        assert await source.read() is None
        assert state(source) == CameraHealth.OK and "损坏" in source.detail
        fake_camera.down = True
        assert await source.read() is None
        assert state(source) == CameraHealth.RECONNECTING and "HTTP 503" in source.detail
        asked = fake_camera.snapshots
        assert await source.read() is None  # within the backoff: not even asked
        fake_camera.down = False
        assert fake_camera.snapshots == asked
        await asyncio.sleep(1.05)
        frame = await source.read()
        assert frame is not None and frame.image.shape == (416, 416, 3)
        assert state(source) == CameraHealth.OK


async def test_a_stream_url_given_as_a_snapshot_says_so(fake_camera: FakeCamera) -> None:
    async with aiohttp.ClientSession() as http:
        source = SnapshotSource(f"{fake_camera.url}/video.mjpg", http)
        assert await source.read() is None
        assert "视频流" in source.detail and state(source) == CameraHealth.RECONNECTING


async def test_a_dropped_stream_reconnects_and_a_dead_address_is_retried(
    fake_camera: FakeCamera,
) -> None:
    fake_camera.show(tiny.frame(squares=((1, 1, tiny.RED),)))
    live = VideoSource(f"{fake_camera.url}/video.mjpg")
    try:
        assert await _frame(live) is not None
        fake_camera.drop()
        await asyncio.sleep(0.5)
        assert state(live) == CameraHealth.RECONNECTING and "中断" in live.detail
        assert await _frame(live, wait=5) is not None
        assert state(live) == CameraHealth.OK
    finally:
        await live.close()
    dead = VideoSource("http://127.0.0.1:9/nothing.mjpg")
    try:
        await asyncio.sleep(0.5)
        assert state(dead) == CameraHealth.RECONNECTING and await dead.read() is None
    finally:
        await dead.close()


async def _frame(source: VideoSource, wait: float = 3) -> object:
    for _ in range(int(wait / 0.1)):
        if (frame := await source.read()) is not None:
            return frame
        await asyncio.sleep(0.1)
    return None


def test_a_video_file_is_sampled_on_its_own_clock(tmp_path: Path) -> None:
    frames = [tiny.frame(squares=((n % 13, 0, tiny.RED),)) for n in range(50)]
    path = tiny.video(tmp_path / "ten_seconds.avi", frames, fps=5)
    total, samples = file_samples(str(path), interval_s=2.0)
    taken = list(samples)
    assert total == 5 and [t for t, _ in taken] == [0.0, 2.0, 4.0, 6.0, 8.0]


def state(source: SnapshotSource | VideoSource) -> CameraHealth:
    """A source's health now (read afresh at each call)."""
    return source.health


def test_backoff_doubles_to_a_minute_and_resets() -> None:
    backoff = Backoff()
    assert [backoff.failed() for _ in range(8)] == [1, 2, 4, 8, 16, 32, 60, 60]
    backoff.succeeded()
    assert not backoff.waiting() and backoff.failed() == 1
