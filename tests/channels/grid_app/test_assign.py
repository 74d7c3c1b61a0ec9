"""Who gets a 核实/核查 task: the grid's on-duty inspector nearest to the case by their latest
track point, else the first one on duty, else the grid's first inspector."""

from __future__ import annotations

import datetime as dt

from core.org.service import assign_inspector
from tests.cases.conftest import MakeCity, city_with
from tests.cases.helpers import City, add_staff, shifted
from tests.channels.grid_app.conftest import Phone, item, now, open_task, verify_task


async def _two_inspectors(city: City) -> tuple[Phone, Phone]:
    """inspector1 and a second inspector of street 1's first grid (assigned after)."""
    await add_staff(city, "inspector1b", ["inspector"], None)
    await assign_inspector(
        staff_id=await city.staff_id("inspector1b"), grid_codes=[(await city.grid(1)).code]
    )
    return Phone(city, "inspector1"), Phone(city, "inspector1b")


async def _at(phone: Phone, east_m: float, *, minutes_ago: float = 1.0) -> None:
    """On duty, with a fix this far east of the grid's centre that long ago."""
    centre = await phone.city.point(1)
    fix = shifted(centre["lon"], centre["lat"], east_m=east_m)
    when = now() - dt.timedelta(minutes=minutes_ago)
    status, out = await phone.sync(
        [
            item("duty", on=True, location=fix, at=(when - dt.timedelta(minutes=1)).isoformat()),
            item("track", points=[{"at": when.isoformat(), **fix, "accuracy_m": 6}]),
        ]
    )
    assert status == 200 and {a["outcome"] for a in out["items"]} == {"created"}, out


async def _given_to(city: City) -> int:
    task = await open_task(city, await verify_task(city))
    return int(task["inspector_id"])


__all__ = ["city_with"]


async def test_the_nearest_on_duty_inspector_gets_the_task(quick_city: City) -> None:
    first, second = await _two_inspectors(quick_city)
    await _at(first, east_m=180)
    await _at(second, east_m=-20)
    assert await _given_to(quick_city) == await quick_city.staff_id("inspector1b")


async def test_the_first_on_duty_without_a_fresh_point(quick_city: City) -> None:
    _, second = await _two_inspectors(quick_city)
    await _at(second, east_m=-20, minutes_ago=40)  # on duty, last seen 40 minutes ago
    assert await _given_to(quick_city) == await quick_city.staff_id("inspector1b")


async def test_nobody_on_duty_falls_back_to_the_grids_first(quick_city: City) -> None:
    await _two_inspectors(quick_city)
    assert await _given_to(quick_city) == await quick_city.staff_id("inspector1")


async def test_off_duty_is_not_chosen_however_near(quick_city: City) -> None:
    first, second = await _two_inspectors(quick_city)
    await _at(first, east_m=190)
    await _at(second, east_m=0)
    off = await second.one(item("duty", on=False))
    assert (off["outcome"], off["status"]) == ("created", "off_duty")
    assert await _given_to(quick_city) == await quick_city.staff_id("inspector1")


async def test_a_city_that_names_its_own_chooser_keeps_it(city_with: MakeCity) -> None:
    city = await city_with(hooks={"inspector": "cases.hooks:FirstAssigned"})
    _, second = await _two_inspectors(city)
    await _at(second, east_m=0)
    assert await _given_to(city) == await city.staff_id("inspector1")
