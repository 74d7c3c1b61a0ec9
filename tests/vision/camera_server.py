"""A fake IP camera on a real socket: what such cameras serve over HTTP.

- `GET /snapshot.jpg`: one JPEG of the current scene (the snapshot URL of ONVIF/Hikvision/
  Dahua cameras, e.g. `/ISAPI/Streaming/channels/1/picture`).
- `GET /video.mjpg`: an MJPEG stream, `multipart/x-mixed-replace` with one JPEG per part
  (what OpenCV's FFmpeg reads as the `mpjpeg` format).

The test sets the scene (`show`), makes the next snapshots corrupt (`corrupt`), takes the
camera down (`down`: 503 and closed streams) and drops the open streams (`drop`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from aiohttp import web

from tests.vision.tiny import frame, jpeg

BOUNDARY = "cityloopframe"


@dataclass
class FakeCamera:
    """The scene and the faults of one fake camera."""

    scene: bytes = field(default_factory=lambda: jpeg(frame()))
    corrupt: int = 0  # the next this many snapshots are not pictures
    down: bool = False
    hang: bool = False  # snapshots never answer (a camera that accepts and stalls)
    snapshots: int = 0  # GETs answered
    _drops: int = 0
    url: str = ""

    def show(self, image: npt.NDArray[np.uint8]) -> None:
        """What the camera sees from now on."""
        self.scene = jpeg(image)

    def drop(self) -> None:
        """Close every open stream (the network dropped them)."""
        self._drops += 1

    async def snapshot(self, request: web.Request) -> web.Response:
        if self.down:
            return web.Response(status=503, text="camera offline")
        if self.hang:
            await asyncio.sleep(3600)  # until the server shuts down
        self.snapshots += 1
        if self.corrupt > 0:
            self.corrupt -= 1
            return web.Response(
                body=b"\xff\xd8\xff\xe0 broken" + bytes(200), content_type="image/jpeg"
            )
        return web.Response(body=self.scene, content_type="image/jpeg")

    async def stream(self, request: web.Request) -> web.StreamResponse:
        if self.down:
            return web.Response(status=503, text="camera offline")
        response = web.StreamResponse(
            headers={"Content-Type": f"multipart/x-mixed-replace;boundary={BOUNDARY}"}
        )
        await response.prepare(request)
        drops = self._drops
        with contextlib.suppress(ConnectionResetError):
            while drops == self._drops and not self.down:
                part = (
                    (
                        f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
                        f"Content-Length: {len(self.scene)}\r\n\r\n"
                    ).encode()
                    + self.scene
                    + b"\r\n"
                )
                await response.write(part)
                await asyncio.sleep(0.1)
        # Returning without the closing boundary: the peer sees the stream cut off.
        if request.transport is not None:
            request.transport.close()
        return response


@contextlib.asynccontextmanager
async def serving() -> AsyncIterator[FakeCamera]:
    """Run a fake camera on 127.0.0.1; its base URL is `camera.url`."""
    camera = FakeCamera()
    app = web.Application()
    app.router.add_get("/snapshot.jpg", camera.snapshot)
    app.router.add_get("/video.mjpg", camera.stream)
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    camera.url = f"http://127.0.0.1:{port}"
    try:
        yield camera
    finally:
        camera.down = True
        await runner.cleanup()
