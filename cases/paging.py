"""Paging a case list: offset pages at most MAX_OFFSET rows deep, keyset pages (`cursor`) at
any depth for the cost of the first.

Sorting by a column that may be empty (deadline_at, number) reads in two parts: the rows that
have a value, in order, then the rows that have none, by id. Each part is one index range, on
SQLite and PostgreSQL alike, and the empty rows (closed cases have no deadline) come last in
both directions. Ties on the sort column are broken by the id, in the sort's direction.
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

from cases.models import Case
from cases.schemas import CaseQuery
from core.errors import field_error

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
            if type(row) is not int or not 0 < row < 2**63 or not isinstance(key, str | None):
                raise TypeError(type(row))
            timed = name == sort and key is not None and Sort.of(sort).field != "number"
            if (
                timed and key and dt.datetime.fromisoformat(key).tzinfo is None
            ):  # an instant, or bad
                raise ValueError("naive instant")
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


def key_of(case: Case, sort: Sort) -> str | None:
    value: object = getattr(case, sort.field)
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    return str(value)


def _key_value(sort: Sort, key: str) -> Any:
    return key if sort.field == "number" else dt.datetime.fromisoformat(key)


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


async def read(
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


def sql_of(query: Any) -> tuple[str, list[Any]]:  # a QuerySet or one of its values queries
    query._make_query()
    sql, params = query.query.get_parameterized_sql()
    return sql, list(params)


async def count_upto(query: QuerySet[Case], *, cap: int) -> int:
    """How many rows match, counting at most `cap` + 1 of them."""
    sql, params = sql_of(query.order_by().limit(cap + 1).values_list("id", flat=True))
    rows = await get_connection("default").execute_query_dict(
        f"SELECT COUNT(*) AS n FROM ({sql}) AS capped",  # noqa: S608  (tortoise's own SQL)
        params,
    )
    return int(rows[0]["n"])


def start(q: CaseQuery, sort: Sort) -> tuple[Cursor | None, int]:
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


async def batches(
    query: QuerySet[Case], sort_name: str, *, size: int = 500, limit: int | None = None
) -> AsyncIterator[list[Case]]:
    """Every row of a filtered query in the list's order, `size` at a time (an export): each
    batch is one index range after the last, so memory stays flat and no batch scans."""
    sort, cursor, left = Sort.of(sort_name), None, limit
    while left is None or left > 0:
        n = size if left is None else min(size, left)
        rows = await read(query, sort, cursor, 0, n)
        if rows:
            yield rows
        if len(rows) < n:
            return
        left = None if left is None else left - len(rows)
        cursor = Cursor(sort.name, key_of(rows[-1], sort), rows[-1].id)
