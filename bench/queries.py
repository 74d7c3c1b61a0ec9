"""Case-list benchmark: every list the centre uses, over HTTP, on years of history.

    python bench/queries.py --quick --database-url postgres://postgres@127.0.0.1:5432/test
    python bench/queries.py --database-url postgres://…          # full: 10,000,000 cases

Creates a `cityloop_bench_<random>` database on the given PostgreSQL server (dropped at the
end), migrates it and seeds the demo city with the project's own code, drops the list indexes
of migration cases/0005, writes the history with generate_series (bench/_history.py: cases,
reports, timeline, tasks), builds the indexes again with the migration's own code (timed: the
README's figure per million rows), starts `python -m core.cli serve`, and times each list
`--repeat` times from one client after two warm-ups. Then a month of one street as CSV, with a
/healthz probe every 50 ms beside it (a blocked event loop shows there).

The floor is the p99 of GET /api/v1/auth/me in the same run: what any authenticated request
costs on this machine now. The last line is `RESULT cases=<n> p99_ms=<worst list p99>
worst=<its name> export_rows_per_s=<n> floor_p99_ms=<n> bar_ratio=<worst p99 / 100 ms>`;
exit status 1 when a list answered an error.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import _history
import aiohttp
import asyncpg
from _setup import Database, existing_database, fresh_database, migrate_and_seed, running_server

BAR_MS = 100.0
HOURS_2 = dt.timedelta(hours=2)
USERS = ("dispatcher", "handler_hw", "inspector1")


@dataclass(frozen=True)
class Options:
    database_url: str
    cases: int
    repeat: int
    keep: bool
    reuse: str | None


def parse_args(argv: Sequence[str] | None = None) -> Options:
    """Read the command line."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--database-url", required=True, help="PostgreSQL server URL")
    p.add_argument("--quick", action="store_true", help="200,000 cases; done within 60 s")
    p.add_argument("--cases", type=int, help="cases to seed (default 10,000,000; quick 200,000)")
    p.add_argument("--repeat", type=int, default=30, help="timed requests per list (default 30)")
    p.add_argument("--keep", action="store_true", help="keep the seeded database; print its name")
    p.add_argument("--reuse", metavar="NAME", help="time the lists on a database a --keep kept")
    a = p.parse_args(argv)
    if not a.database_url.startswith(("postgres://", "postgresql://")):
        p.error("--database-url must be a postgres:// URL: the bar is PostgreSQL's")
    cases = a.cases or (200_000 if a.quick else 10_000_000)
    return Options(a.database_url, cases, a.repeat, a.keep, a.reuse)


def say(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def p99(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


async def _tokens(settings: Any, names: Sequence[str]) -> dict[str, dict[str, str]]:
    """Bearer tokens for demo accounts, issued by the project's own code."""
    from core.auth.models import Staff
    from core.auth.service import issue_token
    from core.db import database

    headers = {}
    async with database(settings):
        for name in names:
            token, _ = await issue_token(staff=await Staff.get(username=name), ttl=HOURS_2)
            headers[name] = {"Authorization": f"Bearer {token}"}
    return headers


async def _facts(dsn: str, n: int) -> dict[str, Any]:
    """Values the lists filter on, read from the seeded tables."""
    from cases.paging import Cursor

    conn = await asyncpg.connect(dsn)
    try:
        hw = await conn.fetchval("SELECT department_id FROM staff WHERE username = 'handler_hw'")
        grid = await conn.fetchval(
            "SELECT a.grid_id FROM grid_assignment a JOIN staff s ON s.id = a.staff_id "
            "WHERE s.username = 'inspector1' ORDER BY a.grid_id LIMIT 1"
        )
        street = await conn.fetchval("SELECT street_id FROM grid WHERE id = $1", grid)
        code = await conn.fetchval('SELECT category_code FROM "case" WHERE id = $1', n // 2)
        middle = await conn.fetchrow(
            'SELECT id, created_at, number FROM "case" WHERE id = $1', n // 2
        )
    finally:
        await conn.close()
    now = dt.datetime.now(dt.UTC)
    first = (now.replace(day=1) - dt.timedelta(days=1)).replace(day=1, hour=0, minute=0, second=0)
    month = {
        "created_from": first.isoformat(),
        "created_to": now.replace(day=1, hour=0, minute=0, second=0).isoformat(),
    }
    deep = Cursor("-created_at", middle["created_at"].astimezone(dt.UTC).isoformat(), middle["id"])
    return {
        "department": hw, "grid": grid, "street": street, "category": code, "month": month,
        "deep": deep.encode(), "number": middle["number"][:12],
    }  # fmt: skip


def lists(f: dict[str, Any]) -> list[tuple[str, str, str, dict[str, Any]]]:
    """(name, user, path, query) of every list the bench times."""
    c, d = "/api/v1/cases", "dispatcher"
    return [
        ("default", d, c, {}),
        ("page_2", d, c, {"page": 2}),
        ("page_200", d, c, {"page": 200}),
        ("cursor_deep", d, c, {"cursor": f["deep"]}),
        ("status", d, c, {"status": "dispatched"}),
        ("status_open", d, c, {"status": "reported,verifying,registered,dispatched,handled"}),
        ("light_red", d, c, {"light": "red"}),
        ("light_yellow", d, c, {"light": "yellow"}),
        ("category", d, c, {"category": f["category"]}),
        ("department", d, c, {"department_id": f["department"]}),
        ("grid", d, c, {"grid_id": f["grid"]}),
        ("street", d, c, {"street_id": f["street"]}),
        ("source", d, c, {"source": "hotline"}),
        ("month", d, c, f["month"]),
        ("overdue", d, c, {"overdue": "true"}),
        ("not_overdue", d, c, {"overdue": "false"}),
        ("dept_status", d, c, {"department_id": f["department"], "status": "dispatched"}),
        ("street_cat_month", d, c, {"street_id": f["street"], "category": f["category"],
                                    **f["month"]}),
        ("grid_red", d, c, {"grid_id": f["grid"], "light": "red"}),
        ("q_垃圾", d, c, {"q": "垃圾"}),
        ("q_井盖", d, c, {"q": "井盖"}),
        ("q_垃圾桶", d, c, {"q": "垃圾桶"}),
        ("q_long", d, c, {"q": "小区门口垃圾满溢"}),
        ("q_number", d, c, {"q": f["number"]}),
        ("q_street_井盖", d, c, {"q": "井盖", "street_id": f["street"]}),
        ("sort_created", d, c, {"sort": "created_at"}),
        ("sort_deadline", d, c, {"sort": "deadline_at"}),
        ("sort_-deadline", d, c, {"sort": "-deadline_at"}),
        ("sort_number", d, c, {"sort": "number"}),
        ("sort_-number", d, c, {"sort": "-number"}),
        ("handler_list", "handler_hw", c, {}),
        ("handler_inbox", "handler_hw", "/api/v1/inbox", {}),
        ("inspector_list", "inspector1", c, {}),
        ("inspector_tasks", "inspector1", "/api/v1/tasks", {}),
    ]  # fmt: skip


async def _time(
    http: aiohttp.ClientSession, url: str, headers: dict[str, str], params: dict[str, Any], n: int
) -> tuple[list[float], Any]:
    times, body = [], None
    for i in range(n + 2):
        t0 = time.perf_counter()
        async with http.get(url, headers=headers, params=params) as r:
            body = await r.json(content_type=None)
            if r.status != 200:
                raise RuntimeError(f"{url} {params}: {r.status} {body}")
        if i >= 2:  # two warm-ups
            times.append((time.perf_counter() - t0) * 1000)
    return times, body


async def _export(
    http: aiohttp.ClientSession, base: str, headers: dict[str, str], params: dict[str, Any]
) -> dict[str, float]:
    """A month of one street as CSV, with /healthz probed beside it."""
    probes: list[float] = []
    done = threading.Event()

    def probe() -> None:  # a thread of its own: the client's reading does not delay it
        while not done.is_set():
            t0 = time.perf_counter()
            with urllib.request.urlopen(f"{base}/healthz") as r:  # noqa: S310  (loopback)
                r.read()
            probes.append((time.perf_counter() - t0) * 1000)
            time.sleep(0.05)

    prober = asyncio.create_task(asyncio.to_thread(probe))
    t0 = time.perf_counter()
    first = size = lines = 0.0
    async with http.get(f"{base}/api/v1/cases/export", headers=headers, params=params) as r:
        if r.status != 200:
            raise RuntimeError(f"export: {r.status} {await r.text()}")
        async for chunk in r.content.iter_any():
            first = first or time.perf_counter() - t0
            size += len(chunk)
            lines += chunk.count(b"\n")
    total = time.perf_counter() - t0
    done.set()
    await prober
    rows = lines - 1
    return {"rows": rows, "first_byte_ms": first * 1000, "seconds": total, "mb": size / 1e6,
            "rows_per_s": rows / total, "healthz_max_ms": max(probes or [0.0])}  # fmt: skip


@contextlib.asynccontextmanager
async def _seeded(opts: Options, tmp: Path) -> AsyncIterator[tuple[Database, float]]:
    """The database to time: seeded now (with the seconds its list indexes took), or reused."""
    if opts.reuse:
        yield existing_database(opts.database_url, opts.reuse), 0.0
        return
    async with fresh_database(opts.database_url, tmp, keep=opts.keep) as db:
        from core.config import load_settings
        from core.db import database

        await migrate_and_seed(db, tmp / "media")
        settings = load_settings(database_url=db.url, media_dir=tmp / "media")
        async with database(settings):
            await _history.drop_list_indexes()
        took = await _history.seed(db.driver, opts.cases, say)
        async with database(settings):
            built = await _history.build_list_indexes()
        say(f"list indexes (migration cases/0005) built in {built:.1f} s")
        say(f"seeded in {sum(took.values()):.0f} s" + (f"; kept as {db.name}" if opts.keep else ""))
        yield db, built


async def _cases_in(dsn: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return int(await conn.fetchval('SELECT max(id) FROM "case"'))
    finally:
        await conn.close()


def _report(
    n: int,
    built: float,
    results: list[tuple[str, float, str]],
    export: dict[str, float],
    floor: list[float],
) -> None:
    if built:
        per = built / (n / 1e6)
        print(f"list indexes built in {built:.1f} s for {n:,} cases ({per:.1f} s per million)")
    print(f"{'list':<18} {'p99 ms':>8}  total")
    for name, ms, total in results:
        print(f"{name:<18} {ms:8.1f}  {total}{'   OVER 100 ms' if ms > BAR_MS else ''}")
    print(
        f"export: {export['rows']:.0f} rows, {export['mb']:.1f} MB in {export['seconds']:.2f} s, "
        f"first byte {export['first_byte_ms']:.0f} ms, "
        f"/healthz at most {export['healthz_max_ms']:.0f} ms meanwhile"
    )
    worst = max(results, key=lambda r: r[1])
    print(f"RESULT cases={n} p99_ms={worst[1]:.1f} worst={worst[0]} "
          f"export_rows_per_s={export['rows_per_s']:.0f} floor_p99_ms={p99(floor):.1f} "
          f"bar_ratio={worst[1] / BAR_MS:.2f}")  # fmt: skip


async def bench(opts: Options) -> int:
    from core.config import load_settings

    tmp = Path(tempfile.mkdtemp(prefix="cityloop-queries-"))
    async with _seeded(opts, tmp) as (db, built):
        n = await _cases_in(db.driver)
        facts = await _facts(db.driver, n)
        users = await _tokens(load_settings(database_url=db.url), USERS)
        async with aiohttp.ClientSession() as http, running_server(http, db, tmp) as (base, _):
            auth = users["dispatcher"]
            floor, _ = await _time(http, f"{base}/api/v1/auth/me", auth, {}, opts.repeat)
            results = []
            for name, user, path, params in lists(facts):
                times, body = await _time(http, base + path, users[user], params, opts.repeat)
                total = f"{body['total']}{'' if body.get('total_exact', True) else '≈'}"
                results.append((name, p99(times), total))
                say(f"{name:<18} p99 {p99(times):7.1f} ms  total {total}")
            month = {"street_id": facts["street"], **facts["month"]}
            export = await _export(http, base, auth, month)
    _report(n, built, results, export, floor)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    opts = parse_args(argv)
    for key in [k for k in os.environ if k.startswith("CITYLOOP_")]:
        del os.environ[key]  # the demo city is seeded with defaults, as the server runs
    try:
        return asyncio.run(bench(opts))
    except RuntimeError as err:
        print(f"queries bench: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("queries bench: interrupted; server stopped, database dropped", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
