"""Setting up for bench/intake.py: a fresh database, the server process, logged-in inspectors."""

from __future__ import annotations

import asyncio
import contextlib
import io
import math
import os
import random
import secrets
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import _diagnose
import aiohttp
import asyncpg
from PIL import Image
from shapely.geometry import Point, shape

T = TypeVar("T")
REPO = Path(__file__).resolve().parents[1]
# The repository ahead of bench/ on the path: the project's packages are imported by name (the
# package registry imports every one), and bench/vision.py would otherwise be taken for the
# `vision` package by every benchmark run from this folder.
if sys.path[:1] != [str(REPO)]:
    sys.path.insert(0, str(REPO))
SPACING_M = 21.0  # lattice step, just over the 20 m merge radius: a point's first use is new
M_PER_DEG = 111_320.0
UPLOADS_PER_INSPECTOR = 4


@dataclass(frozen=True)
class Database:
    backend: str  # sqlite | postgres
    url: str  # what the server is given
    driver: str  # SQLite file path, or asyncpg DSN
    name: str = ""


@dataclass
class Inspector:
    index: int
    token: str
    points: list[tuple[float, float]]
    media_id: int = 0
    used: int = 0

    def point(self, rng: random.Random) -> tuple[float, float]:
        """The next lattice point, jittered by a few decimetres; after a full round, reused."""
        lon, lat = self.points[self.used % len(self.points)]
        self.used += 1
        j = 0.25 / M_PER_DEG
        return lon + rng.uniform(-j, j), lat + rng.uniform(-j, j)


# --- the database -------------------------------------------------------------------------


def _asyncpg_dsn(url: str) -> str:
    base = url.partition("?")[0]  # tortoise options (maxsize=…) are not libpq parameters
    return "postgresql://" + base.split("://", 1)[1]


def _with_db(url: str, name: str) -> str:
    base, sep, query = url.partition("?")
    return f"{base.rpartition('/')[0]}/{name}{sep}{query}"


async def _pg_execute(dsn: str, sql: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextlib.asynccontextmanager
async def fresh_database(
    url: str | None, tmp: Path, *, keep: bool = False
) -> AsyncIterator[Database]:
    """A new, empty database: a temp SQLite file, or a new database on the PostgreSQL server
    (dropped at the end unless `keep`)."""
    if url is None:
        path = tmp / "bench.sqlite3"
        yield Database("sqlite", f"sqlite://{path}", str(path))
        return
    if not url.startswith(("postgres://", "postgresql://")):
        raise SystemExit("--database-url must be a postgres:// URL (SQLite is the default)")
    admin = _asyncpg_dsn(url)
    name = f"cityloop_bench_{secrets.token_hex(4)}"
    await _pg_execute(admin, f'CREATE DATABASE "{name}"')
    try:
        yield Database("postgres", _with_db(url, name), _with_db(admin, name), name)
    finally:
        if not keep:
            await _pg_execute(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def existing_database(url: str, name: str) -> Database:
    """A database on the PostgreSQL server that an earlier run kept."""
    return Database("postgres", _with_db(url, name), _with_db(_asyncpg_dsn(url), name), name)


async def migrate_and_seed(db: Database, media: Path) -> dict[str, str]:
    """Migrate and seed the demo city with the project's own code; return the passwords."""
    from core.config import load_settings
    from core.db import database
    from core.demo import seed_demo

    settings = load_settings(database_url=db.url, media_dir=media)
    async with database(settings, migrate=True):
        logins = await seed_demo(settings)
    return {username: password for username, password, _ in logins}


# --- the server ---------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _server_env(
    db: Database, port: int, tmp: Path, redis_url: str | None, extra: dict[str, str] | None = None
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITYLOOP_")}
    env |= {
        "CITYLOOP_DATABASE_URL": db.url,
        "CITYLOOP_HOST": "127.0.0.1",
        "CITYLOOP_PORT": str(port),
        "CITYLOOP_LOG_LEVEL": "WARNING",
        "CITYLOOP_MEDIA_DIR": str(tmp / "media"),
        "PYTHONPATH": str(REPO),
    }
    if redis_url:
        env["CITYLOOP_REDIS_URL"] = redis_url
        env["CITYLOOP_QUEUE_NAME"] = f"cityloop:bench:{secrets.token_hex(4)}"
    return env | (extra or {})


def _log_file(path: Path) -> io.BufferedWriter:
    return path.open("wb")


def _tail(path: Path) -> str:
    return path.read_text(errors="replace")[-3000:]


async def _spawn(args: list[str], env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    out = _log_file(log)
    try:
        return await asyncio.create_subprocess_exec(
            *args, env=env, cwd=REPO, stdout=out, stderr=out, start_new_session=True
        )
    finally:
        out.close()


async def stop(proc: asyncio.subprocess.Process) -> None:
    """Stop a child: SIGINT (a clean shutdown), then SIGTERM, then SIGKILL."""
    if proc.returncode is not None:
        return
    for sig, wait_s in ((signal.SIGINT, 15.0), (signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(sig)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(proc.wait(), wait_s)
            return


async def _wait_ready(
    http: aiohttp.ClientSession, base: str, proc: asyncio.subprocess.Process, log: Path
) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.returncode is not None:
            raise SystemExit(f"the server exited with {proc.returncode}:\n{_tail(log)}")
        with contextlib.suppress(aiohttp.ClientError):
            async with http.get(f"{base}/readyz") as resp:
                if resp.status == 200:
                    return
        await asyncio.sleep(0.2)
    raise SystemExit("the server was not ready within 60 s")


@contextlib.asynccontextmanager
async def running_server(
    http: aiohttp.ClientSession,
    db: Database,
    tmp: Path,
    *,
    redis_url: str | None = None,
    sql_trace: bool = False,
    workers: int = 1,
    extra_env: dict[str, str] | None = None,
) -> AsyncIterator[tuple[str, asyncio.subprocess.Process]]:
    """Start `python -m core.cli serve` (and a worker with Redis); stop them at the end."""
    port = _free_port()
    env = _server_env(db, port, tmp, redis_url, extra_env)
    args = [sys.executable, "-m", "core.cli", "serve", "--workers", str(workers)]
    if sql_trace:
        args = [sys.executable, str(Path(_diagnose.__file__)), "serve-traced", str(tmp / "sql.log")]
    procs = [await _spawn(args, env, tmp / "server.log")]
    try:
        if redis_url:
            worker = [sys.executable, "-m", "core.cli", "worker"]
            procs.append(await _spawn(worker, env, tmp / "worker.log"))
        base = f"http://127.0.0.1:{port}"
        await _wait_ready(http, base, procs[0], tmp / "server.log")
        yield base, procs[0]
    finally:
        await asyncio.gather(*(stop(p) for p in procs))


# --- clients ------------------------------------------------------------------------------


def _jpeg(seed: int) -> bytes:
    rng = random.Random(seed)
    buffer = io.BytesIO()
    noise = bytes(rng.getrandbits(8) for _ in range(160 * 120 * 3))
    Image.frombytes("RGB", (160, 120), noise).save(buffer, "JPEG", quality=80)
    return buffer.getvalue()


def lattice(geometry: dict[str, Any]) -> list[tuple[float, float]]:
    """Points inside a grid, SPACING_M apart and half that from its edges."""
    poly = shape(geometry)
    minx, miny, maxx, maxy = poly.bounds
    mx = M_PER_DEG * math.cos(math.radians((miny + maxy) / 2))
    nx = max(1, int((maxx - minx) * mx // SPACING_M))
    ny = max(1, int((maxy - miny) * M_PER_DEG // SPACING_M))
    points = [
        (minx + (i + 0.5) * (maxx - minx) / nx, miny + (j + 0.5) * (maxy - miny) / ny)
        for i in range(nx)
        for j in range(ny)
    ]
    return [p for p in points if poly.contains(Point(p))]


async def json_of(resp: aiohttp.ClientResponse) -> Any:
    """The JSON body of a response; stop the run on an error status."""
    data = await resp.json(content_type=None)
    if resp.status >= 300:
        raise SystemExit(f"{resp.method} {resp.url.path}: {resp.status} {data}")
    return data


async def log_in(
    http: aiohttp.ClientSession, base: str, passwords: dict[str, str]
) -> list[Inspector]:
    """Log in inspector1..4; give each a shuffled lattice over its own grids."""
    async with http.get(f"{base}/api/v1/grids", headers=await _auth(http, base, passwords)) as r:
        shapes = {f["id"]: f["geometry"] for f in (await json_of(r))["features"]}
    inspectors = []
    for i, name in enumerate(sorted(u for u in passwords if u.startswith("inspector"))):
        headers = await _auth(http, base, passwords, name)
        async with http.get(f"{base}/api/v1/auth/me", headers=headers) as r:
            grid_ids = (await json_of(r))["grid_ids"]
        points = [p for g in grid_ids for p in lattice(shapes[g])]
        random.Random(i).shuffle(points)
        inspectors.append(Inspector(i, headers["Authorization"], points))
    return inspectors


async def _auth(
    http: aiohttp.ClientSession, base: str, passwords: dict[str, str], name: str = "inspector1"
) -> dict[str, str]:
    body = {"username": name, "password": passwords[name]}
    async with http.post(f"{base}/api/v1/auth/login", json=body) as r:
        return {"Authorization": f"Bearer {(await json_of(r))['token']}"}


async def upload_photos(
    http: aiohttp.ClientSession, base: str, inspectors: list[Inspector]
) -> list[float]:
    """Upload a few small JPEGs per inspector; keep the first one's id; return latencies."""
    latencies: list[float] = []

    async def one(insp: Inspector, n: int) -> None:
        form = aiohttp.FormData()
        form.add_field("file", _jpeg(insp.index * 100 + n), filename="photo.jpg")
        started = time.perf_counter()
        async with http.post(
            f"{base}/api/v1/media", data=form, headers={"Authorization": insp.token}
        ) as r:
            media = await json_of(r)
        latencies.append(time.perf_counter() - started)
        if n == 0:
            insp.media_id = int(media["id"])

    for n in range(UPLOADS_PER_INSPECTOR):
        await asyncio.gather(*(one(insp, n) for insp in inspectors))
    return latencies


def run_bench(
    label: str,
    work: Callable[[], Coroutine[Any, Any, T]],
    summary: Callable[[T], list[str]],
    measured: Callable[[T], Sequence[Any]],
) -> int:
    """Run a benchmark on a clean environment and print its summary; the exit status is 1
    when more than 1 % of the measured requests failed (each sample has `ok`)."""
    for key in [k for k in os.environ if k.startswith("CITYLOOP_")]:
        del os.environ[key]  # the demo city is seeded with defaults, as the server runs
    try:
        outcome = asyncio.run(work())
    except (KeyboardInterrupt, asyncio.CancelledError):
        print(f"{label}: interrupted; server stopped, database dropped", file=sys.stderr)
        return 130
    except (OSError, asyncpg.PostgresError) as err:
        print(f"{label}: database: {type(err).__name__}: {err}", file=sys.stderr)
        return 2
    print("\n".join(summary(outcome)), flush=True)
    done = measured(outcome)
    failed = sum(not s.ok for s in done)
    return 1 if failed > 0.01 * max(1, len(done)) else 0
