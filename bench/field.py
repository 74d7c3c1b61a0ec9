"""Field app benchmark: phones uploading GPS tracks and syncing their queues against the real
server, and the same track points written straight through the database driver (the ceiling).

    python bench/field.py [--quick] [--database-url postgres://user@127.0.0.1:5432/db]
                          [--phones 200] [--server-workers N]

Prepares a fresh database (a temp SQLite file, or a new `cityloop_bench_<random>` database on
the given PostgreSQL server, dropped at the end), migrates it and seeds the demo city with the
real code, adds `--phones` inspector accounts (one demo grid each, spread over the grids) with
a token each, and starts `python -m core.cli serve` on a free loopback port. Each phone is a
closed loop: on duty once (a `duty` item through /api/v1/field/sync), then batches of its walk
inside its grid through POST /api/v1/field/track, every few rounds a sync batch instead (a
`track` item, now and then a `report` too). Warm-up, then the measured window. Then the
points stored in the window are written again, batch for batch and as many at once as there
were phones, with the server's own INSERT straight through asyncpg or aiosqlite.

The last line is `RESULT phones=<n> points_per_s=<points stored per second over HTTP>
sync_p99_ms=<p99 of the sync requests> ceiling_ratio=<points_per_s ÷ the driver's points/s>`;
the exit status is 1 when more than 1 % of the measured requests failed.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import math
import os
import random
import re
import secrets
import signal
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import _ceiling
import aiohttp
import aiosqlite
import asyncpg
from _load import Cpu, measure_cpu
from _setup import Database, fresh_database, migrate_and_seed, run_bench, running_server
from intake import pct
from shapely.geometry import Point, shape

REPORT_TEXT = "巡查发现人行道上有垃圾堆放"
WALK_MPS = 1.4  # an inspector on foot
M_PER_DEG = 111_320.0
# The ceiling writes the window's points again this much later: new rows, not conflicts.
CEILING_SHIFT = dt.timedelta(days=1)

# (at, lon, lat, accuracy_m, speed_mps): one GPS fix as the phone sends it.
Fix = tuple[dt.datetime, float, float, float, float]


@dataclass(frozen=True)
class Options:
    database_url: str | None
    quick: bool
    phones: int
    warmup_s: float
    duration_s: float
    batch: int
    sync_every: int
    report_every: int
    server_workers: int


def parse_args(argv: Sequence[str] | None = None) -> Options:
    """Read the command line."""
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--database-url", help="PostgreSQL server URL (default: a fresh SQLite file)")
    p.add_argument("--quick", action="store_true", help="about 15 s of load; done within 60 s")
    p.add_argument("--phones", type=int, default=200, help="simulated phones (default 200)")
    p.add_argument("--duration", type=float, help="measured seconds (default 12 quick, 60 full)")
    p.add_argument("--warmup", type=float, help="seconds before measuring (default 3 / 5)")
    p.add_argument("--batch", type=int, default=10, help="points per upload, 1 s apart (10)")
    p.add_argument("--sync-every", type=int, default=4, help="every Nth round a sync (4)")
    p.add_argument("--report-every", type=int, default=10, help="every Nth sync a report (10)")
    p.add_argument(
        "--server-workers",
        type=int,
        default=1,
        help="server processes (`cityloop serve --workers N`, default 1)",
    )
    a = p.parse_args(argv)
    if a.phones < 1:
        p.error("--phones must be at least 1")
    # Up to 1000 points the server writes a batch with one INSERT (track.py): so does the
    # ceiling, statement for statement.
    if not 1 <= a.batch <= 1000:
        p.error("--batch must be 1..1000")
    if a.sync_every < 1 or a.report_every < 1:
        p.error("--sync-every and --report-every must be at least 1")
    return Options(
        database_url=a.database_url,
        quick=a.quick,
        phones=a.phones,
        warmup_s=a.warmup if a.warmup is not None else (3.0 if a.quick else 5.0),
        duration_s=a.duration if a.duration is not None else (12.0 if a.quick else 60.0),
        batch=a.batch,
        sync_every=a.sync_every,
        report_every=a.report_every,
        server_workers=a.server_workers,
    )


# --- the phones ---------------------------------------------------------------------------


@dataclass
class Phone:
    """One inspector's phone: a token and a walk inside its grid, its clock moving forward."""

    index: int
    staff_id: int
    token: str  # the Authorization header
    grid: Any  # shapely polygon
    lon: float
    lat: float
    clock: dt.datetime
    rng: random.Random
    heading: float = 0.0
    rounds: int = 0
    syncs: int = 0

    def walk(self, n: int) -> list[Fix]:
        """The next n fixes, one second apart; the walk turns back at the grid's edge."""
        fixes: list[Fix] = []
        mx = M_PER_DEG * math.cos(math.radians(self.lat))
        for _ in range(n):
            self.clock += dt.timedelta(seconds=1)
            speed = WALK_MPS * self.rng.uniform(0.6, 1.3)
            for _turn in range(8):
                self.heading += self.rng.gauss(0.0, 0.3)
                lon = self.lon + speed * math.sin(self.heading) / mx
                lat = self.lat + speed * math.cos(self.heading) / M_PER_DEG
                if self.grid.contains(Point(lon, lat)):
                    self.lon, self.lat = lon, lat
                    break
                self.heading += math.pi  # back into the grid
            fixes.append((self.clock, self.lon, self.lat, round(self.rng.uniform(3, 15), 1), speed))
        return fixes


def _points_json(fixes: list[Fix]) -> list[dict[str, Any]]:
    return [
        {"at": at.isoformat(), "lon": lon, "lat": lat, "accuracy_m": acc, "speed_mps": speed}
        for at, lon, lat, acc, speed in fixes
    ]


async def make_phones(db: Database, media: Path, n: int) -> list[Phone]:
    """n inspector accounts, each given one demo grid (round the grids) and a token."""
    from core.auth.accounts import create_staff
    from core.auth.const import Role
    from core.auth.service import configure_hasher, issue_token
    from core.config import load_settings
    from core.db import database
    from core.org.models import Grid
    from core.org.service import assign_inspector

    # Tokens are issued here, not by logging in over HTTP: 200 argon2id checks would take
    # about 13 s of this machine's 2 cores before the load. Nobody types these passwords, so
    # this process hashes them at the lowest cost (the server's own settings are untouched).
    configure_hasher(time_cost=1, memory_kib=1024)
    run = secrets.token_hex(3)
    # The walks start an hour back, as a phone catching up on its backlog; with no pause
    # between rounds their clocks then run ahead of ours (tens of seconds a second).
    start = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    phones: list[Phone] = []
    async with database(load_settings(database_url=db.url, media_dir=media)):
        grids = await Grid.filter(retired_at=None).order_by("id")
        for i in range(n):
            grid = grids[i % len(grids)]
            staff = await create_staff(
                username=f"field{run}{i + 1:04d}",
                password=secrets.token_urlsafe(12),
                display_name=f"压测监督员{i + 1}",
                roles=[Role.INSPECTOR.value],
                department_id=None,
            )
            await assign_inspector(staff_id=staff.id, grid_codes=[grid.code])
            token, _ = await issue_token(staff=staff, ttl=dt.timedelta(hours=2), client="grid_app")
            poly = shape(grid.geometry)
            rng = random.Random(i)
            centre = poly.representative_point()
            auth = f"Bearer {token}"
            phone = Phone(i, staff.id, auth, poly, centre.x, centre.y, start, rng)
            phone.heading = rng.uniform(0, 2 * math.pi)
            phones.append(phone)
    return phones


# --- the load -----------------------------------------------------------------------------


@dataclass
class Sample:
    kind: str  # duty | track | sync
    sent: float  # perf_counter
    latency: float
    ok: bool
    staff_id: int
    fixes: list[Fix] = field(default_factory=list)
    stored: int = 0
    duplicates: int = 0
    reports: int = 0
    case_status: str = ""  # what a report became (dispatched, registered, …)
    merged: int = 0  # reports that joined an open case (the same spot within 20 m)
    error: str = ""


def _item(kind: str, **fields: Any) -> dict[str, Any]:
    """A queued item: a fresh UUID (never a replay) and the instant it was queued."""
    at = dt.datetime.now(dt.UTC).isoformat()
    return {"id": str(uuid.uuid4()), "kind": kind, "at": at, **fields}


def _read_sync(sample: Sample, data: dict[str, Any]) -> None:
    """Every item must be created now; a refused or replayed one fails the request."""
    for answer in data["items"]:
        if answer["outcome"] != "created":
            sample.ok = False
            sample.error = (
                f"sync {answer['kind']} {answer['outcome']} {answer.get('code')}: "
                f"{answer.get('message')}"
            )
        if answer["kind"] == "track":
            sample.stored += int(answer["stored"] or 0)
            sample.duplicates += int(answer["duplicates"] or 0)
        elif answer["kind"] == "report":
            sample.reports += 1
            sample.case_status = str(answer.get("status"))
            sample.merged += bool(answer.get("merged"))


async def _post(
    http: aiohttp.ClientSession,
    url: str,
    phone: Phone,
    kind: str,
    body: dict[str, Any],
    fixes: list[Fix],
) -> Sample:
    """One request; timed from send to the parsed answer."""
    headers = {"Authorization": phone.token}
    sent = time.perf_counter()
    try:
        async with http.post(url, json=body, headers=headers) as resp:
            status = resp.status
            data = await resp.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as err:
        latency = time.perf_counter() - sent
        return Sample(kind, sent, latency, False, phone.staff_id, fixes, error=repr(err)[:160])
    ok = 200 <= status < 300
    sample = Sample(kind, sent, time.perf_counter() - sent, ok, phone.staff_id, fixes)
    if not ok:
        detail = f"{data.get('code')}: {data.get('message')}" if isinstance(data, dict) else ""
        sample.error = f"{kind} HTTP {status} {detail}"
    elif kind == "track":
        sample.stored, sample.duplicates = int(data["stored"]), int(data["duplicates"])
    else:
        _read_sync(sample, data)
    return sample


async def _round(http: aiohttp.ClientSession, base: str, phone: Phone, opts: Options) -> Sample:
    """The phone's next request: a track upload, or every few rounds a sync batch."""
    phone.rounds += 1
    fixes = phone.walk(opts.batch)
    if phone.rounds % opts.sync_every:
        body = {"points": _points_json(fixes)}
        return await _post(http, f"{base}/api/v1/field/track", phone, "track", body, fixes)
    phone.syncs += 1
    items = [_item("track", points=_points_json(fixes))]
    # Staggered over the phones: a tenth of the syncs carry a report from the first round on.
    if (phone.syncs + phone.index) % opts.report_every == 0:
        where = {"lon": phone.lon, "lat": phone.lat}
        items.append(_item("report", description=REPORT_TEXT, location=where))
    return await _post(http, f"{base}/api/v1/field/sync", phone, "sync", {"items": items}, fixes)


async def load(
    http: aiohttp.ClientSession, base: str, phones: list[Phone], opts: Options, *, until: float
) -> list[Sample]:
    """Every phone a closed loop: on duty once, then round after round until `until`."""
    samples: list[Sample] = []

    async def one(phone: Phone) -> None:
        duty = _item("duty", on=True, location={"lon": phone.lon, "lat": phone.lat})
        url = f"{base}/api/v1/field/sync"
        samples.append(await _post(http, url, phone, "duty", {"items": [duty]}, []))
        while time.perf_counter() < until:
            samples.append(await _round(http, base, phone, opts))

    await asyncio.gather(*(one(p) for p in phones))
    return samples


# --- the ceiling --------------------------------------------------------------------------


def _rows(staff_id: int, fixes: list[Fix], now: Any, at: Any) -> list[object]:
    """The values track.store sends for a batch (sorted by instant, WGS-84 as sent)."""
    values: list[object] = []
    for when, lon, lat, acc, speed in sorted(fixes):
        values += [staff_id, at(when + CEILING_SHIFT), lon, lat, acc, speed, now]
    return values


async def ceiling(
    db: Database, batches: list[tuple[int, list[Fix]]], *, concurrency: int, pool: int, quick: bool
) -> tuple[int, float]:
    """The window's batches again, one INSERT each (the server's own statement), `concurrency`
    at once; (points stored, seconds)."""
    from channels.grid_app.track import _insert  # the server's very statement, by row count

    limit_s = 15.0 if quick else 120.0
    stored = 0
    if db.backend == "postgres":
        # As many connections as the server's pool: 200 would pass max_connections (100).
        connections = await asyncpg.create_pool(db.driver, min_size=pool, max_size=pool)
        try:

            async def one_pg(i: int) -> None:
                nonlocal stored
                staff_id, fixes = batches[i]
                values = _rows(staff_id, fixes, dt.datetime.now(dt.UTC), lambda t: t)
                got = await connections.fetch(_insert(len(fixes)), *values)
                stored += len(got)  # after the await: `stored += await …` would lose counts

            # _ceiling's workers: `concurrency` of them take the batches in turn.
            result = await _ceiling._run(len(batches), concurrency, limit_s, one_pg)
        finally:
            await connections.close()
        return stored, result.seconds
    async with aiosqlite.connect(db.driver, isolation_level=None) as conn:
        # The pragmas tortoise sets on its connection; autocommit, as the server's INSERT runs.
        for pragma in ("journal_mode=WAL", "journal_size_limit=16384", "foreign_keys=ON"):
            await (await conn.execute(f"PRAGMA {pragma}")).close()
        lock = asyncio.Lock()  # one connection, statements in turn (as tortoise's)

        async def one_sqlite(i: int) -> None:
            nonlocal stored
            staff_id, fixes = batches[i]
            now = dt.datetime.now(dt.UTC).isoformat(" ")  # tortoise's SQLite datetime text
            values = _rows(staff_id, fixes, now, lambda t: t.isoformat(" "))
            sql = re.sub(r"\$\d+", "?", _insert(len(fixes)))
            async with lock, conn.execute(sql, values) as cur:
                got = list(await cur.fetchall())
            stored += len(got)

        result = await _ceiling._run(len(batches), concurrency, limit_s, one_sqlite)
    return stored, result.seconds


# --- the run ------------------------------------------------------------------------------


@dataclass
class Outcome:
    """Everything the summary prints."""

    db: Database
    opts: Options
    measured: list[Sample]  # requests sent inside the window
    points: int  # stored by the answers completed inside the window
    slices: list[float]  # points/s in each quarter of the window: does it slow down?
    cpu: Cpu
    batches: list[tuple[int, list[Fix]]]  # (staff id, fixes) of those answers, for the ceiling
    on_duty: int  # phones whose 上岗 was answered (in the warm-up)
    bare_points: int = 0
    bare_seconds: float = 0.0
    pool_size: int = 0

    @property
    def per_s(self) -> float:
        return self.points / self.opts.duration_s

    @property
    def bare_per_s(self) -> float:
        return self.bare_points / self.bare_seconds if self.bare_seconds > 0 else 0.0


async def _measure(
    http: aiohttp.ClientSession, db: Database, tmp: Path, phones: list[Phone], opts: Options
) -> Outcome:
    async with running_server(http, db, tmp, workers=opts.server_workers) as (base, process):
        t0 = time.perf_counter() + opts.warmup_s
        t1 = t0 + opts.duration_s
        # A task group: if the run is cancelled, the phones stop before the server does.
        async with asyncio.TaskGroup() as group:
            loading = group.create_task(load(http, base, phones, opts, until=t1))
            measuring = group.create_task(measure_cpu(t0, t1, process.pid, db))
        samples, cpu = loading.result(), measuring.result()
    measured = [s for s in samples if t0 <= s.sent < t1]
    # Answers completed inside the window, over its length: the in-flight ones at either edge
    # balance out.
    done = [s for s in samples if s.ok and t0 <= s.sent + s.latency <= t1]
    q = (t1 - t0) / 4
    slices = [
        sum(s.stored for s in done if t0 + i * q <= s.sent + s.latency < t0 + (i + 1) * q) / q
        for i in range(4)
    ]
    # The ceiling writes exactly the points counted: each answer's batch (a sync's track too).
    batches = [(s.staff_id, s.fixes) for s in done if s.fixes]
    on_duty = sum(s.ok for s in samples if s.kind == "duty")
    points = sum(s.stored for s in done)
    return Outcome(db, opts, measured, points, slices, cpu, batches, on_duty)


async def bench(opts: Options) -> Outcome:
    """Prepare, load, measure, take the ceiling; clean up whatever happens."""
    from core.config import load_settings

    task = asyncio.current_task()
    assert task is not None
    for sig in (signal.SIGTERM, signal.SIGHUP):  # as Ctrl-C: unwind, stop the server, drop
        asyncio.get_running_loop().add_signal_handler(sig, task.cancel)
    with tempfile.TemporaryDirectory(prefix="cityloop-bench-field-") as name:
        tmp = Path(name)
        async with fresh_database(opts.database_url, tmp) as db:
            await migrate_and_seed(db, tmp / "media")
            phones = await make_phones(db, tmp / "media", opts.phones)
            timeout = aiohttp.ClientTimeout(total=30)
            connector = aiohttp.TCPConnector(limit=opts.phones + 8)
            async with aiohttp.ClientSession(timeout=timeout, connector=connector) as http:
                outcome = await _measure(http, db, tmp, phones, opts)
            pool = load_settings(database_url=db.url).database_pool_size * opts.server_workers
            outcome.pool_size = min(pool, opts.phones)
            outcome.bare_points, outcome.bare_seconds = await ceiling(
                db,
                outcome.batches,
                concurrency=opts.phones,
                pool=outcome.pool_size,
                quick=opts.quick,
            )
            return outcome


def _ms(seconds: Sequence[float], p: float) -> float:
    return pct(seconds, p) * 1000


def summary(o: Outcome) -> list[str]:
    """The human-readable report, ending with the RESULT line."""
    ok = [s for s in o.measured if s.ok]
    failed = [s for s in o.measured if not s.ok]
    kinds = Counter(s.kind for s in o.measured)
    sync = [s.latency for s in ok if s.kind == "sync"]
    with_report = [s.latency for s in ok if s.reports]
    became = Counter(s.case_status for s in ok if s.reports)
    track = [s.latency for s in ok if s.kind == "track"]
    ratio = o.per_s / o.bare_per_s if o.bare_per_s else math.nan
    where = f"database {o.db.name}, dropped at the end" if o.db.name else "a temp SQLite file"
    pg = o.db.backend == "postgres"
    driver = f"asyncpg, a pool of {o.pool_size}" if pg else "aiosqlite, one connection"
    n = max(1, o.points)
    lines = [
        f"cityloop field benchmark: backend {o.db.backend} ({where})",
        f"  load: {o.opts.phones} phones (one inspector and grid each), on duty once, then "
        f"{o.opts.batch} points 1 s apart per round through /field/track, one round in "
        f"{o.opts.sync_every} through /field/sync instead (a report in one sync of "
        f"{o.opts.report_every}); warm-up {o.opts.warmup_s:g} s excluded, measured "
        f"{o.opts.duration_s:g} s",
        f"  requests: {len(o.measured)} measured (track {kinds['track']}, sync {kinds['sync']}"
        f"); failed {len(failed)} ({len(failed) / max(1, len(o.measured)):.2%}); on duty "
        f"{o.on_duty} of {o.opts.phones} phones",
        f"  points: {o.points} stored in the window, {o.per_s:.1f}/s (by quarter: "
        + ", ".join(f"{r:.0f}" for r in o.slices)
        + f"); duplicates {sum(s.duplicates for s in ok)}; reports filed "
        f"{sum(s.reports for s in ok)} ("
        + ", ".join(f"{k} {v}" for k, v in became.most_common())
        + f"; {sum(s.merged for s in ok)} merged into an open case)",
        f"  latency: sync p50 {_ms(sync, 50):.1f} ms, p99 {_ms(sync, 99):.1f} ms, max "
        f"{_ms(sync, 100):.1f} ms (those with a report p50 {_ms(with_report, 50):.1f} ms); "
        f"track p50 {_ms(track, 50):.1f} ms, p99 {_ms(track, 99):.1f} ms",
        f"  ceiling: the same {o.bare_points} points, {len(o.batches)} INSERTs of track.py's "
        f"statement ({driver}, {o.opts.phones} at once): {o.bare_per_s:.1f} points/s; "
        f"ratio {ratio:.3f}",
        f"  CPU in the window ({os.cpu_count()} cores): server {o.cpu.server * 1000 / n:.3f} ms"
        + (f", postgres {o.cpu.postgres * 1000 / n:.3f} ms" if pg else "")
        + f", this client {o.cpu.client * 1000 / n:.3f} ms per point; machine busy "
        f"{o.cpu.busy:.0%} (other processes {o.cpu.others / o.opts.duration_s:.2f} cores)",
    ]
    for error, count in Counter(s.error for s in failed).most_common(10):
        lines.append(f"  error x{count}: {error}")
    lines.append(
        f"RESULT phones={o.opts.phones} points_per_s={o.per_s:.1f} "
        f"sync_p99_ms={_ms(sync, 99):.1f} ceiling_ratio={ratio:.3f}"
    )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; exit 1 if more than 1 % of the measured requests failed."""
    opts = parse_args(argv)
    return run_bench("field bench", lambda: bench(opts), summary, lambda o: o.measured)


if __name__ == "__main__":
    sys.exit(main())
