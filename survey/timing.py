"""When to ask: the working-time calendar's next working day, and never in the quiet hours."""

from __future__ import annotations

import datetime as dt

from core.calendar import WorkCalendar
from survey.config import SurveyProfile

MAX_DAYS_AHEAD = 60  # a calendar with no working day in two months is a broken profile


def first_ask(
    closed_at: dt.datetime, *, calendar: WorkCalendar, profile: SurveyProfile
) -> dt.datetime:
    """When to ask after a 结案: `after_workdays` working days later at `ask_at`, local time.

    Closed Friday 17:00 → Monday 09:00; closed the day before a holiday → the first working
    day after it; a 调休 working Saturday counts as a working day.
    """
    local = closed_at.astimezone(calendar.tz)
    if profile.after_workdays == 0:
        return out_of_quiet(closed_at, calendar=calendar, profile=profile)
    day, left = local.date(), profile.after_workdays
    for _ in range(MAX_DAYS_AHEAD):
        day += dt.timedelta(days=1)
        if calendar.is_workday(day):
            left -= 1
            if left == 0:
                return dt.datetime.combine(day, profile.ask_time(), tzinfo=calendar.tz)
    raise ValueError(f"no working day within {MAX_DAYS_AHEAD} days of {day}")


def out_of_quiet(at: dt.datetime, *, calendar: WorkCalendar, profile: SurveyProfile) -> dt.datetime:
    """The instant itself, or the end of the quiet hours it falls in."""
    local = at.astimezone(calendar.tz)
    if not profile.quiet(local.time().replace(tzinfo=None)):
        return at
    end = dt.time.fromisoformat(profile.quiet_hours[1])
    day = (
        local.date() if local.time().replace(tzinfo=None) < end else local.date() + dt.timedelta(1)
    )
    return dt.datetime.combine(day, end, tzinfo=calendar.tz)


def next_reminder(
    last_ask: dt.datetime, *, calendar: WorkCalendar, profile: SurveyProfile
) -> dt.datetime:
    """The earliest time for the next ask: the gap after the last one, out of the quiet hours."""
    gap = dt.timedelta(hours=profile.reminder_gap_hours)
    return out_of_quiet(last_ask + gap, calendar=calendar, profile=profile)


def expiry(first: dt.datetime, *, profile: SurveyProfile) -> dt.datetime:
    """When an unanswered survey becomes 未回访."""
    return first + dt.timedelta(days=profile.expire_days)
