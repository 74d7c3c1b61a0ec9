"""Rows written by hand on the hot path: several rows of a model in one INSERT, ids ahead.

The ORM builds each statement anew (pypika) and sends one per row; on intake that was half of
the server's time. These helpers send one statement for many rows of a model, through the
caller's transaction (the model's current connection), with the values converted exactly as
the ORM converts them (each field's `to_db_value`, so SQLite's datetime text and the JSON
columns are what tortoise itself writes and reads back).
"""

from __future__ import annotations

import re
import weakref
from collections import deque
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any, TypeVar

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.fields.base import DatabaseDefault
from tortoise.models import Model
from tortoise.transactions import in_transaction

__all__ = ["Together", "allocate", "dialect", "insert", "loaded", "param", "reserve", "select"]

MODEL = TypeVar("MODEL", bound=Model)


def _connection(model: type[Model]) -> BaseDBAsyncClient:
    # The transaction's connection when one is open (tortoise keeps it in a ContextVar).
    return model._meta.db


def _dialect(db: BaseDBAsyncClient) -> str:
    return str(db.capabilities.dialect)


def dialect(model: type[Model]) -> str:
    """The dialect of the model's connection: postgres or sqlite."""
    return _dialect(_connection(model))


_PLACEHOLDER = re.compile(r"\$(\d+)")


@lru_cache(maxsize=256)
def _for_dialect(sql: str, dialect: str) -> str:
    if dialect == "postgres":
        return sql
    numbers = [int(n) for n in _PLACEHOLDER.findall(sql)]
    if numbers != list(range(1, len(numbers) + 1)):
        raise ValueError("write $1, $2, … once each and in order (SQLite's ? are positional)")
    return _PLACEHOLDER.sub("?", sql)


def param(model: type[Model], field: str, value: Any) -> Any:
    """A value as the ORM sends it for this field (SQLite compares datetimes as text)."""
    return model._meta.fields_map[field].to_db_value(value, model)


async def select(model: type[Model], sql: str, values: Sequence[Any] = ()) -> list[dict[str, Any]]:
    """Run a SELECT written with $1, $2, … on the model's current connection; rows as dicts.

    Values go through `param` where the column is a datetime, a JSON or an enum (the ORM's
    conversions); the columns come back as the driver gives them.
    """
    db = _connection(model)
    return list(await db.execute_query_dict(_for_dialect(sql, _dialect(db)), list(values)))


def loaded(model: type[MODEL], row: dict[str, Any]) -> MODEL:
    """A model instance from a row of all its columns (as the ORM builds one from a SELECT,
    with each dialect's conversions)."""
    return model._init_from_db(**row)


@lru_cache(maxsize=256)
def _insert_sql(table: str, columns: tuple[str, ...], rows: int, dialect: str) -> str:
    width = len(columns)
    if dialect == "postgres":
        tuples = (
            "(" + ",".join(f"${r * width + c + 1}" for c in range(width)) + ")" for r in range(rows)
        )
    else:
        one = "(" + ",".join("?" * width) + ")"
        tuples = (one for _ in range(rows))
    names = ",".join(f'"{c}"' for c in columns)
    # Table and column names come from the models, every value is a parameter.
    return f'INSERT INTO "{table}" ({names}) VALUES {",".join(tuples)} RETURNING "id"'


@lru_cache(maxsize=64)
def _columns(model: type[Model], with_id: bool) -> tuple[tuple[str, str], ...]:
    """(field name, column) of every stored column, the generated id only when given."""
    meta = model._meta
    out = []
    for name in meta.fields_db_projection:
        field = meta.fields_map[name]
        if field.pk and not with_id:
            continue
        out.append((name, meta.fields_db_projection[name]))
    return tuple(out)


def _values(rows: Sequence[Model]) -> tuple[type[Model], tuple[tuple[str, str], ...], list[Any]]:
    """The model, its columns and the converted values of new rows of one model."""
    model = type(rows[0])
    if any(type(r) is not model for r in rows):
        raise TypeError("insert takes rows of one model")
    pk = model._meta.pk_attr
    given = [getattr(r, pk) is not None for r in rows]
    if any(given) and not all(given):
        raise ValueError("either every row has its id or none has")
    columns = _columns(model, with_id=all(given))
    fields = model._meta.fields_map
    values: list[Any] = []
    for row in rows:
        for name, _ in columns:
            value = getattr(row, name)
            if isinstance(value, DatabaseDefault):
                raise ValueError(f"{model.__name__}.{name}: set a value (no database default here)")
            values.append(fields[name].to_db_value(value, row))
    return model, columns, values


def _took_ids(rows: Sequence[Model], returned: Sequence[dict[str, Any]]) -> None:
    """Set the ids the database chose (or confirm the given ones) on the rows."""
    model = type(rows[0])
    # RETURNING's order is not promised (SQLite says so); ids are handed out in VALUES order.
    ids = sorted(int(r["id"]) for r in returned)
    if len(ids) != len(rows):
        raise RuntimeError(f"{model._meta.db_table}: {len(ids)} ids for {len(rows)} rows")
    for row, id_ in zip(rows, ids, strict=True):
        setattr(row, model._meta.pk_attr, id_)
        row._saved_in_db = True


async def insert(rows: Sequence[Model]) -> None:
    """INSERT these new rows of one model in one statement; set the ids the database chose.

    Rows either all carry their id (from `allocate`) or none does. Auto-now fields get the
    time of this call, as `Model.save` would give them.
    """
    if not rows:
        return
    model, columns, values = _values(rows)
    db = _connection(model)
    sql = _insert_sql(model._meta.db_table, tuple(c for _, c in columns), len(rows), _dialect(db))
    _took_ids(rows, await db.execute_query_dict(sql, values))


class Together:
    """INSERTs that belong together, sent as one statement on PostgreSQL (each a data-modifying
    CTE: foreign keys are checked at the statement's end, so a row may refer to one written
    beside it) and one after another, in the order given, on SQLite. Inside a transaction.
    """

    def __init__(self, model: type[Model]) -> None:
        self._db = _connection(model)
        self._postgres = _dialect(self._db) == "postgres"
        self._parts: list[tuple[str, list[Any], Sequence[Model] | None]] = []

    def rows(self, rows: Sequence[Model]) -> int:
        """New rows of one model (values taken now: auto-now fields get this time)."""
        if not rows:
            return self.sql("", [])
        model, columns, values = _values(rows)
        dialect = "postgres" if self._postgres else "sqlite"
        sql = _insert_sql(model._meta.db_table, tuple(c for _, c in columns), len(rows), dialect)
        return self._add(sql, values, rows)

    def sql(self, sql: str, values: list[Any]) -> int:
        """A hand-written INSERT (with $1, $2, … and its own RETURNING); return its part number."""
        return self._add(sql, values, None)

    def _add(self, sql: str, values: list[Any], rows: Sequence[Model] | None) -> int:
        self._parts.append((sql, values, rows))
        return len(self._parts) - 1

    async def send(self) -> list[list[Any]]:
        """Write every part; return the values each part's RETURNING gave, by part number."""
        out: list[list[Any]] = [[] for _ in self._parts]
        if self._postgres:
            for row in await self._db.execute_query_dict(*self._statement()):
                out[int(row["part"])].append(row["value"])
        else:
            for n, (sql, values, _) in enumerate(self._parts):
                if sql:
                    got = await self._db.execute_query_dict(_for_dialect(sql, "sqlite"), values)
                    out[n] = [next(iter(r.values())) for r in got]
        for (_, _, rows), returned in zip(self._parts, out, strict=True):
            if rows:
                _took_ids(rows, [{"id": v} for v in returned])
        return out

    def _statement(self) -> tuple[str, list[Any]]:
        ctes: list[str] = []
        picks: list[str] = []
        values: list[Any] = []
        for n, (sql, part_values, _) in enumerate(self._parts):
            if not sql:
                continue
            offset = len(values)
            ctes.append(f"p{n} AS ({_shifted(sql, offset)})")
            values += part_values
            column = _RETURNING.search(sql)
            if column:
                picks.append(f'SELECT {n} AS "part", {column[1]}::bigint AS "value" FROM p{n}')
        select = " UNION ALL ".join(picks) or "SELECT NULL AS part, NULL AS value WHERE false"
        return f"WITH {', '.join(ctes)} {select}", values


@lru_cache(maxsize=512)
def _shifted(sql: str, offset: int) -> str:
    """The statement with $1, $2, … moved up by offset (its place in the joint statement)."""
    return _PLACEHOLDER.sub(lambda m: f"${int(m[1]) + offset}", sql)


_RETURNING = re.compile(r'RETURNING ("\w+")\s*$')


async def allocate(wanted: Mapping[type[Model], int]) -> dict[type[Model], list[int]]:
    """Take the next ids of each model's table now, in one statement, inside the transaction.

    PostgreSQL: `nextval` of each serial (never handed out twice, a rollback leaves a gap).
    SQLite: ids `reserve` set aside for this process, else the AUTOINCREMENT counter in
    `sqlite_sequence`, moved under the write lock that the UPDATE takes, so two processes
    never get the same id (a rollback gives them back).
    Ids go to rows in the order handed out, so that the table's order is the writing order.
    """
    models = [m for m, n in wanted.items() if n > 0]
    db = _connection(models[0])
    if _dialect(db) == "postgres":
        sql = " UNION ALL ".join(
            f"SELECT {i} AS m, nextval(pg_get_serial_sequence('\"{m._meta.db_table}\"','id')) AS id"
            f" FROM generate_series(1, {int(wanted[m])})"
            for i, m in enumerate(models)
        )
        got: dict[type[Model], list[int]] = {m: [] for m in models}
        for row in await db.execute_query_dict(sql):
            got[models[int(row["m"])]].append(int(row["id"]))
        return {m: sorted(ids) for m, ids in got.items()}
    kept = _RESERVED.setdefault(_client(db), {})
    if all(len(kept.get(m._meta.db_table, ())) >= wanted[m] for m in models):
        return {m: _take(kept[m._meta.db_table], wanted[m]) for m in models}
    return await _sqlite_allocate(db, {m._meta.db_table: (m, int(wanted[m])) for m in models})


# SQLite: ids this process set aside, per database client and table (a client that is closed
# and opened again, as the tests do, starts with none).
_RESERVED: weakref.WeakKeyDictionary[Any, dict[str, deque[int]]] = weakref.WeakKeyDictionary()
RESERVE_BLOCK = 64


def _client(db: BaseDBAsyncClient) -> Any:
    return getattr(db, "_parent", db)  # a transaction's wrapper: the client it belongs to


def _take(ids: deque[int], n: int) -> list[int]:
    return [ids.popleft() for _ in range(n)]


async def reserve(wanted: Mapping[type[Model], int]) -> None:
    """SQLite: make sure this process holds ids for `wanted` rows, outside any transaction
    (call it before one: inside, SQLite's one connection has no room for another). A block
    is set aside in a transaction of its own, committed at once: `allocate` then takes ids
    without a statement, and ids a rolled-back request took are never handed out again.
    PostgreSQL: nothing to do (`nextval` costs nothing extra where it is asked with others).
    """
    models = [m for m, n in wanted.items() if n > 0]
    db = _connection(models[0])
    if _dialect(db) == "postgres":
        return
    kept = _RESERVED.setdefault(_client(db), {})
    # Enough for RESERVE_BLOCK more of the same, for each table that runs short.
    short = {
        m._meta.db_table: (m, RESERVE_BLOCK * wanted[m])
        for m in models
        if len(kept.get(m._meta.db_table, ())) < wanted[m]
    }
    if not short:
        return
    async with in_transaction(db.connection_name):
        got = await _sqlite_allocate(_connection(models[0]), short)
    for model, ids in got.items():
        kept.setdefault(model._meta.db_table, deque()).extend(ids)


# A model's table name goes in; the value is a parameter.
_SQLITE_SEED = (
    'INSERT INTO sqlite_sequence (name, seq) SELECT ?, COALESCE(MAX(id), 0) FROM "{table}"'
)


async def _sqlite_allocate(
    db: BaseDBAsyncClient, wanted: dict[str, tuple[type[Model], int]]
) -> dict[type[Model], list[int]]:
    tops = await _sqlite_bump(db, {t: n for t, (_, n) in wanted.items()})
    return {model: _range(tops[t], n) for t, (model, n) in wanted.items()}


async def _sqlite_bump(db: BaseDBAsyncClient, wanted: dict[str, int]) -> dict[str, int]:
    """Move each table's counter by its count; return where each now stands."""
    steps = " ".join(f"WHEN '{t}' THEN {n}" for t, n in wanted.items())
    marks = ",".join("?" * len(wanted))
    bump = (
        f"UPDATE sqlite_sequence SET seq = seq + CASE name {steps} END "
        f"WHERE name IN ({marks}) RETURNING name, seq"
    )
    tops = {str(r["name"]): int(r["seq"]) for r in await db.execute_query_dict(bump, list(wanted))}
    missing = {t: n for t, n in wanted.items() if t not in tops}
    if missing:
        # A table that never had a row: its counter starts from what is there (nothing, or
        # rows written with explicit ids); the same UPDATE then moves it.
        for table in sorted(missing):
            await db.execute_query(_SQLITE_SEED.format(table=table), [table])
        tops |= await _sqlite_bump(db, missing)
    return tops


def _range(top: int, n: int) -> list[int]:
    return list(range(top - n + 1, top + 1))
