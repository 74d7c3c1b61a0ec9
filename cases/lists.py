"""Case lists at ten million cases: filters, sorts that put empty values last, keyset paging,
a total that is exact where counting is cheap and estimated where it would scan.

A page is asked for by `page` (offset paging, at most MAX_OFFSET rows deep) or by `cursor`,
the `next_cursor` of the page before it (keyset paging: any depth at the cost of page one).
Sorting by a column that may be empty (deadline_at, number) reads in two parts: the rows that
have a value, in order, then the rows that have none, by id. Each part is one index range, on
SQLite and PostgreSQL alike, and the empty rows (closed cases have no deadline) come last in
both directions.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Final

from tortoise.connection import get_connection
from tortoise.expressions import Q
from tortoise.queryset import QuerySet

from cases import public, search
from cases.const import CaseStatus, Light
from cases.deps import Deps
from cases.models import Case
from cases.schemas import CaseFilter, CasePage, CaseQuery
from cases.service import case_out, reads_numbers, shown_case, text_for, visible
from core.auth.const import CITIZEN
from core.auth.service import Principal
from core.errors import ValidationFailed, field_error
from core.timeutil import utc

COUNT_CAP: Final = 10_000  # `total` is exact up to here; beyond, PostgreSQL's estimate
MAX_OFFSET: Final = 10_000  # rows a `page` may skip; deeper pages go by `cursor`


@dataclass(frozen=True, slots=True)
class Sort:
    """A list order: its column, its direction, whether the column may be empty."""

    name: str
    field: str
    descending: bool
    nullable: bool

    def order(self, field: str) -> str:
        return f"-{field}" if self.descending else field

    @classmethod
    def of(cls, sort: str) -> Sort:
        field = sort.lstrip("-")
        return cls(sort, field, sort.startswith("-"), field != "created_at")


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where the page before ended: the sort, its last row's sort value (None: empty) and id."""

    sort: str
    key: str | None
    id: int

    def encode(self) -> str:
        raw = json.dumps([self.sort, self.key, self.id], separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str, sort: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            name, key, row = json.loads(raw)
            if not isinstance(row, int) or not (key is None or isinstance(key, str)):
                raise TypeError(type(row))
            if name == sort and key is not None and Sort.of(sort).field != "number":
                dt.datetime.fromisoformat(key)  # a time column: the key is an instant
        except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as e:
            raise field_error(
                "cursor",
                f"bad cursor ({type(e).__name__})",
                "翻页标记无效，请从第一页重新开始",
                code="bad_cursor",
            ) from e
        if name != sort:
            raise field_error(
                "cursor",
                "cursor of another sort",
                "翻页标记与排序方式不符，请从第一页重新开始",
                code="bad_cursor",
            )
        return cls(name, key, row)


def _key_of(case: Case, sort: Sort) -> str | None:
    value: object = getattr(case, sort.field)
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    return str(value)


def _key_value(sort: Sort, key: str) -> Any:
    return key if sort.field == "number" else dt.datetime.fromisoformat(key)


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


def _after(sort: Sort, cursor: Cursor) -> Q:
    """Rows after the cursor's, in the sort's order, within the part the cursor is in."""
    side = "lt" if sort.descending else "gt"
    if cursor.key is None:
        empty: dict[str, Any] = {f"{sort.field}__isnull": True, f"id__{side}": cursor.id}
        return Q(**empty)
    key = _key_value(sort, cursor.key)
    # One index range (`field <= key`) and the ties on the key broken by id.
    tie: dict[str, Any] = {f"id__{side}": cursor.id}
    return Q(**{f"{sort.field}__{side}e": key}) & (Q(**{f"{sort.field}__{side}": key}) | Q(**tie))


async def _rows(
    query: QuerySet[Case], sort: Sort, cursor: Cursor | None, offset: int, n: int
) -> list[Case]:
    """Up to n rows from the offset or after the cursor: the valued part, then the empty one."""
    valued = query.filter(**{f"{sort.field}__isnull": False}) if sort.nullable else query
    rows: list[Case] = []
    if cursor is None or cursor.key is not None:
        part = valued.filter(_after(sort, cursor)) if cursor else valued
        part = part.order_by(sort.order(sort.field), sort.order("id"))
        rows = list(await part.offset(offset).limit(n))
    if not sort.nullable or len(rows) >= n:
        return rows
    skip = 0
    if cursor is None and offset and not rows:  # the offset ends past the valued part
        skip = offset - await count_upto(valued, cap=offset)
    empty = query.filter(**{f"{sort.field}__isnull": True})
    if cursor is not None and cursor.key is None:
        empty = empty.filter(_after(sort, cursor))
    more = await empty.order_by(sort.order("id")).offset(skip).limit(n - len(rows))
    return rows + list(more)


def _sql(query: Any) -> tuple[str, list[Any]]:  # a QuerySet or one of its values queries
    query._make_query()
    sql, params = query.query.get_parameterized_sql()
    return sql, list(params)


async def count_upto(query: QuerySet[Case], *, cap: int) -> int:
    """How many rows match, counting at most `cap` + 1 of them."""
    sql, params = _sql(query.order_by().limit(cap + 1).values_list("id", flat=True))
    rows = await get_connection("default").execute_query_dict(
        f"SELECT COUNT(*) AS n FROM ({sql}) AS capped",  # noqa: S608  (tortoise's own SQL)
        params,
    )
    return int(rows[0]["n"])


async def _estimate(query: QuerySet[Case]) -> int | None:
    """PostgreSQL's estimate of the rows a query matches (None on SQLite)."""
    connection = get_connection("default")
    if connection.capabilities.dialect != "postgres":
        return None
    sql, params = _sql(query.order_by().values_list("id", flat=True))
    rows = await connection.execute_query_dict(f"EXPLAIN (FORMAT JSON) {sql}", params)
    plan = rows[0]["QUERY PLAN"]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return int(plan[0]["Plan"]["Plan Rows"])


async def total(query: QuerySet[Case]) -> tuple[int, bool]:
    """The total of a list and whether it is exact: counted up to COUNT_CAP, then estimated
    on PostgreSQL (an exact count would read every matching row) and counted on SQLite."""
    counted = await count_upto(query, cap=COUNT_CAP)
    if counted <= COUNT_CAP:
        return counted, True
    estimate = await _estimate(query)
    if estimate is None:
        return await query.count(), True
    return max(estimate, counted), False


def _start(q: CaseQuery, sort: Sort) -> tuple[Cursor | None, int]:
    if q.cursor:
        return Cursor.decode(q.cursor, sort.name), 0
    offset = (q.page - 1) * q.page_size
    if offset > MAX_OFFSET:
        raise field_error(
            "page",
            f"offset {offset} over {MAX_OFFSET}",
            f"只能直接翻到前 {MAX_OFFSET} 条，请用 next_cursor 继续翻页或缩小筛选范围",
            code="page_too_deep",
        )
    return None, offset


async def listing(
    who: Principal, q: CaseFilter, deps: Deps, *, now: dt.datetime
) -> tuple[QuerySet[Case], int, bool]:
    """The cases of a list or an export, unordered, with their total and whether it is exact.

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
        # The estimate was small, yet a word may be common: at most COUNT_CAP + 1 rows
        # counted through the index say so, and then the estimate is known to be wrong.
        found = query(search.Mode.INDEX)
        counted = await count_upto(found, cap=COUNT_CAP)
        if counted > COUNT_CAP:
            return query(search.Mode.SCAN), counted, False
        return found, counted, True
    found = query(search.Mode.INDEX)
    count, exact = await total(found)
    return found, count, exact


async def page(who: Principal, q: CaseQuery, deps: Deps) -> CasePage:
    """One page of the cases the caller may see, with the total and the next page's cursor."""
    now = deps.now()
    sort = Sort.of(q.sort)
    cursor, offset = _start(q, sort)
    query, count, exact = await listing(who, q, deps, now=now)
    rows = await _rows(query, sort, cursor, offset, q.page_size + 1)
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
        next_cursor=Cursor(sort.name, _key_of(last, sort), last.id).encode()
        if more and last
        else None,
    )


async def batches(
    query: QuerySet[Case], sort_name: str, *, size: int = 500, limit: int | None = None
) -> AsyncIterator[list[Case]]:
    """Every row of a filtered query in the list's order, `size` at a time (an export): each
    batch is one index range after the last, so memory stays flat and no batch scans."""
    sort, cursor, left = Sort.of(sort_name), None, limit
    while left is None or left > 0:
        n = size if left is None else min(size, left)
        rows = await _rows(query, sort, cursor, 0, n)
        if rows:
            yield rows
        if len(rows) < n:
            return
        left = None if left is None else left - len(rows)
        cursor = Cursor(sort.name, _key_of(rows[-1], sort), rows[-1].id)
