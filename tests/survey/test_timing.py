"""When a survey is asked: the next working day at 09:00 on the city's calendar, never at night."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from core.calendar import WorkCalendar
from survey.config import SurveyProfile
from survey.timing import first_ask, next_reminder, out_of_quiet
from tests.survey.conftest import local

CAL = WorkCalendar()
DEFAULT = SurveyProfile()


@pytest.mark.parametrize(
    ("closed", "asked"),
    [
        (local(2026, 11, 27, 17, 0), local(2026, 11, 30, 9, 0)),  # Friday → Monday
        (local(2026, 11, 30, 10, 0), local(2026, 12, 1, 9, 0)),  # Monday → Tuesday
        (local(2026, 9, 30, 16, 0), local(2026, 10, 8, 9, 0)),  # before National Day
        (local(2026, 10, 9, 16, 0), local(2026, 10, 10, 9, 0)),  # → a 调休 working Saturday
        (local(2026, 11, 28, 11, 0), local(2026, 11, 30, 9, 0)),  # closed on a Saturday
    ],
)
def test_next_working_day_at_nine(closed: dt.datetime, asked: dt.datetime) -> None:
    assert first_ask(closed, calendar=CAL, profile=DEFAULT) == asked


def test_city_holidays_and_later_asks_count_too() -> None:
    cal = WorkCalendar(extra_holidays=[dt.date(2026, 11, 30)])
    assert first_ask(local(2026, 11, 27, 17), calendar=cal, profile=DEFAULT) == local(
        2026, 12, 1, 9
    )
    two = SurveyProfile(after_workdays=2, ask_at="10:30")
    assert first_ask(local(2026, 11, 27, 17), calendar=CAL, profile=two) == local(
        2026, 12, 1, 10, 30
    )


def test_at_once_but_not_at_night() -> None:
    now = SurveyProfile(after_workdays=0)
    assert first_ask(local(2026, 11, 27, 15), calendar=CAL, profile=now) == local(2026, 11, 27, 15)
    assert first_ask(local(2026, 11, 27, 23, 30), calendar=CAL, profile=now) == local(
        2026, 11, 28, 8
    )
    assert out_of_quiet(local(2026, 11, 28, 6, 59), calendar=CAL, profile=DEFAULT) == local(
        2026, 11, 28, 8
    )
    assert out_of_quiet(local(2026, 11, 28, 21, 0), calendar=CAL, profile=DEFAULT) == local(
        2026, 11, 29, 8
    )
    # A reminder 24 hours after a 20:30 ask would fall at night: it waits for the morning.
    assert next_reminder(local(2026, 11, 27, 21, 30), calendar=CAL, profile=DEFAULT) == local(
        2026, 11, 29, 8
    )


@pytest.mark.parametrize(
    ("section", "named"),
    [
        ({"ask_at": "22:00"}, "quiet hours"),
        ({"ask_at": "9:00"}, "HH:MM"),
        ({"questions": {"hotline": {}}}, "'default'"),
        ({"questions": {"default": {"intro": "案件{case}"}}}, "{number}"),
        ({"questions": {"default": {"aspects": ["速度", "速度"]}}}, "distinct"),
        ({"reminder_gap_hours": 0.5}, "reminder_gap_hours"),
    ],
)
def test_a_bad_profile_section_is_named(section: dict[str, object], named: str) -> None:
    with pytest.raises(ValidationError) as err:
        SurveyProfile.model_validate(section)
    assert named in str(err.value)
