"""On duty (上岗) and off (下岗): one open shift per person at most."""

from __future__ import annotations

import datetime as dt

from tortoise.transactions import in_transaction

from cases import Location
from channels.grid_app.models import DutyShift
from channels.grid_app.schemas import DutyOut, ShiftOut
from core.auth.models import Staff
from core.errors import Conflict, NotFound
from core.geo import to_wgs84


def shift_out(shift: DutyShift) -> ShiftOut:
    """Show a shift."""
    return ShiftOut(
        id=shift.id,
        staff_id=shift.staff_id,
        started_at=shift.started_at,
        ended_at=shift.ended_at,
        start_lon=shift.start_lon,
        start_lat=shift.start_lat,
        end_lon=shift.end_lon,
        end_lat=shift.end_lat,
    )


async def current(staff_id: int) -> DutyOut:
    """Whether this person is on duty now, and since when."""
    shift = await DutyShift.filter(staff_id=staff_id, ended_at=None).order_by("-id").first()
    return DutyOut(on_duty=shift is not None, shift=shift_out(shift) if shift else None)


async def toggle(staff_id: int, *, on: bool, where: Location | None, at: dt.datetime) -> DutyOut:
    """Go on duty (a second 上岗 while on duty changes nothing) or off (下岗 needs a shift)."""
    point = to_wgs84(where.lon, where.lat, where.crs) if where else (None, None)
    async with in_transaction():
        # One at a time per person: two 上岗 at once (the desk and the phone's queue) must not
        # open two shifts. SQLite runs one transaction at a time anyway.
        # The whole row: tortoise leaves FOR UPDATE out of a values_list().
        if await Staff.filter(id=staff_id).select_for_update().first() is None:
            raise NotFound(f"staff {staff_id}", message="账号不存在")
        open_shifts = DutyShift.filter(staff_id=staff_id, ended_at=None)
        if on:
            if not await open_shifts.exists():
                await DutyShift.create(
                    staff_id=staff_id,
                    started_at=at.astimezone(dt.UTC),
                    start_lon=point[0],
                    start_lat=point[1],
                )
            return await current(staff_id)
        shift = await open_shifts.order_by("id").first()
        if shift is None:
            raise Conflict("not on duty", code="not_on_duty", message="您当前不在岗，无需下岗")
        # A phone's clock behind its own 上岗: the shift ends no earlier than it began.
        ended = max(at.astimezone(dt.UTC), shift.started_at)
        await open_shifts.update(ended_at=ended, end_lon=point[0], end_lat=point[1])
    return await current(staff_id)


async def on_duty(staff_ids: list[int]) -> set[int]:
    """Which of these people are on duty now."""
    found = await DutyShift.filter(staff_id__in=staff_ids, ended_at=None).values_list(
        "staff_id", flat=True
    )
    return {int(str(s)) for s in found}
