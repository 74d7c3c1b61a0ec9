"""Time: stored in UTC, shown in Asia/Shanghai."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, TypeAlias
from zoneinfo import ZoneInfo

from pydantic import PlainSerializer

from core.const import DISPLAY_TZ

LOCAL_TZ = ZoneInfo(DISPLAY_TZ)


def now() -> dt.datetime:
    """Return the current instant, aware, in UTC."""
    return dt.datetime.now(dt.UTC)


def utc(value: dt.datetime | None) -> dt.datetime | None:
    """Return an aware instant in UTC (what we store: SQLite compares datetimes as text)."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime: cityloop stores and passes aware instants only")
    return value.astimezone(dt.UTC)


def to_local(value: dt.datetime) -> dt.datetime:
    """Show an aware instant in the display timezone; naive values are refused."""
    if value.tzinfo is None:
        raise ValueError("naive datetime: cityloop stores and passes aware instants only")
    return value.astimezone(LOCAL_TZ)


def _iso_local(value: dt.datetime) -> str:
    return to_local(value).isoformat()


# A datetime that API responses show as ISO 8601 with +08:00.
LocalDatetime: TypeAlias = Annotated[dt.datetime, PlainSerializer(_iso_local, return_type=str)]
