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
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.fields.base import DatabaseDefault
from tortoise.models import Model

__all__ = ["allocate_ids", "dialect", "insert", "param", "select"]


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
    return f'INSERT INTO "{table}" ({names}) VALUES {",".join(tuples)} RETURNING "id"'  # noqa: S608


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


async def insert(rows: Sequence[Model]) -> None:
    """INSERT these new rows of one model in one statement; set the ids the database chose.

    Rows either all carry their id (from `allocate_ids`) or none does. Auto-now fields get the
    time of this call, as `Model.save` would give them.
    """
    if not rows:
        return
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
    db = _connection(model)
    sql = _insert_sql(model._meta.db_table, tuple(c for _, c in columns), len(rows), _dialect(db))
    returned = await db.execute_query_dict(sql, values)
    # RETURNING's order is not promised (SQLite says so); ids are handed out in VALUES order.
    ids = sorted(int(r["id"]) for r in returned)
    if len(ids) != len(rows):
        raise RuntimeError(f"{model._meta.db_table}: {len(ids)} ids for {len(rows)} rows")
    for row, id_ in zip(rows, ids, strict=True):
        setattr(row, pk, id_)
        row._saved_in_db = True


async def allocate_ids(*models: type[Model]) -> list[int]:
    """Take the next id of each model's table now, in one statement, inside the transaction.

    PostgreSQL: `nextval` of each serial (never handed out twice, a rollback leaves a gap).
    SQLite: the AUTOINCREMENT counter in `sqlite_sequence`, moved under the write lock that
    the UPDATE takes, so two processes never get the same id (a rollback gives it back).
    """
    db = _connection(models[0])
    tables = [m._meta.db_table for m in models]
    if _dialect(db) == "postgres":
        picks = ",".join(
            f"nextval(pg_get_serial_sequence('\"{t}\"','id')) AS n{i}" for i, t in enumerate(tables)
        )
        (row,) = await db.execute_query_dict(f"SELECT {picks}")
        return [int(row[f"n{i}"]) for i in range(len(tables))]
    return [await _sqlite_next(db, t) for t in tables]


# A model's table name goes in; the value is a parameter.
_SQLITE_SEED = (
    'INSERT INTO sqlite_sequence (name, seq) SELECT ?, COALESCE(MAX(id), 0) FROM "{table}"'
)


async def _sqlite_next(db: BaseDBAsyncClient, table: str) -> int:
    bump = "UPDATE sqlite_sequence SET seq = seq + 1 WHERE name = ? RETURNING seq"
    rows = await db.execute_query_dict(bump, [table])
    if not rows:
        # The table never had a row: its counter starts from what is there (nothing, or rows
        # written with explicit ids).
        seed = _SQLITE_SEED.format(table=table)
        await db.execute_query(seed, [table])
        rows = await db.execute_query_dict(bump, [table])
    return int(rows[0]["seq"])
