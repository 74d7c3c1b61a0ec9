"""SLA clock arithmetic over China's working calendar, checked on exact instants."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
from chinese_calendar import constants

from core.calendar import TimeUnit, WorkCalendar
from core.config import CityProfile

SH = ZoneInfo("Asia/Shanghai")
H = dt.timedelta(hours=1)


def at(text: str) -> dt.datetime:
    """Return 'YYYY-MM-DD HH:MM[:SS]' in Shanghai time."""
    return dt.datetime.fromisoformat(text).replace(tzinfo=SH)


@pytest.fixture
def cal() -> WorkCalendar:
    return WorkCalendar()


def national_day_2026() -> list[dt.date]:
    return sorted(
        day
        for day, name in constants.holidays.items()
        if day.year == 2026 and name == constants.Holiday.national_day.value
    )


def tiaoxiu_saturdays_2026() -> list[dt.date]:
    return sorted(d for d in constants.workdays if d.year == 2026 and d.weekday() == 5)


def test_weekend_is_skipped(cal: WorkCalendar) -> None:
    assert cal.add_working_hours(at("2026-03-13 17:00"), 2) == at("2026-03-16 09:00")


def test_lunch_break_is_skipped(cal: WorkCalendar) -> None:
    assert cal.add_working_hours(at("2026-03-10 11:00"), 2) == at("2026-03-10 15:00")
    assert cal.working_time_between(at("2026-03-10 11:00"), at("2026-03-10 15:00")) == 2 * H


def test_period_end_is_reached_not_skipped(cal: WorkCalendar) -> None:
    # The earliest instant wins: a limit that ends at 18:00 does not roll to the next morning.
    assert cal.add_working_hours(at("2026-03-13 17:00"), 1) == at("2026-03-13 18:00")
    assert cal.add_working_days(at("2026-03-10 08:00"), 1) == at("2026-03-10 18:00")


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        ("2026-03-10 06:30", "2026-03-10 09:00"),  # before work
        ("2026-03-10 12:30", "2026-03-10 15:00"),  # lunch
        ("2026-03-10 20:00", "2026-03-11 09:00"),  # evening
        ("2026-03-14 10:00", "2026-03-16 09:00"),  # Saturday
    ],
)
def test_start_outside_hours_counts_from_next_period(
    cal: WorkCalendar, start: str, expected: str
) -> None:
    assert cal.add_working_hours(at(start), 1) == at(expected)


def test_fractional_hours_and_seconds(cal: WorkCalendar) -> None:
    assert cal.add_working_hours(at("2026-03-10 11:50"), 1 / 3) == at("2026-03-10 14:10")
    assert cal.add_working_hours(at("2026-03-10 11:59:30"), dt.timedelta(seconds=90)) == at(
        "2026-03-10 14:01:00"
    )
    assert cal.add_working_days(at("2026-03-10 08:00"), 1.5) == at("2026-03-11 12:00")


def test_national_day_2026_is_skipped(cal: WorkCalendar) -> None:
    days = national_day_2026()
    assert days == [dt.date(2026, 10, d) for d in range(1, 8)]  # the package's 2026 data
    assert not any(cal.is_workday(d) for d in days)
    assert cal.add_working_hours(at("2026-09-30 17:00"), 2) == at("2026-10-08 09:00")


def test_tiaoxiu_saturday_2026_is_a_workday(cal: WorkCalendar) -> None:
    saturday = dt.date(2026, 5, 9)
    assert saturday in tiaoxiu_saturdays_2026()
    assert chinese_calendar.get_holiday_detail(saturday) == (False, "Labour Day")
    assert cal.is_workday(saturday)
    assert cal.add_working_hours(at("2026-05-08 17:00"), 2) == at("2026-05-09 09:00")
    assert cal.is_working_time(at("2026-05-09 10:00"))


def test_working_time_between_across_national_day(cal: WorkCalendar) -> None:
    assert cal.working_time_between(at("2026-09-30 17:00"), at("2026-10-08 09:00")) == 2 * H
    # Sep 30 7 h, Oct 1–7 off, Oct 8 and 9 8 h each, Sat Oct 10 (调休) 8 h, Sun off, Oct 12 1 h.
    assert cal.working_time_between(at("2026-09-30 09:00"), at("2026-10-12 09:00")) == 32 * H
    assert cal.elapsed(at("2026-09-30 09:00"), at("2026-10-12 09:00"), TimeUnit.WORK_DAY) == 32 * H


def test_working_time_between_is_zero_backwards(cal: WorkCalendar) -> None:
    backwards = cal.working_time_between(at("2026-03-10 15:00"), at("2026-03-10 09:00"))
    assert backwards == dt.timedelta(0)
    assert cal.elapsed(at("2026-03-10 15:00"), at("2026-03-10 09:00"), TimeUnit.HOUR) == (
        dt.timedelta(0)
    )


def test_wall_clock_units_ignore_holidays(cal: WorkCalendar) -> None:
    start = at("2026-09-30 17:00")
    assert cal.deadline(start, 24, TimeUnit.HOUR) == at("2026-10-01 17:00")
    assert cal.deadline(start, 0.5, TimeUnit.HOUR) == at("2026-09-30 17:30")
    assert cal.deadline(start, 3, TimeUnit.DAY) == at("2026-10-03 17:00")
    assert cal.elapsed(start, at("2026-10-03 17:00"), TimeUnit.DAY) == dt.timedelta(days=3)
    assert cal.elapsed(start, at("2026-10-03 17:00"), TimeUnit.WORK_HOUR) == H


def test_deadline_dispatches_working_units(cal: WorkCalendar) -> None:
    start = at("2026-09-30 17:00")
    assert cal.deadline(start, 2, TimeUnit.WORK_HOUR) == at("2026-10-08 09:00")
    assert cal.deadline(start, 1, TimeUnit.WORK_DAY) == at("2026-10-08 17:00")
    assert cal.deadline(start, 2, "work_day") == at("2026-10-09 17:00")  # type: ignore[arg-type]
    assert cal.unit_length(TimeUnit.WORK_DAY) == 8 * H
    assert TimeUnit.WORK_DAY.label == "工作日"


def test_results_are_in_calendar_zone_whatever_the_input(cal: WorkCalendar) -> None:
    friday_17_shanghai = dt.datetime(2026, 3, 13, 9, 0, tzinfo=dt.UTC)
    result = cal.add_working_hours(friday_17_shanghai, 2)
    assert result == at("2026-03-16 09:00")
    assert result.utcoffset() == 8 * H
    assert cal.add_wall_hours(friday_17_shanghai, 1).utcoffset() == 8 * H


def test_city_overrides_win_over_the_package() -> None:
    cal = WorkCalendar(
        extra_holidays=[dt.date(2026, 3, 10)],  # a Tuesday off for the city
        # a National Day holiday and a Sunday worked in the city
        extra_workdays=[dt.date(2026, 10, 2), dt.date(2026, 3, 15)],
    )
    assert cal.add_working_hours(at("2026-03-09 17:00"), 2) == at("2026-03-11 09:00")
    assert cal.add_working_hours(at("2026-09-30 17:00"), 2) == at("2026-10-02 09:00")
    assert cal.add_working_hours(at("2026-03-13 17:00"), 2) == at("2026-03-15 09:00")


def test_city_override_from_profile() -> None:
    profile = CityProfile(extra_holidays=(dt.date(2026, 3, 16),))
    cal = WorkCalendar.from_profile(profile)
    assert cal.add_working_hours(at("2026-03-13 17:00"), 2) == at("2026-03-17 09:00")


def test_same_date_as_holiday_and_workday_is_refused() -> None:
    day = dt.date(2026, 3, 10)
    with pytest.raises(ValueError, match="both"):
        WorkCalendar(extra_holidays=[day], extra_workdays=[day])


def test_an_uncovered_year_keeps_the_holidays_the_law_fixes(
    cal: WorkCalendar, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(dt.date(2027, 1, 1))
    with caplog.at_level(logging.WARNING, logger="core.calendar"):
        # 2027-01-01 is a Friday and 元旦 by law: 2 工作时 from New Year's Eve 17:00 end on
        # Monday 4 January, not on the holiday (what the package alone would answer).
        assert cal.add_working_hours(at("2026-12-31 17:00"), 2) == at("2027-01-04 09:00")
        # 2026-12-02 18:00 + 23 工作日: 23 working days of December and January, 元旦 skipped.
        assert cal.add_working_days(at("2026-12-02 18:00"), 23) == at("2027-01-05 18:00")
        # 春节 2027: 除夕 (Friday 5 February) to 初三 (Monday 8 February) are days off.
        assert [cal.is_workday(dt.date(2027, 2, d)) for d in range(4, 10)] == [
            True,  # Thursday
            False,  # 除夕
            False,  # 初一 (a Saturday)
            False,  # 初二 (a Sunday)
            False,  # 初三
            True,  # Tuesday: the 调休 arrangement is not known yet; no guess is made
        ]
        assert not cal.is_workday(dt.date(2027, 10, 1))  # 国庆
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1  # once per year, not per lookup
    assert "2027" in warnings[0].getMessage()
    assert "调休" in warnings[0].getMessage()
    assert "extra_holidays" in warnings[0].getMessage()
    messages = cal.coverage_warnings([2026, 2027])
    assert len(messages) == 1
    assert "2027" in messages[0]
    assert "2026" not in messages[0]


def test_city_holidays_cover_an_uncovered_year(caplog: pytest.LogCaptureFixture) -> None:
    # The city enters the announced arrangement: a bridging day off, a weekend working day.
    cal = WorkCalendar(
        extra_holidays=[dt.date(2027, 2, 9), dt.date(2027, 2, 10)],
        extra_workdays=[dt.date(2027, 2, 7)],
    )
    with caplog.at_level(logging.WARNING, logger="core.calendar"):
        assert cal.add_working_hours(at("2026-12-31 17:00"), 2) == at("2027-01-04 09:00")
        assert not cal.is_workday(dt.date(2027, 2, 9))
        assert cal.is_workday(dt.date(2027, 2, 7))  # the profile wins over the law's 初二
    assert not caplog.records
    assert cal.coverage_warnings([2026, 2027]) == []


@pytest.mark.parametrize(
    "call",
    [
        lambda c, t: c.add_working_hours(t, 1),
        lambda c, t: c.add_working_days(t, 1),
        lambda c, t: c.working_time_between(t, t),
        lambda c, t: c.add_wall_hours(t, 1),
        lambda c, t: c.add_days(t, 1),
        lambda c, t: c.deadline(t, 1, TimeUnit.HOUR),
        lambda c, t: c.elapsed(t, t, TimeUnit.DAY),
        lambda c, t: c.is_working_time(t),
    ],
)
def test_naive_datetime_is_refused(
    cal: WorkCalendar, call: Callable[[WorkCalendar, dt.datetime], object]
) -> None:
    naive = dt.datetime(2026, 3, 10, 9, 0)  # noqa: DTZ001 - the point of the test
    with pytest.raises(ValueError, match="timezone-aware"):
        call(cal, naive)


def test_negative_limit_is_refused(cal: WorkCalendar) -> None:
    with pytest.raises(ValueError, match="negative"):
        cal.add_working_hours(at("2026-03-10 09:00"), -1)


def test_non_default_working_periods() -> None:
    profile = CityProfile(working_periods=(("09:00", "12:00"), ("13:30", "17:30")))
    cal = WorkCalendar.from_profile(profile)
    assert cal.hours_per_day == 7 * H
    assert cal.add_working_hours(at("2026-03-10 11:00"), 2) == at("2026-03-10 14:30")
    assert cal.add_working_hours(at("2026-03-10 08:00"), 1) == at("2026-03-10 10:00")
    assert cal.add_working_days(at("2026-03-10 09:00"), 2) == at("2026-03-11 17:30")
    assert cal.deadline(at("2026-03-13 17:00"), 1, TimeUnit.WORK_DAY) == at("2026-03-16 17:00")
    assert not cal.is_working_time(at("2026-03-10 13:00"))


def test_long_limits_round_trip(cal: WorkCalendar) -> None:
    start = at("2026-01-05 10:17:03")
    end = cal.add_working_hours(start, 1000)
    assert cal.working_time_between(start, end) == 1000 * H
    for hours in (0.25, 7.5, 8, 40, 333.3):
        for begin in (at("2026-09-29 16:45"), at("2026-02-13 12:10"), at("2026-12-30 18:30")):
            finish = cal.add_working_hours(begin, hours)
            assert cal.working_time_between(begin, finish) == dt.timedelta(hours=hours)


def test_zero_limit_ends_at_start(cal: WorkCalendar) -> None:
    saturday = at("2026-03-14 10:00")
    assert cal.add_working_hours(saturday, 0) == saturday
    assert cal.deadline(saturday, 0, TimeUnit.WORK_DAY) == saturday
