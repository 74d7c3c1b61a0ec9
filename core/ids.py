"""Ids taken ahead of the INSERT: a case numbered in the statement that writes it.

PostgreSQL: `nextval` of each serial. SQLite: the AUTOINCREMENT counter in `sqlite_sequence`,
and blocks of ids this process sets aside ahead (`reserve`), so that taking them inside a
transaction costs no statement (SQLite's one connection makes every statement count there).
"""

from __future__ import annotations

import weakref
from collections import deque
from collections.abc import Mapping
from typing import Any

from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.models import Model
from tortoise.transactions import in_transaction

from core.rows import connection, dialect_of

__all__ = ["RESERVE_BLOCK", "allocate", "reserve"]


async def allocate(wanted: Mapping[type[Model], int]) -> dict[type[Model], list[int]]:
    """Take the next ids of each model's table now, in one statement, inside the transaction.

    PostgreSQL: `nextval` of each serial (never handed out twice, a rollback leaves a gap).
    SQLite: ids `reserve` set aside for this process, else the AUTOINCREMENT counter in
    `sqlite_sequence`, moved under the write lock that the UPDATE takes, so two processes
    never get the same id (a rollback gives them back).
    Ids go to rows in the order handed out, so that the table's order is the writing order.
    """
    models = [m for m, n in wanted.items() if n > 0]
    db = connection(models[0])
    if dialect_of(db) == "postgres":
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
    db = connection(models[0])
    if dialect_of(db) == "postgres":
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
        got = await _sqlite_allocate(connection(models[0]), short)
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
