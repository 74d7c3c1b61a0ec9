"""One camera's decisions over its samples: tracks, zones, rules; and 智能核查's judgement."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from vision.config import CameraIn, VisionConfig
from vision.decoders import Detection
from vision.rules import Fired, Watch, due, observe, stands
from vision.tracker import Tracker
from vision.zones import Zone, present

Key = tuple[int, int, int]  # track, zone, rule


class CameraWatch:
    """The state of one camera between samples (lost with the process: a restart starts the
    dwell again, and the open case stops a second one)."""

    def __init__(self, camera: CameraIn, config: VisionConfig) -> None:
        self.camera = camera
        self.zones = [Zone.of(z) for z in camera.zones]
        self.tracker = Tracker(min_iou=config.track_iou, missed=config.track_missed)
        self._watches: dict[Key, Watch] = {}

    def zone(self, name: str) -> Zone | None:
        """The zone of this name."""
        return next((z for z in self.zones if z.name == name), None)

    def step(self, detections: Sequence[Detection], at: float) -> list[Fired]:
        """Take one sample's detections; return the rules that fired on it."""
        seen = self.tracker.update(detections, at)
        fired: list[Fired] = []
        standing: set[Key] = set()
        for track in seen:
            for zi, zone in enumerate(self.zones):
                for ri, rule in enumerate(zone.rules):
                    if not stands(zone, rule, track.box):
                        continue
                    key = (track.id, zi, ri)
                    standing.add(key)
                    watch = self._watches.setdefault(key, Watch(since=at))
                    observe(watch, rule, track.box)
                    if due(watch, rule, at):
                        watch.fired = True
                        fired.append(
                            Fired(
                                zone.name,
                                ri,
                                rule,
                                track.id,
                                track.box,
                                watch.since,
                                at,
                                statistics.median(watch.scores),
                            )
                        )
        seen_ids = {t.id for t in seen}
        for key in list(self._watches):
            track_id = key[0]
            gone = track_id not in self.tracker.tracks
            if gone or (track_id in seen_ids and key not in standing):
                del self._watches[key]  # lost, or it left the zone
        return fired


@dataclass
class Recheck:
    """智能核查 of one zone and rule: samples in a row with and without the problem."""

    zone: Zone
    rule_index: int
    needed: int
    absent: int = 0
    present: int = 0

    def judge(self, detections: Sequence[Detection]) -> tuple[bool | None, list[Detection]]:
        """Count this sample; return (True: gone, False: still there, None: not yet) and the
        detections that make the problem."""
        found = present(self.zone, self.zone.rules[self.rule_index], detections)
        if found:
            self.present, self.absent = self.present + 1, 0
        else:
            self.absent, self.present = self.absent + 1, 0
        if self.absent >= self.needed:
            return True, found
        if self.present >= self.needed:
            return False, found
        return None, found
