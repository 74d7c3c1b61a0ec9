"""Is a report new? Its idempotency key, an open case near its point, in one statement.

Every report asks the database three things before it writes: was this (source, key) filed
already (a retried request), is an open case of the same category within the merge radius
(a second report of the same problem), and, on PostgreSQL, the ids that a new case, its report
and its first timeline rows will take (cases/journal.py writes them all in one statement). One
UNION ALL asks them in one round trip, inside intake's transaction (hand-written: core/rows.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from cases.catalog import Category
from cases.const import OPEN_STATUSES
from cases.deps import Deps
from cases.journal import EVENTS, Ids
from cases.models import Case
from cases.schemas import IntakeDraft
from core import rows
from core.geo import distance_m
from core.org.service import Place

_OPEN = sorted(OPEN_STATUSES)
_BY_KEY = (
    'SELECT \'report\' AS "what", "id", NULL AS "lon", NULL AS "lat" FROM "case_report" '
    'WHERE "source" = $1 AND "idempotency_key" = $2'
)


def _near(first: int) -> str:
    """Open cases of a category in a box around a point (index case_category_lat)."""
    n = [f"${i}" for i in range(first, first + 6 + len(_OPEN))]
    return (
        f' UNION ALL SELECT \'case\', "id", "lon", "lat" FROM "case" WHERE "category_code" = {n[0]}'  # noqa: S608
        f' AND "lat" BETWEEN {n[1]} AND {n[2]} AND "lon" BETWEEN {n[3]} AND {n[4]}'
        f' AND "created_at" >= {n[5]} AND "status" IN ({",".join(n[6:])})'
    )


_IDS = (
    " UNION ALL SELECT 'case_id', nextval(pg_get_serial_sequence('\"case\"', 'id')), NULL, NULL"  # noqa: S608
    " UNION ALL SELECT 'report_id', nextval(pg_get_serial_sequence('\"case_report\"', 'id')),"
    " NULL, NULL UNION ALL SELECT 'event_id', nextval(pg_get_serial_sequence('\"case_event\"', "
    f"'id')), NULL, NULL FROM generate_series(1, {EVENTS})"
)


@dataclass(frozen=True)
class Seen:
    """What the database knows of a report before it is written."""

    report_id: int | None  # the report filed under this (source, key) already
    near: list[tuple[float, int]]  # (metres, case id) of open cases within the merge radius
    ids: Ids | None  # taken for a new case (None on SQLite: the journal takes them)
    live: dict[int, bool]  # of the departments asked about: still taking cases

    def duplicate_of(self) -> int | None:
        """The nearest open case (the older of two as near): the one a report joins."""
        return min(self.near)[1] if self.near else None


async def look(
    draft: IntakeDraft,
    category: Category | None,
    place: Place | None,
    deps: Deps,
    now: dt.datetime,
    departments: list[int],
) -> Seen:
    """Ask them at once (the duplicate search where the category merges reports), and
    which of these departments (those an automatic 派遣 may pick) are still live."""
    sql = _BY_KEY
    values: list[Any] = [draft.source.value, draft.idempotency_key]
    rules = deps.policy.for_category(category.code) if category else None
    radius = rules.duplicate_radius_m if rules and rules.duplicate_window_h > 0 else 0
    if category is not None and place is not None and radius > 0 and rules is not None:
        dlat = radius / 111_000
        dlon = dlat * 2  # generous below 60° latitude
        since = now - dt.timedelta(hours=rules.duplicate_window_h)
        sql += _near(len(values) + 1)
        values += [category.code, place.lat - dlat, place.lat + dlat]
        values += [place.lon - dlon, place.lon + dlon, rows.param(Case, "created_at", since)]
        values += _OPEN
    if departments:
        marks = ",".join(
            f"${i}" for i in range(len(values) + 1, len(values) + 1 + len(departments))
        )
        sql += (
            ' UNION ALL SELECT \'department\', "id", NULL, NULL FROM "department" '  # noqa: S608
            f'WHERE "id" IN ({marks}) AND "retired_at" IS NULL'
        )
        values += departments
    postgres = rows.dialect(Case) == "postgres"
    found = await rows.select(Case, sql + (_IDS if postgres else ""), values)
    return _seen(found, place, radius, departments)


def _seen(
    found: list[dict[str, Any]], place: Place | None, radius: float, departments: list[int]
) -> Seen:
    by: dict[str, list[dict[str, Any]]] = {}
    for row in found:
        by.setdefault(str(row["what"]), []).append(row)
    near = []
    if place is not None:
        for c in by.get("case", []):
            if c["lon"] is None or c["lat"] is None:
                continue
            metres = distance_m(place.lon, place.lat, float(c["lon"]), float(c["lat"]))
            if metres <= radius:
                near.append((metres, int(c["id"])))
    ids = None
    if "case_id" in by:
        events = tuple(sorted(int(e["id"]) for e in by["event_id"]))
        ids = Ids(int(by["case_id"][0]["id"]), int(by["report_id"][0]["id"]), events)
    report = by.get("report")
    live = {int(d["id"]) for d in by.get("department", [])}
    known = {d: d in live for d in departments}
    return Seen(int(report[0]["id"]) if report else None, near, ids, known)
