"""Who gets a 核实/核查 task (the case core's `inspector` hook): the grid's on-duty inspector
nearest to the case by their latest track point; failing a fresh point, the first on-duty one
in the grid's order; failing anyone on duty, the grid's first inspector (the core's default).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from tortoise import timezone

from channels.grid_app.config import GridAppConfig
from channels.grid_app.duty import on_duty
from channels.grid_app.models import TrackPoint
from core.geo import distance_m


class NearestOnDuty:
    """An InspectorChooser (cases/hooks.py) over the field app's duty shifts and tracks."""

    def __init__(self, config: GridAppConfig | None = None) -> None:
        self.config = config or GridAppConfig()

    async def choose(
        self,
        *,
        case_id: int,
        grid_id: int,
        kind: str,
        candidates: Sequence[int],
        location: tuple[float, float] | None = None,
    ) -> int | None:
        """Return the nearest on-duty candidate, else the first on duty, else the first."""
        if not candidates:
            return None
        present = await on_duty(list(candidates))
        working = [c for c in candidates if c in present]
        if not working:
            return candidates[0]
        if location is None:
            return working[0]
        since = timezone.now() - dt.timedelta(minutes=self.config.on_duty_fresh_min)
        best: tuple[float, int, int] | None = None  # distance, rank in the grid, staff id
        for rank, staff_id in enumerate(working):
            fix = await TrackPoint.filter(staff_id=staff_id, at__gte=since).order_by("-at").first()
            if fix is None or (fix.accuracy_m or 0) > self.config.coverage_accuracy_m:
                continue
            far = distance_m(fix.lon, fix.lat, location[0], location[1])
            if best is None or (far, rank) < best[:2]:
                best = (far, rank, staff_id)
        return best[2] if best is not None else working[0]
