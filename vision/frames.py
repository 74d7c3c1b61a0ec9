"""Where frames come from: video streams and files through OpenCV, HTTP snapshots through the
shared aiohttp session. A source that fails is retried with backoff; a corrupt frame is
skipped; neither stops the other cameras."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

import aiohttp
import cv2
import numpy as np

from core.timeutil import now as utc_now
from vision.config import CameraIn
from vision.const import CameraHealth, SourceKind
from vision.decoders import Image, reduction

log = logging.getLogger(__name__)
_BACKOFF_MAX_S = 60.0
_RETRIEVE_WAIT_S = 2.0  # a live stream sends a frame every 40–200 ms


@dataclass(frozen=True)
class Frame:
    """One frame and when it was taken (the wall clock; a file's own clock for analyze)."""

    image: Image
    at: dt.datetime
    position: float  # seconds on the source's clock: what dwell times are measured on
    scale: int = 1  # the frame's pixels per pixel of `image` (a JPEG decoded reduced)
    jpeg: bytes | None = None  # what arrived, for the full-size evidence picture

    def full(self) -> Image:
        """The frame at its full size (decoded again where it was decoded reduced)."""
        if self.scale == 1 or self.jpeg is None:
            return self.image
        image = decode_jpeg(self.jpeg)
        return self.image if image is None else image


class Backoff:
    """1, 2, 4 … seconds between tries, up to a minute; reset by a success."""

    def __init__(self, maximum: float = _BACKOFF_MAX_S) -> None:
        self.maximum = maximum
        self.failures = 0
        self.next_try = 0.0

    def failed(self) -> float:
        """Count a failure; return the wait before the next try."""
        self.failures += 1
        wait = min(self.maximum, 2.0 ** (self.failures - 1))
        self.next_try = time.monotonic() + wait
        return wait

    def succeeded(self) -> None:
        """Reset after a success."""
        self.failures, self.next_try = 0, 0.0

    def waiting(self) -> bool:
        """Tell whether the next try is not due yet."""
        return time.monotonic() < self.next_try


class Source(Protocol):
    """A camera's frames: the latest one on each read."""

    health: CameraHealth
    detail: str
    last_frame_at: dt.datetime | None

    async def read(self) -> Frame | None:
        """The newest frame, or None (failing, reconnecting, or a corrupt frame skipped)."""
        ...

    async def close(self) -> None:
        """Let go of the stream."""
        ...


class _Health:
    health: CameraHealth = CameraHealth.UNKNOWN
    detail: str = ""
    last_frame_at: dt.datetime | None = None

    def __init__(self) -> None:
        self.backoff = Backoff()

    def _ok(self, detail: str = "") -> None:
        self.health, self.detail = CameraHealth.OK, detail
        self.last_frame_at = utc_now()
        self.backoff.succeeded()

    def _failed(self, detail: str) -> None:
        wait = self.backoff.failed()
        self.health, self.detail = CameraHealth.RECONNECTING, f"{detail}；{wait:g} 秒后重试"


_REDUCED = {
    1: cv2.IMREAD_COLOR,
    2: cv2.IMREAD_REDUCED_COLOR_2,
    4: cv2.IMREAD_REDUCED_COLOR_4,
    8: cv2.IMREAD_REDUCED_COLOR_8,
}


def decode_jpeg(data: bytes, reduce: int = 1) -> Image | None:
    """A picture's pixels (BGR), `reduce` times smaller (JPEG decodes that for a fraction of
    the work), or None when it is not a picture."""
    return cv2.imdecode(np.frombuffer(data, np.uint8), _REDUCED[reduce])


class SnapshotSource(_Health):
    """An HTTP URL that answers one JPEG (or PNG) per GET."""

    def __init__(
        self, url: str, http: aiohttp.ClientSession, *, timeout_s: float = 10, reduce: int = 1
    ) -> None:
        super().__init__()
        self.url = url
        self.reduce = reduce
        self._http = http
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)

    async def read(self) -> Frame | None:
        """GET one picture; a bad answer counts as a failure, a corrupt picture is skipped."""
        if self.backoff.waiting():
            return None
        try:
            async with self._http.get(self.url, timeout=self._timeout) as response:
                if response.status != 200:
                    self._failed(f"快照地址返回 HTTP {response.status}")
                    return None
                if response.content_type.startswith("multipart/"):
                    self._failed("该地址是视频流而非快照：请将 kind 设为 stream")
                    return None
                data = await response.read()
        except (aiohttp.ClientError, TimeoutError) as err:
            self._failed(f"快照地址连接失败（{type(err).__name__}）")
            return None
        # A 1080p JPEG takes milliseconds to decode: off the event loop, beside the detector.
        image = await asyncio.to_thread(decode_jpeg, data, self.reduce)
        if image is None:
            self.detail = "跳过一帧损坏的画面"  # the camera answers; this picture is bad
            return None
        self._ok()
        at = utc_now()
        return Frame(image, at, at.timestamp(), self.reduce, data if self.reduce > 1 else None)

    async def close(self) -> None:
        """Nothing is held between GETs."""


class VideoSource(_Health):
    """A stream (or, looping, a file) read by OpenCV in a thread of its own. The thread grabs
    every frame as it comes (a stream must be drained, or a camera sampled every few seconds
    would be read from a stale buffer) and converts one to pixels only when a read asks for
    it (`retrieve`: the colour conversion of the frames nobody looks at is skipped)."""

    def __init__(self, uri: str, *, loop_file: bool = False) -> None:
        super().__init__()
        self.uri = uri
        self._loop_file = loop_file
        self._lock = threading.Lock()
        self._waiter: tuple[asyncio.AbstractEventLoop, asyncio.Future[Frame]] | None = None
        self._stop = threading.Event()
        # Named without the URI: a stream's address may hold its password.
        self._thread = threading.Thread(target=self._pump, name="camera-reader", daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        while not self._stop.is_set():
            capture = cv2.VideoCapture(self.uri)
            if not capture.isOpened():
                self._failed("视频流无法打开")
                self._stop.wait(self.backoff.next_try - time.monotonic())
                continue
            fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
            while not self._stop.is_set():
                if not capture.grab():
                    if self._loop_file and capture.get(cv2.CAP_PROP_POS_FRAMES) > 0:
                        capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
                        continue
                    self._failed("视频流中断")
                    break
                self._ok()
                self._hand_over(capture)
                if self._loop_file:  # a file plays at its own speed, as a camera would
                    self._stop.wait(1.0 / fps)
            capture.release()
            self._stop.wait(max(0.0, self.backoff.next_try - time.monotonic()))

    def _hand_over(self, capture: cv2.VideoCapture) -> None:
        """Give the frame just grabbed to the read that waits for one, if any."""
        with self._lock:
            waiting, self._waiter = self._waiter, None
        if waiting is None:
            return
        ok, image = capture.retrieve()
        if not ok or image is None:  # a frame that does not decode: the next one will
            with self._lock:
                self._waiter = waiting
            return
        at = utc_now()
        loop, future = waiting
        loop.call_soon_threadsafe(_settle, future, Frame(image, at, at.timestamp()))

    async def read(self) -> Frame | None:
        """The next frame the stream sends (None if none comes within a couple of seconds:
        the source is failing and says so in its health)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Frame] = loop.create_future()
        with self._lock:
            self._waiter = (loop, future)
        try:
            return await asyncio.wait_for(future, _RETRIEVE_WAIT_S)
        except TimeoutError:
            return None
        finally:
            with self._lock:
                if self._waiter is not None and self._waiter[1] is future:
                    self._waiter = None

    async def close(self) -> None:
        """Stop the thread."""
        self._stop.set()
        await asyncio.to_thread(self._thread.join, 5)


def _settle(future: asyncio.Future[Frame], frame: Frame) -> None:
    if not future.done():
        future.set_result(frame)


def open_source(
    camera: CameraIn, http: aiohttp.ClientSession, model_size: tuple[int, int]
) -> Source:
    """The reader for a camera's declared source (snapshots decoded as small as the model's
    input allows)."""
    kind = camera.source_kind
    if kind == SourceKind.SNAPSHOT:
        reduce = reduction((camera.width, camera.height), model_size)
        return SnapshotSource(camera.source, http, reduce=reduce)
    return VideoSource(camera.source, loop_file=kind == SourceKind.FILE)


def file_samples(path: str, interval_s: float) -> tuple[int, Iterator[tuple[float, Image]]]:
    """A video file's frames at one per interval of its own clock: (how many, the frames as
    (seconds from its start, image)); unreadable frames are skipped."""
    capture = cv2.VideoCapture(path)
    if not capture.isOpened():
        raise FileNotFoundError(f"cannot open video {path}")
    fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
    total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    step = max(1, round(interval_s * fps))

    def frames() -> Iterator[tuple[float, Image]]:
        index = 0
        try:
            while True:
                ok, image = capture.read()
                if not ok:
                    if total and index < total - 1:  # a corrupt frame inside: skip on
                        index += 1
                        continue
                    return
                if index % step == 0 and image is not None:
                    yield index / fps, image
                index += 1
        finally:
            capture.release()

    return (total + step - 1) // step if total else 0, frames()
