"""The load of bench/intake.py: closed-loop report clients, CPU accounting, dispatch times."""

from __future__ import annotations

import asyncio
import itertools
import math
import os
import random
import secrets
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import _diagnose
import aiohttp
import asyncpg
from _setup import Database, Inspector, json_of, stop

CATEGORY = "E09009"  # 机动车乱停放: auto 立案/派遣 for grid_app; merged within 20 m for 4 h


@dataclass
class Sample:
    key: str
    inspector: int
    sent: float  # perf_counter
    sent_wall: float  # time.time(), to compare with the server's timestamps
    latency: float
    status: int
    merged: bool = False
    case_id: int = 0
    case_status: str = ""
    error: str = ""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass
class Cpu:
    """CPU seconds used during the measured window, by whom."""

    server: float = 0.0
    server_sys: float = 0.0  # the part in the kernel: sockets to PostgreSQL and clients
    postgres: float = 0.0
    client: float = 0.0
    busy: float = 0.0  # share of the machine
    steal: float = 0.0
    others: float = 0.0  # CPU seconds of every other process (a test run beside us, ...)
    quarters: list[tuple[float, float]] = field(default_factory=list)  # (server, postgres)


# --- load ---------------------------------------------------------------------------------


async def submit(
    http: aiohttp.ClientSession, base: str, insp: Inspector, key: str, rng: random.Random
) -> Sample:
    """Post one report with the inspector's photo; time it from send to the parsed answer."""
    lon, lat = insp.point(rng)
    body = {
        "idempotency_key": key,
        "category_code": CATEGORY,
        "description": f"机动车乱停放，占用人行道，影响通行（压测 {key}）",
        "location": {"lon": lon, "lat": lat},
        "attachments": [insp.media_id],
    }
    headers = {"Authorization": insp.token, "X-Request-ID": key}
    sent_wall, sent = time.time(), time.perf_counter()
    try:
        async with http.post(f"{base}/api/v1/reports", json=body, headers=headers) as resp:
            status = resp.status
            data = await resp.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as err:
        latency = time.perf_counter() - sent
        return Sample(key, insp.index, sent, sent_wall, latency, 0, error=repr(err)[:160])
    sample = Sample(key, insp.index, sent, sent_wall, time.perf_counter() - sent, status)
    if not sample.ok:
        detail = f"{data.get('code')}: {data.get('message')}" if isinstance(data, dict) else ""
        sample.error = f"HTTP {status} {detail}"
    else:
        sample.merged = bool(data["merged"])
        sample.case_id = int(data["case"]["id"])
        sample.case_status = str(data["case"]["status"])
    return sample


async def load(
    http: aiohttp.ClientSession,
    base: str,
    inspectors: list[Inspector],
    concurrency: int,
    *,
    until: float,
) -> list[Sample]:
    """Closed-loop workers, each an inspector's client, post reports until `until`."""
    run, rng = secrets.token_hex(3), random.Random(1)
    samples: list[Sample] = []

    async def worker(w: int) -> None:
        insp = inspectors[w % len(inspectors)]
        n = 0
        while time.perf_counter() < until:
            n += 1
            samples.append(await submit(http, base, insp, f"b{run}w{w:03d}n{n:07d}", rng))

    await asyncio.gather(*(worker(w) for w in range(concurrency)))
    return samples


def _machine() -> tuple[int, int, int]:
    """(total, idle + iowait, steal) jiffies since boot."""
    with open("/proc/stat") as f:
        values = [int(v) for v in f.readline().split()[1:9]]
    return sum(values), values[3] + values[4], values[7]


async def _pg_backends(db: Database) -> list[int]:
    if db.backend != "postgres":
        return []
    conn = await asyncpg.connect(db.driver)
    try:
        rows = await conn.fetch(
            "SELECT pid FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    finally:
        await conn.close()
    return [int(r["pid"]) for r in rows]


async def measure_cpu(t0: float, t1: float, server_pid: int, db: Database) -> Cpu:
    """CPU seconds of the server, its PostgreSQL backends and this client in [t0, t1], and
    of the server and PostgreSQL in each quarter of it."""
    await asyncio.sleep(max(0.0, t0 - time.perf_counter()))
    pg = await _pg_backends(db)

    def snap() -> tuple[tuple[float, float], float, float, tuple[int, int, int]]:
        pg_cpu = sum(_diagnose.proc_cpu(p) for p in pg)
        return _diagnose.proc_times(server_pid), pg_cpu, time.process_time(), _machine()

    snaps = [snap()]
    for i in range(1, 5):
        await asyncio.sleep(max(0.0, t0 + (t1 - t0) * i / 4 - time.perf_counter()))
        snaps.append(snap())
    start, end = snaps[0], snaps[-1]
    total = max(1, end[3][0] - start[3][0])
    busy = 1 - (end[3][1] - start[3][1]) / total
    cpu = Cpu(
        server=sum(end[0]) - sum(start[0]),
        server_sys=end[0][1] - start[0][1],
        postgres=end[1] - start[1],
        client=end[2] - start[2],
        busy=busy,
        steal=(end[3][2] - start[3][2]) / total,
        quarters=[(sum(b[0]) - sum(a[0]), b[1] - a[1]) for a, b in itertools.pairwise(snaps)],
    )
    ours = cpu.server + cpu.postgres + cpu.client
    cpu.others = max(0.0, busy * total / os.sysconf("SC_CLK_TCK") - ours)
    return cpu


async def py_spy(t0: float, seconds: float, pid: int, out: Path) -> None:
    """Sample the server with py-spy during the window: the thread holding the GIL only, so
    that time the process waits for a CPU (2 cores, PostgreSQL beside it) is not counted."""
    exe = Path(sys.executable).with_name("py-spy")
    if not exe.exists():
        print("py-spy is not installed next to this python: pip install py-spy", file=sys.stderr)
        return
    await asyncio.sleep(max(0.0, t0 - time.perf_counter()))
    proc = await asyncio.create_subprocess_exec(
        str(exe), "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", "200",
        "--format", "raw", "--nonblocking", "--gil", "--output", str(out),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    try:
        await asyncio.wait_for(proc.wait(), seconds + 30)
    finally:
        await stop(proc)


# --- dispatch -----------------------------------------------------------------------------


@dataclass
class Dispatch:
    times_ms: list[float] = field(default_factory=list)
    at_response: int = 0
    later: int = 0
    never: int = 0
    in_server_ms: list[float] = field(default_factory=list)
    outside: int = 0  # timeline instants outside the client's send → answer window


async def _events(
    http: aiohttp.ClientSession, base: str, insp: Inspector, case_id: int
) -> dict[str, float]:
    """The first instant of each action on the case's timeline (epoch seconds)."""
    headers = {"Authorization": insp.token}
    async with http.get(f"{base}/api/v1/cases/{case_id}", headers=headers) as r:
        timeline = (await json_of(r))["timeline"]
    seen: dict[str, float] = {}
    for e in timeline:
        seen.setdefault(e["action"], datetime.fromisoformat(e["created_at"]).timestamp())
    return seen


async def dispatch_times(
    http: aiohttp.ClientSession, base: str, inspectors: list[Inspector], measured: list[Sample]
) -> Dispatch:
    """Submission → dispatched per new case: the answer's latency when it says 'dispatched'
    (checked against the timeline for a sample), else polled from the timeline for 5 s."""
    new = [s for s in measured if s.ok and not s.merged]
    done = [s for s in new if s.case_status == "dispatched"]
    result = Dispatch([s.latency * 1000 for s in done], at_response=len(done))
    for s in random.Random(2).sample(done, min(len(done), 50)):
        ev = await _events(http, base, inspectors[s.inspector], s.case_id)
        result.in_server_ms.append((ev["dispatch"] - ev["report"]) * 1000)
        slack = 0.005  # the server stamps rows after the request arrived, before it answers
        window = (s.sent_wall - slack, s.sent_wall + s.latency + slack)
        if not window[0] <= ev["report"] <= ev["dispatch"] <= window[1]:
            result.outside += 1
    pending = [s for s in new if s.case_status != "dispatched"]
    result.never = max(0, len(pending) - 50)  # beyond 50 not polled: counted as never
    result.times_ms += [math.inf] * result.never
    deadline = time.monotonic() + 5
    for s in pending[:50]:
        while True:
            ev = await _events(http, base, inspectors[s.inspector], s.case_id)
            if "dispatch" in ev:
                result.later += 1
                result.times_ms.append((ev["dispatch"] - s.sent_wall) * 1000)
                break
            if time.monotonic() > deadline:
                result.never += 1
                result.times_ms.append(math.inf)  # not dispatched: the p99 says so
                break
            await asyncio.sleep(0.1)
    return result
