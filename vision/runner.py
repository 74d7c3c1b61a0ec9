"""`cityloop vision run`: watch the registered cameras. One loop samples each camera at its
interval, batches the frames of the cameras due into one detector run (in a thread: never on
an event loop that serves requests, and this process serves none), and turns what fired into
cases; open 智能核查 watches are judged on the same samples."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field

import aiohttp

from core.runtime import Runtime
from core.timeutil import now as utc_now
from vision import filing, recheck, service
from vision.config import CameraIn, VisionConfig
from vision.const import HEALTH_EVERY_S, CameraHealth, CheckStatus
from vision.decoders import Detection
from vision.detector import Detector
from vision.evidence import annotate
from vision.frames import Frame, Source, open_source
from vision.models import Camera, VisionCheck, VisionEvent
from vision.pipeline import CameraWatch, Recheck
from vision.rules import Fired

log = logging.getLogger(__name__)
_CHECKS_EVERY_S = 5.0


@dataclass
class Watched:
    """One camera as the loop holds it."""

    row: Camera
    spec: CameraIn
    source: Source
    watch: CameraWatch
    due: float = 0.0  # monotonic time of the next sample
    rechecks: dict[int, Recheck] = field(default_factory=dict)
    reported: float = 0.0
    started: float = field(default_factory=time.monotonic)
    reading: asyncio.Task[Frame | None] | None = None  # a read under way

    async def close(self) -> None:
        """Stop reading this camera."""
        if self.reading is not None:
            self.reading.cancel()
        await self.source.close()


class Runner:
    """The camera loop of one process."""

    def __init__(
        self,
        runtime: Runtime,
        detector: Detector,
        config: VisionConfig,
        http: aiohttp.ClientSession,
        *,
        shard: tuple[int, int] = (1, 1),
    ) -> None:
        self.runtime = runtime
        # This process's share of the cameras (`--shard i/n`): those whose id mod n is i - 1,
        # so that several `vision run` processes never sample one camera twice.
        self.shard = shard
        self.detector = detector
        self.config = config
        self.http = http
        self.cameras: dict[int, Watched] = {}
        self._refreshed = -1e9
        self._checked = -1e9

    async def run(self, stop: asyncio.Event) -> None:
        """Sample until told to stop."""
        resumed = await filing.resume(self.runtime)
        if resumed:
            log.info("vision: %d events a crash left unfiled were filed", resumed)
        stopping = asyncio.create_task(stop.wait())
        try:
            while not stop.is_set():
                await self.tick()
                next_due = min((c.due for c in self.cameras.values()), default=1e18)
                wait = max(0.02, min(next_due, time.monotonic() + 1.0) - time.monotonic())
                reads = {c.reading for c in self.cameras.values() if c.reading is not None}
                await asyncio.wait(
                    {stopping, *reads}, timeout=wait, return_when=asyncio.FIRST_COMPLETED
                )
        finally:
            stopping.cancel()
            for camera in self.cameras.values():
                await camera.close()

    async def tick(self) -> int:
        """Start the reads of the cameras that are due, and detect on the frames that have
        arrived; return how many. Each camera reads on its own: a slow or dead one delays
        only itself."""
        clock = time.monotonic()
        if clock - self._refreshed >= self.config.refresh_s:
            await self.refresh()
            self._refreshed = clock
        if clock - self._checked >= _CHECKS_EVERY_S:
            await self.load_checks()
            self._checked = clock
        for camera in self.cameras.values():
            if camera.reading is None and camera.due <= clock:
                camera.reading = asyncio.create_task(camera.source.read())
                camera.due = clock + camera.spec.interval_s
        arrived = [c for c in self.cameras.values() if c.reading is not None and c.reading.done()]
        taken = [(c, f) for c in arrived if (f := _result(c)) is not None]
        if taken:
            found = await asyncio.to_thread(self.detector.detect, [f.image for _, f in taken])
            for (camera, frame), detections in zip(taken, found, strict=True):
                full_size = [d.scaled(frame.scale) for d in detections]
                await self.judge(camera, frame, full_size)
        await self.report(arrived)
        return len(taken)

    async def settle(self, within: float) -> None:
        """Wait (up to `within` seconds) for the reads under way (the tests' step)."""
        reads = {c.reading for c in self.cameras.values() if c.reading is not None}
        if reads:
            await asyncio.wait(reads, timeout=within)

    async def judge(self, camera: Watched, frame: Frame, detections: list[Detection]) -> None:
        """One camera's sample: fired rules become events, open checks are counted."""
        for fired in camera.watch.step(detections, frame.position):
            try:
                await self._record(camera, frame, fired, detections)
            except Exception:
                log.exception("vision: camera %s: a fired rule was not recorded", camera.row.code)
        for check_id, judged in list(camera.rechecks.items()):
            verdict, hits = judged.judge(detections)
            if verdict is None:
                continue
            del camera.rechecks[check_id]
            full = await asyncio.to_thread(frame.full)
            picture = annotate(
                full, zone=judged.zone, hits=hits, camera=camera.spec.code, at=frame.at
            )
            media = await filing.store_picture(self.runtime, picture)
            check = await VisionCheck.get(id=check_id)
            await recheck.decide(
                self.runtime, check, gone=verdict, media_id=media, samples=judged.needed
            )

    async def _record(
        self, camera: Watched, frame: Frame, fired: Fired, detections: list[Detection]
    ) -> None:
        zone = camera.watch.zone(fired.zone)
        if zone is None:
            return
        since = fired.began(frame.at)
        full = await asyncio.to_thread(frame.full)  # the evidence at the camera's resolution
        sighting = filing.Sighting(
            camera.row, camera.spec, fired, zone, full, frame.at, since, tuple(detections)
        )
        await filing.record(self.runtime, sighting)

    async def refresh(self) -> None:
        """Follow the registry: new cameras start, changed ones restart, removed ones stop."""
        index, count = self.shard
        rows = {r.id: r for r in await Camera.filter(enabled=True) if r.id % count == index - 1}
        for camera_id in list(self.cameras):
            held = self.cameras[camera_id]
            row = rows.get(camera_id)
            if row is None or row.spec != held.row.spec:
                await held.close()
                del self.cameras[camera_id]
            else:
                held.row = row
        for camera_id, row in rows.items():
            if camera_id not in self.cameras:
                spec = service.declared(row)
                self.cameras[camera_id] = Watched(
                    row,
                    spec,
                    open_source(spec, self.http, self.detector.size),
                    CameraWatch(spec, self.config),
                )

    async def load_checks(self) -> None:
        """Pick up the 智能核查 watches opened since the last look."""
        # The open watches are few (one per 处置 of a camera's case, for minutes): all of them,
        # and those of cameras this process does not hold are another process's.
        for check in await VisionCheck.filter(status=CheckStatus.WATCHING):
            camera = self.cameras.get(check.camera_id)
            if camera is None or check.id in camera.rechecks:
                continue
            event = await VisionEvent.get(id=check.event_id)
            zone = camera.watch.zone(event.zone)
            if zone is None or event.rule_index >= len(zone.rules):
                await recheck_gone(check, "摄像头已重新配置，该区域或规则已不存在")
                continue
            camera.rechecks[check.id] = Recheck(zone, event.rule_index, self.config.check_samples)

    async def report(self, sampled: list[Watched]) -> None:
        """Write each sampled camera's health now and then (and at once when it changes)."""
        clock = time.monotonic()
        for camera in sampled:
            source = camera.source
            health = source.health
            last = source.last_frame_at
            silent = (utc_now() - last).total_seconds() if last else clock - camera.started
            if silent > camera.spec.dead_after_s:
                health = CameraHealth.DEAD
            if health == camera.row.health and clock - camera.reported < HEALTH_EVERY_S:
                continue
            await service.report_health(
                camera.row.id, health, detail=source.detail, frame_at=last, now=utc_now()
            )
            camera.row.health = health
            camera.reported = clock


def _result(camera: Watched) -> Frame | None:
    """Take a finished read's frame (None: nothing this time; a reader's bug is logged)."""
    task, camera.reading = camera.reading, None
    if task is None or task.cancelled():
        return None
    if (err := task.exception()) is not None:
        log.error("vision: camera %s: reading failed", camera.row.code, exc_info=err)
        return None
    return task.result()


async def recheck_gone(check: VisionCheck, why: str) -> None:
    """End a watch the camera can no longer judge."""
    await VisionCheck.filter(id=check.id).update(
        status=CheckStatus.SUPERSEDED, detail=why, done_at=utc_now()
    )
