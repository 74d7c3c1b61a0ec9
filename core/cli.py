"""The `cityloop` command: serve, worker, migrate, create-user, import-grids, seed-demo."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from core.config import Settings, load_settings
from core.errors import CityloopError


def _settings(**overrides: Any) -> Settings:
    from core.auth.service import configure_hasher

    settings = load_settings(**{k: v for k, v in overrides.items() if v is not None})
    configure_hasher(time_cost=settings.password_time_cost, memory_kib=settings.password_memory_kib)
    return settings


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the web server (with --demo: migrate, seed a demo city, print the logins)."""
    from core.db import database
    from core.demo import print_demo, seed_demo, seed_extras
    from core.logs import setup_logging
    from core.web.server import serve

    if args.demo:
        from core.packages import demo_environment

        # The packages' demo settings (a demo 公众号 for the simulator…), unless set already.
        for key, value in demo_environment().items():
            os.environ.setdefault(key, value)
    # A person trying the demo reads the log in a terminal: text, unless they chose otherwise.
    text_logs = "text" if args.demo and "CITYLOOP_LOG_FORMAT" not in os.environ else None
    settings = _settings(
        host=args.host, port=args.port, demo=args.demo or None, log_format=text_logs
    )
    setup_logging(settings.log_level, settings.log_format)
    if not args.reuse_port:  # a worker of --workers binds beside its siblings
        _check_port_free(settings.host, settings.port)

    async def prepare() -> list[tuple[str, str, str]]:
        async with database(settings, migrate=settings.demo):
            if not settings.demo:
                return []
            logins = await seed_demo(settings)
            await seed_extras(settings)
            return logins

    logins = asyncio.run(prepare())
    url = f"http://{settings.host}:{settings.port}"
    if settings.demo:
        print_demo(url, logins, settings)
    workers = f", {args.workers} processes" if args.workers > 1 else ""
    print(
        f"cityloop serving on {url}{workers}  (API {url}/api/v1, OpenAPI {url}/api/openapi.json)",
        flush=True,
    )
    if args.workers > 1:
        return _supervise(args.workers, settings)
    serve(settings, reuse_port=args.reuse_port)
    return 0


def _port(text: str) -> int:
    """A TCP port for --port (its own error, not CITYLOOP_PORT's)."""
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port (1-65535)")
    return int(text)


def _check_port_free(host: str, port: int) -> None:
    """Refuse a port something else holds, before seeding or announcing anything (a bind
    without SO_REUSEPORT fails even where another deployment's processes share theirs)."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does
        try:
            probe.bind((host, port))
        except OSError as err:
            raise CityloopError(
                f"{host}:{port}: {err.strerror or err}",
                code="port_in_use",
                message=f"端口 {port} 已被占用（另一个 cityloop 或其他程序）：请用 --port 换一个",
            ) from None


def _supervise(count: int, settings: Settings) -> int:
    """Run several server processes on one port (SO_REUSEPORT); stop them all together."""
    import signal
    import subprocess

    command = [
        *(sys.executable, "-m", "core.cli", "serve", "--reuse-port"),
        *("--host", settings.host, "--port", str(settings.port)),
    ]
    # The workers log as the parent does (text for a person trying the demo).
    env = {**os.environ, "CITYLOOP_LOG_FORMAT": settings.log_format}
    children = [subprocess.Popen(command, env=env) for _ in range(count)]  # noqa: S603 (our argv)

    def forward(signum: int, _frame: object) -> None:
        for child in children:
            if child.poll() is None:
                child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    while all(child.poll() is None for child in children):
        try:
            children[0].wait(timeout=1)
        except subprocess.TimeoutExpired:
            continue
    forward(signal.SIGTERM, None)  # one ended: take the others down too
    return max(child.wait() for child in children)


def cmd_worker(args: argparse.Namespace) -> int:
    """Run an arq worker for the outbox and the cron jobs (needs CITYLOOP_REDIS_URL)."""
    from arq.worker import run_worker

    from core.jobs.worker import worker_settings
    from core.logs import setup_logging

    settings = _settings()
    setup_logging(settings.log_level, settings.log_format)
    if not settings.redis_dsn:
        print(
            "cityloop worker: CITYLOOP_REDIS_URL is not set; without Redis, "
            "`cityloop serve` runs the jobs itself.",
            file=sys.stderr,
        )
        return 2
    run_worker(worker_settings(settings))
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    """Apply pending migrations; with --check, only report pending ones and model drift."""
    from core.db import apply_migrations, database, model_drift, pending_migrations

    settings = _settings()

    async def run() -> int:
        async with database(settings, require_current=False) as ctx:
            if args.check:
                pending = await pending_migrations(settings)
                for name in pending:
                    print(f"pending: {name}")
            else:
                pending = []
                for name in await apply_migrations(settings):
                    print(f"applied: {name}")
            drift = await model_drift(ctx, settings)
        for op in drift:
            print(f"models differ from migrations: {op}")
        if drift:
            print("run `cityloop makemigrations` and commit the new migration", file=sys.stderr)
        elif not pending:
            print("database schema is up to date")
        return 1 if pending or drift else 0

    return asyncio.run(run())


def cmd_makemigrations(args: argparse.Namespace) -> int:
    """Write a migration for model changes (developers)."""
    from core.db import make_migrations

    settings = _settings()
    for path in asyncio.run(make_migrations(settings, name=args.name)):
        print(f"created {path}")
    return 0


def cmd_create_user(args: argparse.Namespace) -> int:
    """Create a staff account."""
    from core.audit.service import Actor
    from core.auth.accounts import PasswordPolicy, create_staff
    from core.db import database
    from core.org.models import Department

    # Never an argument: it would show in `ps` and the shell's history.
    password = _ask_password()
    settings = _settings()
    PasswordPolicy.of(settings).check(args.username, password)

    async def run() -> None:
        async with database(settings):
            dep = None
            if args.department:
                dep = await Department.get_or_none(code=args.department)
                if dep is None:
                    raise CityloopError(
                        f"unknown department {args.department}", message="部门不存在"
                    )
            staff = await create_staff(
                username=args.username,
                password=password,
                display_name=args.name or args.username,
                roles=args.role,
                department_id=dep.id if dep else None,
                actor=Actor.cli(),
            )
            print(f"created staff #{staff.id} {staff.username} roles={','.join(staff.roles)}")

    asyncio.run(run())
    return 0


def _ask_password() -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("password: ")
    if first != getpass.getpass("again: "):
        raise CityloopError("passwords differ", message="两次输入的密码不一致")
    return first


def cmd_import_grids(args: argparse.Namespace) -> int:
    """Import 单元网格 at once: `cityloop import grids FILE --apply`, kept for scripts."""
    from core.bulk import service
    from core.geo import CoordSystem

    _settings()
    return asyncio.run(service.run("grids", Path(args.file), apply=True, crs=CoordSystem(args.crs)))


def cmd_seed_demo(args: argparse.Namespace) -> int:
    """Migrate and seed the demo city into the configured database; print the logins."""
    from core.db import database
    from core.demo import print_demo, seed_demo, seed_extras

    settings = _settings(demo=True)

    async def run() -> list[tuple[str, str, str]]:
        async with database(settings, migrate=True):
            logins = await seed_demo(settings)
            for module, count in (await seed_extras(settings)).items():
                print(f"{module}: {count} new")
            return logins

    logins = asyncio.run(run())
    print_demo(f"http://{settings.host}:{settings.port}", logins, settings)
    return 0


def cmd_packages(args: argparse.Namespace) -> int:
    """List the installed packages, whether this configuration enables them, what they add."""
    from core.jobs.events import subscriptions
    from core.packages import installed
    from core.runtime import build_runtime

    # Building the runtime loads the enabled packages' jobs, and so their subscribers.
    on = {p.name for p in build_runtime(_settings(), process="cli").packages}
    subs = subscriptions()
    for package in installed():
        state = "enabled" if package.name in on else "disabled"
        print(f"{package.name:<12} {state:<9} {package.title}")
        if package.name in on:
            mine = [s.name for s in subs if s.name.split(".", 1)[0] == package.name]
            print(f"{'':<12} routes: {', '.join(package.routes) or '-'}")
            print(f"{'':<12} subscribers: {', '.join(mine) or '-'}")
    return 0


def cmd_events_replay(args: argparse.Namespace) -> int:
    """Write the missing subscriber rows of past events (recovery); rows that exist are kept."""
    from core.db import database
    from core.jobs.events import replay
    from core.packages import histories
    from core.runtime import build_runtime

    settings = _settings()
    since, until = (
        _instant(v, name) for v, name in ((args.since, "--since"), (args.until, "--until"))
    )
    if since is None:
        raise CityloopError("--since is required", message="请指定 --since")
    only = set(args.subscriber) if args.subscriber else None

    async def run() -> int:
        async with database(settings):
            # The fan-outs word their rows by the city's rules: the runtime has them.
            hints = {"runtime": build_runtime(settings, process="cli")}
            added = 0
            for history in histories(settings):
                added += await replay(history(since, until=until), only=only, hints=hints)
            return added

    added = asyncio.run(run())
    window = f"since {since.isoformat()}" + (f" until {until.isoformat()}" if until else "")
    print(f"replayed events {window}: {added} new outbox rows (the runners pick them up)")
    return 0


def _instant(value: str | None, name: str) -> Any:
    import datetime as dt

    from core.timeutil import LOCAL_TZ

    if value is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError as err:
        raise CityloopError(f"{name}: {err}", message=f"{name} 的时间格式不正确") from err
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=LOCAL_TZ)


def build_parser() -> argparse.ArgumentParser:
    """Describe the command line."""
    parser = argparse.ArgumentParser(
        prog="cityloop",
        description="cityloop: 城市运行管理服务平台 backend. Settings come from CITYLOOP_* "
        "environment variables (see README).",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    serve = _add(sub, "serve", cmd_serve)
    serve.add_argument(
        "--demo", action="store_true", help="migrate, seed a demo city, print logins"
    )
    serve.add_argument("--host", help="listen address (default CITYLOOP_HOST or 127.0.0.1)")
    serve.add_argument("--port", type=_port, help="listen port (default CITYLOOP_PORT or 8080)")
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="server processes sharing the port (SO_REUSEPORT), e.g. one per core",
    )
    serve.add_argument("--reuse-port", action="store_true", help=argparse.SUPPRESS)
    _add(sub, "worker", cmd_worker)
    migrate = _add(sub, "migrate", cmd_migrate)
    migrate.add_argument(
        "--check",
        action="store_true",
        help="change nothing; exit 1 if migrations are pending or models drifted",
    )
    mk = _add(sub, "makemigrations", cmd_makemigrations)
    mk.add_argument("--name", help="migration name suffix")
    user = _add(sub, "create-user", cmd_create_user)
    user.add_argument("username")
    user.add_argument(
        "--role",
        action="append",
        required=True,
        help="admin, acceptor, shift_lead, dispatcher, handler, inspector, agent "
        "(repeat for several)",
    )
    user.add_argument("--name", help="display name")
    user.add_argument("--department", help="department code (handlers)")
    grids = _add(sub, "import-grids", cmd_import_grids)
    grids.add_argument(
        "file", help="GeoJSON, CSV/XLSX of WKT or Shapefile (as `cityloop import grids`)"
    )
    grids.add_argument(
        "--crs",
        default="wgs84",
        choices=["wgs84", "cgcs2000", "gcj02", "bd09"],
        help="coordinate system of the file (default wgs84)",
    )
    _add(sub, "seed-demo", cmd_seed_demo)
    _add(sub, "packages", cmd_packages)
    events = sub.add_parser("events", help="case events and their subscribers")
    events_sub = events.add_subparsers(dest="events_command", required=True, metavar="COMMAND")
    replay = _add(events_sub, "replay", cmd_events_replay)
    replay.add_argument(
        "--since",
        required=True,
        help="ISO instant (local time if no offset), e.g. 2026-12-01T08:00",
    )
    replay.add_argument("--until", help="ISO instant; default now")
    replay.add_argument(
        "--subscriber", action="append", help="only this subscriber (repeat for several)"
    )
    _package_commands(sub)
    return parser


def _package_commands(sub: Any) -> None:
    """The commands the installed packages add (`cityloop wechat simulate`…)."""
    import importlib

    from core.packages import command_modules

    for module in command_modules():
        importlib.import_module(module).add_commands(sub)


def _add(sub: Any, name: str, fn: Callable[[argparse.Namespace], int]) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = sub.add_parser(
        name, help=(fn.__doc__ or "").strip(), description=(fn.__doc__ or "").strip()
    )
    parser.set_defaults(func=fn)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; print configuration and input errors without a traceback."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except CityloopError as err:
        print(f"cityloop {args.command}: {err.message}\n{err.detail}", file=sys.stderr)
        return 2 if err.code in {"config_error", "schema_out_of_date"} else 1
    except KeyboardInterrupt:
        return 130
    except OSError as err:  # e.g. the port is taken: say so, without a traceback
        print(f"cityloop {args.command}: {err.strerror or err}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
