"""When a tracked object in a zone becomes a problem: pure decisions over samples.

A track that stands in a zone (its label among the rule's) is watched from the first sample
it does; samples whose detection passes the frame filters (score, area) add their score. It
fires once, when it has stood there `dwell_s` with at least `min_frames` scored samples and
their median at `median_score` or above. Leaving the zone ends the watch; a sample or two
unseen (`track_missed`) does not.
"""

from __future__ import annotations

import datetime as dt
import statistics
from dataclasses import dataclass, field

from vision.config import ZoneRule
from vision.decoders import Detection
from vision.zones import Zone, counts


@dataclass
class Watch:
    """One track in one zone under one rule."""

    since: float
    scores: list[float] = field(default_factory=list)
    fired: bool = False


@dataclass(frozen=True)
class Fired:
    """A rule that fired: the problem, where, since when, how sure."""

    zone: str
    rule_index: int
    rule: ZoneRule
    track: int
    box: Detection
    since: float
    at: float
    median: float

    def began(self, at: dt.datetime) -> dt.datetime:
        """When the object started standing there, given the instant it fired at."""
        return at - dt.timedelta(seconds=self.at - self.since)


def stands(zone: Zone, rule: ZoneRule, detection: Detection) -> bool:
    """Tell whether a detection keeps a watch going (its label, inside the zone)."""
    return detection.label in rule.labels and zone.holds(detection)


def observe(watch: Watch, rule: ZoneRule, detection: Detection) -> None:
    """Add a sample's score where the detection passes the frame filters."""
    if counts(rule, detection):
        watch.scores.append(detection.score)


def due(watch: Watch, rule: ZoneRule, at: float) -> bool:
    """Tell whether the watch fires now (once)."""
    return (
        not watch.fired
        and len(watch.scores) >= rule.min_frames
        and at - watch.since >= rule.dwell_s
        and statistics.median(watch.scores) >= rule.median_score
    )
