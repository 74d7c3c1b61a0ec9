"""Working-time arithmetic for SLA clocks: 工作时/工作日 over China's statutory calendar.

Every public function takes timezone-aware datetimes in any zone and returns datetimes in the
calendar's zone (Asia/Shanghai by default); a naive datetime raises ValueError. Working periods
are read as local wall-clock times, which assumes the zone has no DST shift inside a working
period (true for China).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Iterable, Sequence
from enum import StrEnum
from typing import TypeAlias
from zoneinfo import ZoneInfo

import chinese_calendar
from holidays import country_holidays

from core.config import CityProfile
from core.const import DISPLAY_TZ

log = logging.getLogger(__name__)

Period: TypeAlias = tuple[dt.time, dt.time]
Amount: TypeAlias = float | dt.timedelta

DEFAULT_PERIODS: tuple[Period, ...] = (
    (dt.time(8, 0), dt.time(12, 0)),
    (dt.time(14, 0), dt.time(18, 0)),
)
_ONE_DAY = dt.timedelta(days=1)
_HOUR = dt.timedelta(hours=1)
_LABELS = {"work_hour": "工作时", "work_day": "工作日", "hour": "小时", "day": "天"}


class TimeUnit(StrEnum):
    """Unit of a time limit: working time counts only working periods of working days."""

    WORK_HOUR = "work_hour"
    WORK_DAY = "work_day"
    HOUR = "hour"
    DAY = "day"

    @property
    def label(self) -> str:
        """Return the Chinese name shown to people."""
        return _LABELS[self.value]

    @property
    def is_working_time(self) -> bool:
        """Return whether this unit skips nights, weekends and holidays."""
        return self in (TimeUnit.WORK_HOUR, TimeUnit.WORK_DAY)


@functools.lru_cache(maxsize=64)
def _package_covers(year: int) -> bool:
    try:
        chinese_calendar.is_workday(dt.date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


@functools.lru_cache(maxsize=64)
def _statutory(year: int) -> frozenset[dt.date]:
    """The days off the law fixes (全国年节及纪念日放假办法: 元旦, 春节 4 days from 除夕, 清明,
    劳动节 2, 端午, 中秋, 国庆 3), with their lunar and solar-term dates for this year.

    Without the bridging days and weekend workdays (调休) that the State Council announces each
    year: those are unknown until then, and the `holidays` package's "observed" days are a guess.
    """
    return frozenset(country_holidays("CN", years=year, observed=False))


def _uncovered_message(year: int) -> str:
    return (
        f"the chinesecalendar package has no data for {year}: working days in {year} skip "
        f"weekends and the statutory holidays the law fixes, but not yet the State Council's "
        f"{year} 调休 arrangement (bridging days off, weekend working days). Add them to the "
        f"city profile (extra_holidays / extra_workdays) once announced."
    )


def _aware(value: dt.datetime, name: str = "datetime") -> dt.datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")
    return value


def _duration(amount: Amount) -> dt.timedelta:
    span = amount if isinstance(amount, dt.timedelta) else dt.timedelta(hours=amount)
    if span < dt.timedelta(0):
        raise ValueError(f"a time limit cannot be negative, got {amount!r}")
    return span


def _clock(time: dt.time) -> dt.datetime:
    return dt.datetime.combine(dt.date.min, time)


class WorkCalendar:
    """Working days and periods of one city, with SLA deadline and elapsed-time arithmetic."""

    def __init__(
        self,
        periods: Sequence[Period] = DEFAULT_PERIODS,
        *,
        extra_holidays: Iterable[dt.date] = (),
        extra_workdays: Iterable[dt.date] = (),
        tz: str | dt.tzinfo = DISPLAY_TZ,
    ) -> None:
        self.periods = tuple(periods)
        self._check_periods(self.periods)
        self.extra_holidays = frozenset(extra_holidays)
        self.extra_workdays = frozenset(extra_workdays)
        clash = sorted(self.extra_holidays & self.extra_workdays)
        if clash:
            raise ValueError(f"dates are both extra holiday and extra workday: {clash}")
        self.tz = ZoneInfo(tz) if isinstance(tz, str) else tz
        self.hours_per_day = sum(
            (_clock(end) - _clock(start) for start, end in self.periods), dt.timedelta(0)
        )
        # A year counts as configured by the city once it lists any holiday in it: every year
        # has statutory holidays, so an operator who entered them silences the warning.
        self._city_years = frozenset(day.year for day in self.extra_holidays)
        self._days: dict[dt.date, bool] = {}
        self._warned: set[int] = set()

    @classmethod
    def from_profile(cls, profile: CityProfile) -> WorkCalendar:
        """Build the calendar from a city profile."""
        parse = dt.time.fromisoformat
        periods = tuple((parse(s), parse(e)) for s, e in profile.working_periods)
        return cls(
            periods,
            extra_holidays=profile.extra_holidays,
            extra_workdays=profile.extra_workdays,
        )

    @staticmethod
    def _check_periods(periods: Sequence[Period]) -> None:
        if not periods:
            raise ValueError("at least one working period is needed")
        last = dt.time.min
        for start, end in periods:
            if not last <= start < end:
                raise ValueError("periods must be ordered, non-overlapping and start before end")
            last = end

    # -- days -------------------------------------------------------------------------------

    def is_workday(self, day: dt.date) -> bool:
        """Return whether people work on this local date (city overrides, then the State)."""
        known = self._days.get(day)
        if known is None:
            known = self._days[day] = self._classify(day)
        return known

    def _classify(self, day: dt.date) -> bool:
        if day in self.extra_workdays:
            return True
        if day in self.extra_holidays:
            return False
        if _package_covers(day.year):
            return bool(chinese_calendar.is_workday(day))
        if day.year not in self._city_years and day.year not in self._warned:
            self._warned.add(day.year)
            log.warning("%s", _uncovered_message(day.year))
        return day.weekday() < 5 and day not in _statutory(day.year)

    def is_covered(self, year: int) -> bool:
        """Return whether this year's 调休 arrangement is known (package or city profile)."""
        return _package_covers(year) or year in self._city_years

    def coverage_warnings(self, years: Iterable[int]) -> list[str]:
        """Return one English message per year whose holidays are unknown."""
        return [_uncovered_message(year) for year in years if not self.is_covered(year)]

    def _windows(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        """Working periods of a local date as naive local datetimes; empty on a day off."""
        if not self.is_workday(day):
            return []
        return [(dt.datetime.combine(day, s), dt.datetime.combine(day, e)) for s, e in self.periods]

    # Working-time arithmetic runs on naive local wall-clock time; these convert at the edges.
    def _local(self, value: dt.datetime, name: str = "datetime") -> dt.datetime:
        return _aware(value, name).astimezone(self.tz).replace(tzinfo=None)

    def _attach(self, local: dt.datetime) -> dt.datetime:
        return local.replace(tzinfo=self.tz)

    # -- working time -----------------------------------------------------------------------

    def is_working_time(self, instant: dt.datetime) -> bool:
        """Return whether the instant falls inside a working period of a working day."""
        local = self._local(instant)
        return any(s <= local < e for s, e in self._windows(local.date()))

    def add_working_hours(self, start: dt.datetime, hours: Amount) -> dt.datetime:
        """Return the earliest instant by which `hours` of working time have elapsed."""
        remaining = _duration(hours)
        cursor = self._local(start, "start")
        if not remaining:
            return self._attach(cursor)
        day = cursor.date()
        while True:
            windows = self._windows(day)
            if windows and cursor <= windows[0][0] and remaining > self.hours_per_day:
                remaining -= self.hours_per_day  # a whole working day fits: skip it at once
            else:
                for begin, end in windows:
                    begin = max(begin, cursor)
                    if end <= begin:
                        continue
                    if remaining <= end - begin:
                        return self._attach(begin + remaining)
                    remaining -= end - begin
            day += _ONE_DAY
            cursor = dt.datetime.combine(day, dt.time.min)

    def add_working_days(self, start: dt.datetime, days: float) -> dt.datetime:
        """Return the instant `days` working days after start (1 day = hours_per_day)."""
        if days < 0:
            raise ValueError(f"a time limit cannot be negative, got {days!r}")
        return self.add_working_hours(start, self.hours_per_day * days)

    def working_time_between(self, a: dt.datetime, b: dt.datetime) -> dt.timedelta:
        """Return the working time elapsed from a to b (zero if b is not after a)."""
        first, last = self._local(a, "a"), self._local(b, "b")
        total = dt.timedelta(0)
        if last <= first:
            return total
        day = first.date()
        while day <= last.date():
            for begin, end in self._windows(day):
                span = min(end, last) - max(begin, first)
                if span > dt.timedelta(0):
                    total += span
            day += _ONE_DAY
        return total

    # -- wall-clock time --------------------------------------------------------------------

    def add_wall_hours(self, start: dt.datetime, hours: Amount) -> dt.datetime:
        """Return the instant `hours` of real time after start, holidays included."""
        return (_aware(start, "start") + _duration(hours)).astimezone(self.tz)

    def add_days(self, start: dt.datetime, days: float) -> dt.datetime:
        """Return the same local time of day `days` calendar days after start."""
        if days < 0:
            raise ValueError(f"a time limit cannot be negative, got {days!r}")
        return self._attach(self._local(start, "start") + _ONE_DAY * days)

    # -- one entry point for SLA code -------------------------------------------------------

    def unit_length(self, unit: TimeUnit) -> dt.timedelta:
        """Return how much elapsed() time one unit is (a 工作日 is hours_per_day)."""
        match unit:
            case TimeUnit.WORK_DAY:
                return self.hours_per_day
            case TimeUnit.DAY:
                return _ONE_DAY
            case _:
                return _HOUR

    def deadline(self, start: dt.datetime, amount: float, unit: TimeUnit) -> dt.datetime:
        """Return when a limit of `amount` `unit`s that starts at start runs out."""
        match TimeUnit(unit):
            case TimeUnit.WORK_HOUR:
                return self.add_working_hours(start, amount)
            case TimeUnit.WORK_DAY:
                return self.add_working_days(start, amount)
            case TimeUnit.HOUR:
                return self.add_wall_hours(start, amount)
            case TimeUnit.DAY:
                return self.add_days(start, amount)

    def elapsed(self, start: dt.datetime, end: dt.datetime, unit: TimeUnit) -> dt.timedelta:
        """Return the time from start to end that counts against a limit in `unit`."""
        if TimeUnit(unit).is_working_time:
            return self.working_time_between(start, end)
        return max(_aware(end, "end") - _aware(start, "start"), dt.timedelta(0))
