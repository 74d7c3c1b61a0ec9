"""Rows written by hand on the hot path: several rows of a model in one INSERT, ids ahead.

The ORM builds each statement anew (pypika) and sends one per row; on intake that was half of
the server's time. These helpers send one statement for many rows of a model, through the
caller's transaction (the model's current connection), with the values converted exactly as
the ORM converts them (each field's `to_db_value`, so SQLite's datetime text and the JSON
columns are what tortoise itself writes and reads back).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from typing import Any, TypeVar

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.fields.base import DatabaseDefault
from tortoise.models import Model

__all__ = ["Together", "dialect", "insert", "loaded", "param", "select", "write"]

MODEL = TypeVar("MODEL", bound=Model)


def connection(model: type[Model]) -> BaseDBAsyncClient:
    # The transaction's connection when one is open (tortoise keeps it in a ContextVar).
    return model._meta.db


def dialect_of(db: BaseDBAsyncClient) -> str:
    """The dialect of a connection: postgres or sqlite."""
    return str(db.capabilities.dialect)


def dialect(model: type[Model]) -> str:
    """The dialect of the model's connection: postgres or sqlite."""
    return dialect_of(connection(model))


_PLACEHOLDER = re.compile(r"\$(\d+)")


@lru_cache(maxsize=256)
def _fordialect_of(sql: str, dialect: str) -> str:
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
    db = connection(model)
    return list(await db.execute_query_dict(_fordialect_of(sql, dialect_of(db)), list(values)))


async def write(model: type[Model], sql: str, values: Sequence[Any] = ()) -> list[dict[str, Any]]:
    """Run an INSERT/UPDATE written with $1, $2, … (and its RETURNING) on the model's current
    connection; what RETURNING gave, as dicts."""
    return await select(model, sql, values)


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

    Rows either all carry their id (from core.ids.allocate) or none does. Auto-now fields get the
    time of this call, as `Model.save` would give them.
    """
    if not rows:
        return
    model, columns, values = _values(rows)
    db = connection(model)
    sql = _insert_sql(model._meta.db_table, tuple(c for _, c in columns), len(rows), dialect_of(db))
    _took_ids(rows, await db.execute_query_dict(sql, values))


class Together:
    """INSERTs that belong together, sent as one statement on PostgreSQL (each a data-modifying
    CTE: foreign keys are checked at the statement's end, so a row may refer to one written
    beside it) and one after another, in the order given, on SQLite. Inside a transaction.
    """

    def __init__(self, model: type[Model]) -> None:
        self._db = connection(model)
        self._postgres = dialect_of(self._db) == "postgres"
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
                    got = await self._db.execute_query_dict(_fordialect_of(sql, "sqlite"), values)
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
