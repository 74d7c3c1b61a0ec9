"""回访率, 满意率, 不满意, 重办率 per department, category, grid, source or period.

Computed from the survey rows (and the 重办 timeline rows they point to) each time, never
kept by hand. Surveys count by their closure's local date; a voided survey (the case was
reopened before the answer) counts nowhere, its case's next closure brings a new one.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any, Final

from tortoise.queryset import QuerySet

from cases import SOURCE_NAMES, Source
from core.export import Cell, cell, render
from core.org.models import Department, Grid
from core.timeutil import LOCAL_TZ, to_local
from survey.const import Answer, SurveyStatus
from survey.models import Survey
from survey.schemas import FigureQuery, FigureRow, FigureTable, Group

NONE_KEY: Final = ""
HEADER: Final = (
    "分组",
    "应回访",
    "已回访",
    "回访中",
    "未回访",
    "满意",
    "基本满意",
    "不满意",
    "重办",
    "回访率",
    "满意率",
    "重办率",
)
_FIELDS: Final = {
    "department": "department_id",
    "category": "category_code",
    "grid": "grid_id",
    "source": "source",
}


async def figures(q: FigureQuery, base: QuerySet[Survey]) -> FigureTable:
    """The figures of the surveys closed in [since, until), grouped by `q.by` (`base`: the
    surveys the caller may see)."""
    query = base.exclude(status__in=[SurveyStatus.VOIDED, SurveyStatus.SCHEDULED])
    if q.since is not None:
        query = query.filter(closed_at__gte=_midnight(q.since))
    if q.until is not None:
        query = query.filter(closed_at__lt=_midnight(q.until))
    rows = await query.values(
        "status", "answer", "reopen_event_id", "closed_at", "category_name", *_FIELDS.values()
    )
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[_key(q.by, row)].append(row)
    names = await _names(q.by, groups, rows)
    out = [_row(key, names.get(key, key) or "未分类", members) for key, members in groups.items()]
    out.sort(key=lambda r: (r.key == NONE_KEY, r.key if q.by in ("month", "day") else r.name))
    return FigureTable(by=q.by, rows=out, total=_row("total", "合计", rows))


def _midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=LOCAL_TZ)


def _key(by: Group, row: Mapping[str, Any]) -> str:
    if by == "month":
        return f"{to_local(row['closed_at']):%Y-%m}"
    if by == "day":
        return f"{to_local(row['closed_at']):%Y-%m-%d}"
    value = row[_FIELDS[by]]
    return NONE_KEY if value is None else str(value)


async def _names(
    by: Group, groups: Mapping[str, object], rows: Iterable[Mapping[str, Any]]
) -> dict[str, str]:
    ids = [int(k) for k in groups if k.isdigit()]
    if by == "department":
        return {str(d.id): d.name for d in await Department.filter(id__in=ids)}
    if by == "grid":
        return {str(g.id): f"{g.name}（{g.code}）" for g in await Grid.filter(id__in=ids)}
    if by == "category":
        return {
            r["category_code"]: r["category_name"] or r["category_code"]
            for r in rows
            if r["category_code"]
        }
    if by == "source":
        return {s.value: SOURCE_NAMES[s] for s in Source}
    return {k: k for k in groups}


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _row(key: str, name: str, rows: Iterable[Mapping[str, Any]]) -> FigureRow:
    count: dict[str, int] = defaultdict(int)
    for r in rows:
        count[r["status"]] += 1
        if r["status"] == SurveyStatus.ANSWERED:
            count[r["answer"]] += 1
            count["reopened"] += r["reopen_event_id"] is not None
    answered = count[SurveyStatus.ANSWERED]
    missed = count[SurveyStatus.EXPIRED] + count[SurveyStatus.UNREACHABLE]
    good = count[Answer.SATISFIED] + count[Answer.BASIC]
    return FigureRow(
        key=key,
        name=name,
        due=answered + missed + count[SurveyStatus.ASKED],
        answered=answered,
        pending=count[SurveyStatus.ASKED],
        missed=missed,
        satisfied=count[Answer.SATISFIED],
        basic=count[Answer.BASIC],
        unsatisfied=count[Answer.UNSATISFIED],
        reopened=count["reopened"],
        callback_rate=_rate(answered, answered + missed),
        satisfaction_rate=_rate(good, answered),
        reopen_rate=_rate(count["reopened"], answered),
    )


def _percent(rate: float | None) -> Cell:
    return "" if rate is None else f"{rate * 100:.2f}%"


def export(table: FigureTable, fmt: str) -> tuple[bytes, str]:
    """The figures as CSV or XLSX (rates as percentages, the total last)."""
    lines: list[list[Cell]] = [
        [
            cell(r.name),
            r.due,
            r.answered,
            r.pending,
            r.missed,
            r.satisfied,
            r.basic,
            r.unsatisfied,
            r.reopened,
            _percent(r.callback_rate),
            _percent(r.satisfaction_rate),
            _percent(r.reopen_rate),
        ]
        for r in [*table.rows, table.total]
    ]
    return render(HEADER, lines, fmt, sheet="回访统计")
