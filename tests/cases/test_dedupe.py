"""The questions a report asks before it is written (cases/dedupe.py), in one statement."""

from __future__ import annotations

import uuid

from tortoise import timezone

from cases import dedupe
from cases.deps import deps_of
from cases.schemas import IntakeDraft, Location, Reporter
from core.auth.models import Staff
from core.org.models import Department
from tests.cases.helpers import City


async def _draft(city: City, key: str, *, east_m: float = 0.0) -> IntakeDraft:
    inspector = await Staff.get(username="inspector1")
    return IntakeDraft(
        source="grid_app",
        idempotency_key=key,
        reporter=Reporter(staff_id=inspector.id),
        category_code="E09009",
        description="消防通道有车辆违停",
        location=Location(**await city.point(1, east_m=east_m)),
    )


async def test_a_retry_a_neighbour_and_the_live_departments_in_one_answer(city: City) -> None:
    deps = deps_of(city.client.app)
    status, first = await city.report(
        await city.login("inspector1"), await city.point(1), "消防通道有车辆违停",
        key="k-1", category_code="E09009",
    )  # fmt: skip
    assert status == 201, first
    cid = first["case"]["id"]
    category = deps.policy.category("E09009")
    hw = await city.department("HW")
    sz = await city.department("SZ")
    await Department.filter(id=sz).update(retired_at=timezone.now())
    assert category is not None and deps.grids is not None

    async def look(draft: IntakeDraft) -> dedupe.Seen:
        assert draft.location is not None and deps.grids is not None
        loc = draft.location
        place = await deps.grids.locate(loc.lon, loc.lat, loc.crs)
        return await dedupe.look(draft, category, place, deps, deps.now(), [hw, sz])

    again = await look(await _draft(city, "k-1"))  # the same key: the report filed before
    assert again.report_id is not None and again.duplicate_of() == cid
    near = await look(await _draft(city, uuid.uuid4().hex, east_m=12))  # 12 m away: joins it
    assert near.report_id is None and near.duplicate_of() == cid
    assert 11 < near.near[0][0] < 13
    far = await look(await _draft(city, uuid.uuid4().hex, east_m=60))  # 60 m: a case of its own
    assert far.duplicate_of() is None
    assert far.live == {hw: True, sz: False}
