"""One object across samples: boxes of the same label that overlap enough.

Samples come seconds apart (one frame every 5 s is common), so a motion model predicts
nothing useful; a parked car or a stall stays where it was, and overlap is the whole
signal. This is why cityloop keeps this small tracker rather than ByteTrack (`supervision`),
whose Kalman filter assumes frames tens of milliseconds apart (README, "Vision").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import count

from vision.decoders import Detection


@dataclass
class Track:
    """An object followed across samples."""

    id: int
    label: str
    box: Detection
    first_seen: float  # seconds, on the source's clock
    last_seen: float
    missed: int = 0  # samples since it was last seen
    scores: list[float] = field(default_factory=list)


def iou(a: Detection, b: Detection) -> float:
    """Intersection over union of two boxes."""
    w = min(a.x2, b.x2) - max(a.x1, b.x1)
    h = min(a.y2, b.y2) - max(a.y1, b.y1)
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    return inter / (a.area + b.area - inter)


class Tracker:
    """Greedy IoU matching per label; an object unseen for `missed` samples is lost."""

    def __init__(self, *, min_iou: float = 0.3, missed: int = 2) -> None:
        self.min_iou = min_iou
        self.max_missed = missed
        self.tracks: dict[int, Track] = {}
        self._ids = count(1)

    def update(self, detections: Sequence[Detection], at: float) -> list[Track]:
        """Match this sample's detections; return the tracks seen in it."""
        pairs = sorted(
            (
                (iou(t.box, d), tid, n)
                for tid, t in self.tracks.items()
                for n, d in enumerate(detections)
                if t.label == d.label
            ),
            reverse=True,
        )
        matched: dict[int, int] = {}
        used: set[int] = set()
        for overlap, tid, n in pairs:
            if overlap < self.min_iou:
                break
            if tid in matched or n in used:
                continue
            matched[tid] = n
            used.add(n)
        seen = []
        for tid, track in list(self.tracks.items()):
            if tid in matched:
                d = detections[matched[tid]]
                track.box, track.last_seen, track.missed = d, at, 0
                track.scores.append(d.score)
                seen.append(track)
            else:
                track.missed += 1
                if track.missed > self.max_missed:
                    del self.tracks[tid]
        for n, d in enumerate(detections):
            if n not in used:
                track = Track(next(self._ids), d.label, d, at, at, scores=[d.score])
                self.tracks[track.id] = track
                seen.append(track)
        return seen
