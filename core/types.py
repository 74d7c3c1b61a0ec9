"""Input types shared by the APIs: ids that fit their columns, instants in a sane range."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, TypeAlias

from pydantic import AfterValidator, AwareDatetime, Field

# A row id of an INTEGER (32-bit) column; anything larger cannot exist and would overflow.
Id: TypeAlias = Annotated[int, Field(ge=1, le=2_147_483_647)]
# A row id of a BIGINT column.
BigId: TypeAlias = Annotated[int, Field(ge=1, le=9_223_372_036_854_775_807)]
# Route patterns for the same: at most 9 and 18 digits.
ID_ROUTE = r"\d{1,9}"
BIGID_ROUTE = r"\d{1,18}"


def _plausible(value: dt.datetime) -> dt.datetime:
    try:
        year = value.astimezone(dt.UTC).year
    except OverflowError as err:  # year 1 at +14:00 has no UTC: still just a bad input
        raise ValueError("must be between the years 2000 and 2100") from err
    if not 2000 <= year <= 2100:
        raise ValueError("must be between the years 2000 and 2100")
    return value


# An aware instant between 2000 and 2100 (what a report or filter can mean).
Instant: TypeAlias = Annotated[AwareDatetime, AfterValidator(_plausible)]


_CONTROL = frozenset(chr(c) for c in range(32)) - {"\t", "\n", "\r"} | {"\x7f"}


def _printable(value: str) -> str:
    if any(ch in _CONTROL for ch in value):
        raise ValueError("must not contain control characters (NUL and the like)")
    return value


# Text a person typed, as it may be stored: PostgreSQL refuses NUL in text columns (SQLite
# keeps it), and no other control character but tab and newline is anything a person typed.
Text: TypeAlias = Annotated[str, AfterValidator(_printable)]
