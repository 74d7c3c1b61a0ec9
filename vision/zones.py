"""Zones: polygons in image coordinates, and which detections stand in them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import shapely
from shapely.geometry import Polygon

from vision.config import CameraZone, ZoneRule
from vision.decoders import Detection


@dataclass(frozen=True)
class Zone:
    """A zone ready to test points against."""

    name: str
    points: tuple[tuple[float, float], ...]
    rules: tuple[ZoneRule, ...]
    polygon: Polygon

    @classmethod
    def of(cls, zone: CameraZone) -> Zone:
        """Build one from its declaration."""
        polygon = Polygon(zone.points)
        shapely.prepare(polygon)
        return cls(zone.name, zone.points, zone.rules, polygon)

    def holds(self, detection: Detection) -> bool:
        """Tell whether the object stands in the zone (its box's bottom centre, as Frigate)."""
        x, y = detection.foot
        return bool(shapely.intersects_xy(self.polygon, x, y))


def counts(rule: ZoneRule, detection: Detection) -> bool:
    """Tell whether one detection passes a rule's frame filters (label, score, area)."""
    return (
        detection.label in rule.labels
        and detection.score >= rule.min_score
        and detection.area >= rule.min_area
    )


def present(zone: Zone, rule: ZoneRule, detections: Sequence[Detection]) -> list[Detection]:
    """The detections of this sample that make the rule's problem in the zone."""
    return [d for d in detections if counts(rule, d) and zone.holds(d)]


def outside_frame(zone: CameraZone, width: int, height: int) -> list[int]:
    """The indexes of a zone's points that lie outside a frame of this size."""
    return [n for n, (x, y) in enumerate(zone.points) if not (0 <= x <= width and 0 <= y <= height)]


def degenerate(zone: CameraZone) -> bool:
    """Tell whether the polygon encloses nothing or crosses itself."""
    polygon = Polygon(zone.points)
    return not polygon.is_valid or polygon.area <= 0
