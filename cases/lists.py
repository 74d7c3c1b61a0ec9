"""Case lists at ten million cases: the filters, the text search's choice between index and
scan, and a total that is exact where counting is cheap and estimated where it would scan
(paging is cases/paging.py's).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Final

from tortoise.connection import get_connection
from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from cases import paging, public, search
from cases.const import CaseStatus, Light
from cases.deps import Deps
from cases.models import Case
from cases.schemas import CaseFilter, CasePage, CaseQuery
from cases.service import case_out, reads_numbers, shown_case, text_for, visible
from core.auth.const import CITIZEN
from core.auth.service import Principal
from core.errors import ValidationFailed
from core.timeutil import utc

COUNT_CAP: Final = 10_000  # `total` is exact up to here; beyond, PostgreSQL's estimate
# A phrase of several bigrams is first looked for among the list's newest SAMPLE cases: held
# by COMMON of them or more, it is read along the list's order (a page is near the top).
SAMPLE: Final = 10_000
COMMON: Final = 25
MAX_OFFSET: Final = 10_000  # rows a `page` may skip; deeper pages go by `cursor`


def _light_filter(light: Light, at: dt.datetime) -> Q:
    now = utc(at)
    if light == Light.RED:
        return Q(deadline_at__lt=now)
    if light == Light.YELLOW:
        return Q(warn_at__lte=now, deadline_at__gte=now)
    if light == Light.GREEN:
        return Q(warn_at__gt=now)
    return Q(deadline_at__isnull=True)


def _statuses(q: CaseFilter) -> list[str]:
    statuses = q.status if isinstance(q.status, list) else str(q.status).split(",")
    unknown = [s for s in statuses if s not in CaseStatus.__members__.values()]
    if unknown:
        raise ValidationFailed(
            f"{len(unknown)} unknown status value(s)",  # the field, never the value
            message="状态取值不正确",
            extra={"fields": [{"field": "status", "message": "取值不正确"}]},
        )
    return statuses


def filtered(
    query: QuerySet[Case],
    q: CaseFilter,
    deps: Deps,
    *,
    now: dt.datetime,
    numbers: bool,
    text: search.Mode = search.Mode.INDEX,
) -> QuerySet[Case]:
    """Apply the filters of a list or an export (not its order); `numbers` is whether the
    reader sees typed-in phone and 身份证 numbers unmasked (a reader who does not cannot find
    them by searching either); `text` is search.matching's `mode`."""
    if q.status:
        query = query.filter(status__in=_statuses(q))
    if q.light is not None:
        query = query.filter(_light_filter(q.light, now))
    equal = {
        "category_code": q.category,
        "department_id": q.department_id,
        "grid_id": q.grid_id,
        "street_id": q.street_id,
        "source": q.source,
    }
    query = query.filter(**{k: v for k, v in equal.items() if v is not None})
    if q.created_from is not None:
        query = query.filter(created_at__gte=utc(q.created_from))
    if q.created_to is not None:
        query = query.filter(created_at__lt=utc(q.created_to))
    if q.overdue is not None:
        late = Q(deadline_at__lt=utc(now))
        if q.overdue:
            query = query.filter(Q(overdue=True) | late)
        else:  # spelled out: NOT (… OR deadline_at < now) is NULL for a case with no deadline
            query = query.filter(Q(overdue=False), Q(deadline_at__isnull=True) | ~late)
    if q.q and q.q.strip():
        workflow = deps.policy.workflow
        chars = search.number_chars(workflow.case_number, deps.policy.city_code)
        query = search.matching(query, q.q.strip(), numbers=numbers, number_chars=chars, mode=text)
    return query


async def _estimate(query: QuerySet[Case]) -> int | None:
    """PostgreSQL's estimate of the rows a query matches (None on SQLite)."""
    connection = get_connection("default")
    if connection.capabilities.dialect != "postgres":
        return None
    sql, params = paging.sql_of(query.order_by().values_list("id", flat=True))
    rows = await connection.execute_query_dict(f"EXPLAIN (FORMAT JSON) {sql}", params)
    plan = rows[0]["QUERY PLAN"]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return int(plan[0]["Plan"]["Plan Rows"])


async def total(query: QuerySet[Case]) -> tuple[int, bool]:
    """The total of a list and whether it is exact: counted up to COUNT_CAP, then estimated
    on PostgreSQL (an exact count would read every matching row) and counted on SQLite."""
    counted = await paging.count_upto(query, cap=COUNT_CAP)
    if counted <= COUNT_CAP:
        return counted, True
    estimate = await _estimate(query)
    if estimate is None:
        return await query.count(), True
    return max(estimate, counted), False


async def listing(
    who: Principal, q: CaseFilter, deps: Deps, *, now: dt.datetime, counted: bool = True
) -> tuple[QuerySet[Case], int, bool]:
    """The cases of a list or an export, unordered, with their total and whether it is exact
    (an export, `counted=False`, gets 0 and false unless a search needed the count anyway).

    A search for a common word (PostgreSQL's estimate of the cases holding its bigrams is
    past COUNT_CAP, or the capped count reaches it) is read without the bigram index, and its
    total is the estimate: counting would read every match.
    """
    numbers = reads_numbers(who)

    def query(text: search.Mode) -> QuerySet[Case]:
        return filtered(visible(who), q, deps, now=now, numbers=numbers, text=text)

    if q.q and search.indexable(q.q.strip()):
        guess = await _estimate(query(search.Mode.PROBE))
        if guess is not None and guess > COUNT_CAP:
            return query(search.Mode.SCAN), guess, False
        if len(search.bigrams(q.q.strip())) > 1:
            # PostgreSQL takes a phrase's bigrams for independent and guesses a handful of
            # rows where there are tens of thousands (小区门口垃圾满溢: 1 for 62,000); the
            # newest cases say better.
            common = await _common_phrase(who, q, deps, now=now, numbers=numbers)
            if common is not None:
                return query(search.Mode.SCAN), *common
        # The estimate was small, yet a word may be common: at most COUNT_CAP + 1 rows
        # counted through the index say so, and then the estimate is known to be wrong.
        found = query(search.Mode.INDEX)
        matches = await paging.count_upto(found, cap=COUNT_CAP)
        if matches > COUNT_CAP:
            return query(search.Mode.SCAN), matches, False
        return found, matches, True
    found = query(search.Mode.INDEX)
    if not counted:
        return found, 0, False
    count, exact = await total(found)
    return found, count, exact


async def _common_phrase(
    who: Principal, q: CaseFilter, deps: Deps, *, now: dt.datetime, numbers: bool
) -> tuple[int, bool] | None:
    """(total, exact) of a search whose text COMMON or more of the list's newest SAMPLE cases
    hold, the total scaled up from them (exact when the list has no more cases than that);
    None for a rarer text (then the bigram index finds it and counts it)."""
    text = (q.q or "").strip()
    chars = search.number_chars(deps.policy.workflow.case_number, deps.policy.city_code)
    words, number = search.sides(text, numbers=numbers, number_chars=chars)
    hit = search.condition(text, words=words, number=number, mode=search.Mode.SCAN)
    unsearched = filtered(
        visible(who), q.model_copy(update={"q": None}), deps, now=now, numbers=numbers
    )
    columns = ("description", "address", "number")
    newest = unsearched.order_by("-created_at").limit(SAMPLE).values(*columns)
    sql, params = paging.sql_of(newest)
    rows = await get_connection("default").execute_query_dict(
        # The sample is named "case" so that the search's own condition reads its columns.
        f'SELECT COUNT(*) AS n, COUNT(*) FILTER (WHERE {hit}) AS hits FROM ({sql}) AS "case"',  # noqa: S608
        params,
    )
    n, hits = int(rows[0]["n"]), int(rows[0]["hits"])
    if n < SAMPLE:
        return (hits, True) if hits >= COMMON else None
    if hits < COMMON:
        return None
    listed = max(await _estimate(unsearched) or n, n)  # it holds n at least
    return max(hits, round(hits / n * listed)), False


async def page(who: Principal, q: CaseQuery, deps: Deps) -> CasePage:
    """One page of the cases the caller may see, with the total and the next page's cursor."""
    now = deps.now()
    sort = paging.Sort.of(q.sort)
    cursor, offset = paging.start(q, sort)
    query, count, exact = await listing(who, q, deps, now=now)
    rows = await paging.read(query, sort, cursor, offset, q.page_size + 1)
    more, rows = len(rows) > q.page_size, rows[: q.page_size]
    text = text_for(who)
    items = [shown_case(case_out(c, deps, now), text) for c in rows]
    if who.kind == CITIZEN:
        mine = await public.own_reports(who.person, [c.id for c in rows])
        items = [public.case_for_citizen(i, mine.get(i.id, ("", set()))[0]) for i in items]
    last = rows[-1] if rows else None
    return CasePage(
        items=items,
        total=count,
        total_exact=exact,
        page=q.page,
        page_size=q.page_size,
        next_cursor=paging.Cursor(sort.name, paging.key_of(last, sort), last.id).encode()
        if more and last
        else None,
    )
