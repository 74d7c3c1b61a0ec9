"""Intake benchmark: concurrent reports over HTTP against the real server, and the ceiling.

    python bench/intake.py [--quick] [--database-url postgres://user@127.0.0.1:5432/db]

Prepares a fresh database (a temp SQLite file, or a new `cityloop_bench_<random>` database on
the given PostgreSQL server, dropped at the end), migrates it and seeds the demo city with the
real code, starts `python -m core.cli serve` on a free loopback port, and has `--concurrency`
inspectors' clients post E09009 (机动车乱停放, auto 立案 + 派遣 for grid_app) reports with a photo
for a fixed time after a warm-up. Then it inserts the same rows straight through the driver
(the ceiling). The last line is `RESULT backend=… reports_per_s=… p99_ms=… ceiling_ratio=…
dispatch_p99_ms=…`; exit status 1 when more than 1 % of the measured requests failed.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import _ceiling
import _diagnose
import _history
import aiohttp
from _load import CATEGORY, Cpu, Dispatch, Sample, dispatch_times, load, measure_cpu, py_spy
from _setup import (
    Database,
    fresh_database,
    log_in,
    migrate_and_seed,
    run_bench,
    running_server,
    upload_photos,
)


@dataclass(frozen=True)
class Options:
    database_url: str | None
    quick: bool
    concurrency: int
    warmup_s: float
    duration_s: float
    redis_url: str | None
    server_workers: int
    sql_trace: bool
    py_spy: bool
    history: int


def parse_args(argv: Sequence[str] | None = None) -> Options:
    """Read the command line."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--database-url", help="PostgreSQL server URL (default: a fresh SQLite file)")
    p.add_argument("--quick", action="store_true", help="about 15 s of load; done within 60 s")
    p.add_argument("--concurrency", type=int, default=32, help="client workers (default 32)")
    p.add_argument("--duration", type=float, help="measured seconds (default 12 quick, 60 full)")
    p.add_argument("--warmup", type=float, help="seconds before measuring (default 3 / 5)")
    p.add_argument("--redis-url", help="run jobs on Redis/arq with a `cityloop worker`")
    p.add_argument(
        "--server-workers",
        type=int,
        default=1,
        help="server processes (`cityloop serve --workers N`, default 1)",
    )
    p.add_argument("--sql-trace", action="store_true", help="count SQL per report (slower)")
    p.add_argument("--py-spy", action="store_true", help="sample the server with py-spy")
    p.add_argument(
        "--history",
        type=int,
        help="PostgreSQL: cases of past years written before the load (default 50,000 quick, "
        "1,000,000 full; 0: none)",
    )
    a = p.parse_args(argv)
    if a.concurrency < 1:
        p.error("--concurrency must be at least 1")
    return Options(
        database_url=a.database_url,
        quick=a.quick,
        concurrency=a.concurrency,
        warmup_s=a.warmup if a.warmup is not None else (3.0 if a.quick else 5.0),
        duration_s=a.duration if a.duration is not None else (12.0 if a.quick else 60.0),
        redis_url=a.redis_url,
        server_workers=a.server_workers,
        sql_trace=a.sql_trace,
        py_spy=a.py_spy,
        history=a.history if a.history is not None else (50_000 if a.quick else 1_000_000),
    )


# --- the run ------------------------------------------------------------------------------


def pct(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile; nan when there are no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


async def run_ceiling(db: Database, n: int, opts: Options) -> _ceiling.CeilingResult:
    """The same number of row sets, same concurrency, straight through the driver."""
    insert = _ceiling.postgres if db.backend == "postgres" else _ceiling.sqlite
    limit_s = 15.0 if opts.quick else 120.0
    return await insert(
        db.driver, n=max(n, 1), concurrency=opts.concurrency, tag="X", limit_s=limit_s
    )


@dataclass
class Outcome:
    """Everything the summary prints."""

    db: Database
    opts: Options
    measured: list[Sample]
    per_s: float
    slices: list[float]  # reports/s in each quarter of the window: does it slow down?
    uploads: list[float]
    dispatch: Dispatch
    cpu: Cpu
    ceiling: _ceiling.CeilingResult
    notes: list[str] = field(default_factory=list)
    history: tuple[int, float] = (0, 0.0)  # cases written before the load, seconds it took


async def _measure(
    http: aiohttp.ClientSession, db: Database, passwords: dict[str, str], tmp: Path, opts: Options
) -> tuple[list[Sample], float, list[float], list[float], Dispatch, Cpu]:
    server = running_server(
        http,
        db,
        tmp,
        redis_url=opts.redis_url,
        sql_trace=opts.sql_trace,
        workers=opts.server_workers,
    )
    async with server as (base, process):
        inspectors = await log_in(http, base, passwords)
        uploads = await upload_photos(http, base, inspectors)
        t0 = time.perf_counter() + opts.warmup_s
        t1 = t0 + opts.duration_s
        # A task group: if the run is cancelled, the clients stop before the server does.
        async with asyncio.TaskGroup() as group:
            loading = group.create_task(load(http, base, inspectors, opts.concurrency, until=t1))
            measuring = group.create_task(measure_cpu(t0, t1, process.pid, db))
            if opts.py_spy:
                group.create_task(py_spy(t0, opts.duration_s, process.pid, tmp / "py-spy.txt"))
        samples, cpu = loading.result(), measuring.result()
        measured = [s for s in samples if t0 <= s.sent < t1]
        dispatch = await dispatch_times(http, base, inspectors, measured)
    # Answers completed inside the window, over its length: the in-flight ones at either
    # edge balance out.
    done = [s.sent + s.latency for s in samples if s.ok]
    per_s = sum(t0 <= t <= t1 for t in done) / (t1 - t0)
    q = (t1 - t0) / 4
    slices = [sum(t0 + i * q <= t < t0 + (i + 1) * q for t in done) / q for i in range(4)]
    return measured, per_s, slices, uploads, dispatch, cpu


async def bench(opts: Options) -> Outcome:
    """Prepare, load, measure, take the ceiling; clean up whatever happens."""
    task = asyncio.current_task()
    assert task is not None
    for sig in (signal.SIGTERM, signal.SIGHUP):  # as Ctrl-C: unwind, stop the server, drop
        asyncio.get_running_loop().add_signal_handler(sig, task.cancel)
    with tempfile.TemporaryDirectory(prefix="cityloop-bench-") as name:
        tmp = Path(name)
        async with fresh_database(opts.database_url, tmp) as db:
            passwords = await migrate_and_seed(db, tmp / "media")
            if db.backend == "postgres" and opts.history > 0:
                # A city's table is never empty: the planner's statistics, the indexes and
                # the connections' cached plans then meet the load as in production.
                t0 = time.perf_counter()
                await _history.seed(db.driver, opts.history, lambda _: None)
                outcome_history = (opts.history, time.perf_counter() - t0)
            else:
                outcome_history = (0, 0.0)
            timeout = aiohttp.ClientTimeout(total=30)
            connector = aiohttp.TCPConnector(limit=opts.concurrency + 8)
            async with aiohttp.ClientSession(timeout=timeout, connector=connector) as http:
                measured, per_s, slices, uploads, dispatch, cpu = await _measure(
                    http, db, passwords, tmp, opts
                )
            ceiling = await run_ceiling(db, sum(s.ok for s in measured), opts)
            outcome = Outcome(db, opts, measured, per_s, slices, uploads, dispatch, cpu, ceiling)
            outcome.history = outcome_history
            outcome.notes = _diagnostics(tmp, measured, opts)
            return outcome


def _diagnostics(tmp: Path, measured: list[Sample], opts: Options) -> list[str]:
    lines: list[str] = []
    if opts.sql_trace and (tmp / "sql.log").exists():
        per = _diagnose.read_trace(tmp / "sql.log")
        new = [s.key for s in measured if s.ok and not s.merged]
        merged = [s.key for s in measured if s.ok and s.merged]
        lines += _diagnose.summarize_trace(per, new, merged)
    if opts.py_spy and (tmp / "py-spy.txt").exists():
        lines += _diagnose.summarize_py_spy(tmp / "py-spy.txt")
    return lines


def _per(seconds: float, n: int) -> float:
    return seconds * 1000 / max(1, n)


def _rate(seconds: float, n: int) -> float:
    """Reports per second if each cost seconds / n of one CPU."""
    return n / seconds if seconds > 0 else math.nan


def _ms(seconds: Sequence[float], p: float) -> float:
    return pct(seconds, p) * 1000


def _load_lines(o: Outcome) -> list[str]:
    ok = [s for s in o.measured if s.ok]
    new = [s.latency for s in ok if not s.merged]
    merged = [s.latency for s in ok if s.merged]
    errors = [s for s in o.measured if not s.ok]
    lat = [s.latency for s in ok]
    split = f"new case p50 {_ms(new, 50):.1f} ms"
    if merged:
        split += f", merged p50 {_ms(merged, 50):.1f} ms"
    history = (
        f"  history: {o.history[0]:,} cases of past years written first ({o.history[1]:.1f} s, "
        "bench/_history.py), then VACUUM ANALYZE"
        if o.history[0]
        else "  history: none (an empty table: the planner's first plans are for a tiny table)"
    )
    lines = [
        history,
        f"  load: {o.opts.concurrency} concurrent clients as 4 inspectors (source grid_app), "
        f"{CATEGORY} with one photo each; warm-up {o.opts.warmup_s:g} s excluded, "
        f"measured {o.opts.duration_s:g} s",
        f"  reports: {len(o.measured)} measured; {len(new)} new cases, {len(merged)} merged as "
        f"duplicates (same point within 20 m); errors {len(errors)} "
        f"({len(errors) / max(1, len(o.measured)):.2%})",
        f"  throughput {o.per_s:.1f} reports/s; latency p50 {_ms(lat, 50):.1f} ms, "
        f"p90 {_ms(lat, 90):.1f} ms, p99 {_ms(lat, 99):.1f} ms, max {_ms(lat, 100):.1f} ms "
        f"({split}); by quarter of the window: "
        + ", ".join(f"{r:.1f}" for r in o.slices)
        + " reports/s",
        f"  photo: {len(o.uploads)} uploads of a 160x120 JPEG before the load, p50 "
        f"{_ms(o.uploads, 50):.1f} ms, max {_ms(o.uploads, 100):.1f} ms; not in the report loop: "
        "a client uploads once, then posts (and retries) the report with the media id",
    ]
    for error, count in Counter(s.error for s in errors).most_common(10):
        lines.append(f"  error x{count}: {error}")
    return lines


def _dispatch_lines(o: Outcome) -> list[str]:
    d = o.dispatch
    new = sum(s.ok and not s.merged for s in o.measured)
    return [
        f"  dispatch (submission -> 派遣): {d.at_response} of {new} new cases dispatched in "
        f"the answer, {d.later} later, {d.never} not within 5 s; p50 "
        f"{pct(d.times_ms, 50):.1f} ms, p99 {pct(d.times_ms, 99):.1f} ms",
        f"    timeline of {len(d.in_server_ms)} sampled cases: report -> dispatch event "
        f"p50 {pct(d.in_server_ms, 50):.1f} ms, max {pct(d.in_server_ms, 100):.1f} ms inside "
        f"the server; {d.outside} outside the client's send -> answer window",
    ]


def _cost_lines(o: Outcome, ratio: float) -> list[str]:
    # CPU was read at the window's edges: divide by the answers completed inside it.
    c, cpu, n = o.ceiling, o.cpu, round(o.per_s * o.opts.duration_s)
    q = o.opts.duration_s / 4
    pg = o.db.backend == "postgres"
    ours = cpu.server + cpu.postgres + cpu.client
    ceiling_cpu = f"postgres {_per(c.db_cpu, c.done):.2f} ms, " if pg else ""
    server_cpu = f", postgres {_per(cpu.postgres, n):.2f} ms" if pg else " (SQLite inside it)"
    return [
        f"  ceiling: {c.done} row sets (case, report, 3 events, attachment), "
        f"{'asyncpg' if pg else 'aiosqlite'}, {o.opts.concurrency} concurrent, one transaction "
        f"each: {c.per_s:.1f}/s; ratio {ratio:.3f}; CPU per row set: {ceiling_cpu}"
        f"driver {_per(c.client_cpu, c.done):.2f} ms",
        f"  CPU in the window ({os.cpu_count()} cores): server {_per(cpu.server, n):.2f} ms "
        f"(kernel {_per(cpu.server_sys, n):.2f})"
        f"{server_cpu}, this client {_per(cpu.client, n):.2f} ms per report; machine busy "
        f"{cpu.busy:.0%} (other processes {cpu.others / o.opts.duration_s:.2f} cores), "
        f"steal {cpu.steal:.1%}",
        f"  by quarter of the window, CPU ms per report ({'server/postgres' if pg else 'server'}"
        "): "
        + ", ".join(
            f"{_per(srv, round(r * q)):.2f}" + (f"/{_per(db, round(r * q)):.2f}" if pg else "")
            for (srv, db), r in zip(cpu.quarters, o.slices, strict=True)
        ),
        f"  bounds from these costs, whatever else runs: one server process (one event loop) "
        f"<= {_rate(cpu.server, n):.0f} reports/s on a whole core; all {os.cpu_count()} cores "
        f"<= {_rate(ours / (os.cpu_count() or 1), n):.0f} reports/s",
    ]


def summary(o: Outcome) -> list[str]:
    """The human-readable report, ending with the RESULT line."""
    lat = [s.latency for s in o.measured if s.ok]
    ratio = o.per_s / o.ceiling.per_s if o.ceiling.per_s else math.nan
    where = f"database {o.db.name}, dropped at the end" if o.db.name else "a temp SQLite file"
    lines = [f"cityloop intake benchmark: backend {o.db.backend} ({where})"]
    lines += _load_lines(o) + _dispatch_lines(o) + _cost_lines(o, ratio)
    if o.opts.sql_trace or o.opts.py_spy:
        lines.append("  (diagnostics on: the server is slowed by them; numbers not comparable)")
    lines += o.notes
    lines.append(
        f"RESULT backend={o.db.backend} reports_per_s={o.per_s:.1f} p99_ms={_ms(lat, 99):.1f} "
        f"ceiling_ratio={ratio:.3f} dispatch_p99_ms={pct(o.dispatch.times_ms, 99):.1f}"
    )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; exit 1 if more than 1 % of the measured requests failed."""
    opts = parse_args(argv)
    return run_bench("intake bench", lambda: bench(opts), summary, lambda o: o.measured)


if __name__ == "__main__":
    sys.exit(main())
