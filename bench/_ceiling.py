"""The ceiling for bench/intake.py: the rows one auto-dispatched report writes, straight
through the database driver (asyncpg, aiosqlite), one transaction per report.

Per report: a case row (its number given up front, where the server updates it after the
insert), a case_report row, three case_event rows (report, register, dispatch) and the
case_attachment row of the photo. No reads: that is the point of a ceiling.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import aiosqlite
import asyncpg
from _diagnose import proc_cpu

CASE_COLUMNS = (
    "number, source, status, version, category_code, category_name, urgency, description, "
    "address, lon, lat, stage, stage_unit, stage_limit_s, stage_used_s, stage_started_at, "
    "deadline_at, warn_at, overdue, urge_count, reopen_count, report_count, created_at, "
    "updated_at, registered_at, dispatched_at, department_id, grid_id, street_id"
)
REPORT_COLUMNS = (
    "case_id, source, idempotency_key, staff_id, description, address, lon, lat, crs, "
    "duplicate, extras, created_at"
)
EVENT_COLUMNS = (
    "case_id, action, from_status, to_status, actor_id, actor_kind, note, data, created_at"
)
ATTACHMENT_COLUMNS = "case_id, media_id, kind, event_id, created_at"
DESCRIPTION = "机动车乱停放，占用人行道（压测）"


@dataclass(frozen=True)
class Refs:
    """Existing rows the inserted ones point at (seeded by the demo city)."""

    grids: tuple[tuple[int, int], ...]  # (grid id, street id)
    staff_id: int
    department_id: int
    media_id: int


@dataclass(frozen=True)
class CeilingResult:
    done: int
    seconds: float
    db_cpu: float = 0.0  # CPU seconds of the PostgreSQL backends
    client_cpu: float = 0.0  # CPU seconds of this process (the driver; aiosqlite's SQLite too)

    @property
    def per_s(self) -> float:
        return self.done / self.seconds if self.seconds > 0 else 0.0


def _marks(n: int, style: str, start: int = 1) -> str:
    return ", ".join(f"${i}" if style == "$" else "?" for i in range(start, start + n))


def _insert(table: str, columns: str, style: str, *, rows: int = 1, returning: bool = False) -> str:
    """An INSERT of constant columns and placeholders: no input reaches the SQL text."""
    n = columns.count(",") + 1
    values = ", ".join(f"({_marks(n, style, 1 + r * n)})" for r in range(rows))
    sql = f"INSERT INTO {table} ({columns}) VALUES {values}"  # noqa: S608
    return sql + (" RETURNING id" if returning else "")


def _case_row(i: int, tag: str, refs: Refs, now: Any) -> tuple[Any, ...]:
    grid, street = refs.grids[i % len(refs.grids)]
    lon, lat = 120.15 + (i % 1000) * 1e-5, 30.27 + (i // 1000) * 1e-5
    later = now  # the clock columns are filled; their values do not matter here
    return (
        f"{tag}{i:08d}", "grid_app", "dispatched", 2, "E09009", "机动车乱停放", "B", DESCRIPTION,
        "", lon, lat, "handle", "work_hour", 7200, 0, now, later, later, False, 0, 0, 1, now,
        now, now, now, refs.department_id, grid, street,
    )  # fmt: skip


def _report_row(case_id: int, i: int, tag: str, refs: Refs, now: Any) -> tuple[Any, ...]:
    return (
        case_id, "grid_app", f"{tag}-ceiling-{i}", refs.staff_id, DESCRIPTION, "", 120.15, 30.27,
        "wgs84", False, "{}", now,
    )  # fmt: skip


def _events(case_id: int, refs: Refs, now: Any) -> list[tuple[Any, ...]]:
    data = json.dumps({"report_id": case_id, "source": "grid_app"})
    dep = json.dumps({"department_id": refs.department_id})
    return [
        (case_id, "report", None, "reported", refs.staff_id, "staff", DESCRIPTION, data, now),
        (case_id, "register", "reported", "registered", None, "system", "自动立案", "{}", now),
        (case_id, "dispatch", "registered", "dispatched", None, "system", "自动派遣", dep, now),
    ]


async def _run(
    n: int,
    concurrency: int,
    limit_s: float,
    one: Callable[[int], Awaitable[None]],
    backends: Sequence[int] = (),
) -> CeilingResult:
    counter = iter(range(n))
    done = 0
    db_cpu = sum(proc_cpu(p) for p in backends)
    client_cpu = time.process_time()
    started = time.perf_counter()
    stop_at = started + limit_s

    async def worker() -> None:
        nonlocal done
        for i in counter:
            if time.perf_counter() > stop_at:
                return
            await one(i)
            done += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    seconds = time.perf_counter() - started
    db_cpu = sum(proc_cpu(p) for p in backends) - db_cpu
    return CeilingResult(done, seconds, db_cpu, time.process_time() - client_cpu)


async def postgres(
    dsn: str, *, n: int, concurrency: int, tag: str, limit_s: float
) -> CeilingResult:
    """Insert n row sets through asyncpg, `concurrency` connections, one transaction each."""
    pool = await asyncpg.create_pool(dsn, min_size=concurrency, max_size=concurrency)
    try:
        refs = await _pg_refs(pool)
        sql_case = _insert('"case"', CASE_COLUMNS, "$", returning=True)
        sql_report = _insert("case_report", REPORT_COLUMNS, "$")
        sql_event = _insert("case_event", EVENT_COLUMNS, "$", returning=True)
        sql_events2 = _insert("case_event", EVENT_COLUMNS, "$", rows=2)
        sql_attach = _insert("case_attachment", ATTACHMENT_COLUMNS, "$")

        async def one(i: int) -> None:
            now = dt.datetime.now(dt.UTC)
            async with pool.acquire() as conn, conn.transaction():
                case_id = await conn.fetchval(sql_case, *_case_row(i, tag, refs, now))
                await conn.execute(sql_report, *_report_row(case_id, i, tag, refs, now))
                first, *rest = _events(case_id, refs, now)
                event_id = await conn.fetchval(sql_event, *first)
                await conn.execute(sql_events2, *rest[0], *rest[1])
                await conn.execute(sql_attach, case_id, refs.media_id, "report", event_id, now)

        async with pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
            )
        return await _run(n, concurrency, limit_s, one, [int(r["pid"]) for r in rows])
    finally:
        await pool.close()


async def _pg_refs(pool: asyncpg.Pool) -> Refs:
    async with pool.acquire() as conn:
        grids = await conn.fetch("SELECT id, street_id FROM grid ORDER BY id")
        staff = await conn.fetchval("SELECT id FROM staff WHERE username = 'inspector1'")
        dep = await conn.fetchval("SELECT id FROM department WHERE code = 'JJ'")
        media = await conn.fetchval("SELECT min(id) FROM media_object")
    return Refs(tuple((g["id"], g["street_id"]) for g in grids), staff, dep, media)


async def sqlite(path: str, *, n: int, concurrency: int, tag: str, limit_s: float) -> CeilingResult:
    """Insert n row sets through aiosqlite: one connection, transactions in turn (as tortoise)."""
    async with aiosqlite.connect(path, isolation_level=None) as db:
        # The pragmas tortoise sets on its connection.
        for pragma in ("journal_mode=WAL", "journal_size_limit=16384", "foreign_keys=ON"):
            await (await db.execute(f"PRAGMA {pragma}")).close()
        refs = await _sqlite_refs(db)
        lock = asyncio.Lock()
        sql_case = _insert('"case"', CASE_COLUMNS, "?")
        sql_report = _insert("case_report", REPORT_COLUMNS, "?")
        sql_event = _insert("case_event", EVENT_COLUMNS, "?")
        sql_events2 = _insert("case_event", EVENT_COLUMNS, "?", rows=2)
        sql_attach = _insert("case_attachment", ATTACHMENT_COLUMNS, "?")

        async def one(i: int) -> None:
            now = dt.datetime.now(dt.UTC).isoformat(" ")
            async with lock:
                await db.execute("BEGIN")
                try:
                    case_id = (await db.execute(sql_case, _case_row(i, tag, refs, now))).lastrowid
                    assert case_id is not None
                    await db.execute(sql_report, _report_row(case_id, i, tag, refs, now))
                    first, *rest = _events(case_id, refs, now)
                    event_id = (await db.execute(sql_event, first)).lastrowid
                    await db.execute(sql_events2, (*rest[0], *rest[1]))
                    await db.execute(sql_attach, (case_id, refs.media_id, "report", event_id, now))
                except BaseException:
                    await db.execute("ROLLBACK")
                    raise
                await db.execute("COMMIT")

        return await _run(n, concurrency, limit_s, one)


async def _sqlite_refs(db: aiosqlite.Connection) -> Refs:
    async def rows(sql: str) -> list[Any]:
        async with db.execute(sql) as cur:
            return list(await cur.fetchall())

    grids = await rows("SELECT id, street_id FROM grid ORDER BY id")
    staff = (await rows("SELECT id FROM staff WHERE username = 'inspector1'"))[0][0]
    dep = (await rows("SELECT id FROM department WHERE code = 'JJ'"))[0][0]
    media = (await rows("SELECT min(id) FROM media_object"))[0][0]
    return Refs(tuple((g[0], g[1]) for g in grids), staff, dep, media)
