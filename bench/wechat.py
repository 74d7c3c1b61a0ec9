"""公众号 benchmark: signed WeChat messages at a rising rate against the real server, and a ceiling.

    python bench/wechat.py [--quick] [--database-url postgres://user@127.0.0.1:5432/db] [--safe]

Prepares a fresh database (a temp SQLite file, or a new `cityloop_bench_<random>` database on
the given PostgreSQL server), migrates and seeds the demo city, starts `python -m core.cli
serve` with the 公众号 configured against a fake WeChat API run here, and plays WeChat: each
conversation is a new citizen sending a location (GCJ-02, inside a demo grid), a description
and "1" (a case is filed), each message signed (and encrypted with --safe) as WeChat sends it,
the next sent when the reply came. Conversations start at a rising rate, step after step;
every reply's latency is kept. Then the ceiling, from 200 messages/s doubling until it no
longer holds: a bare aiohttp handler in its own process that checks the signature and answers
the same reply XML.

A step holds when at least 95 % of its offered messages were answered within it and its p99
is at most 100 ms (the issue's bar). The last line is `RESULT wechat_msgs_per_s=<highest
rate held> reply_p99_ms=<p99 at 200 messages/s> ceiling_ratio=<held ÷ the ceiling's held>`.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import itertools
import math
import os
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from _setup import REPO, fresh_database, lattice, migrate_and_seed, running_server, stop
from aiohttp import web

sys.path.insert(0, str(REPO))
from core.geo import wgs84_to_gcj02

APP_ID, SECRET, TOKEN = "wxbench000000001", "bench-app-secret", "benchservertoken"
AES_KEY = "QmVuY2hLZXlGb3JDaXR5bG9vcFdlQ2hhdEJlbmNoMDA"
BAR_RATE, BAR_P99_MS = 200, 100.0
REPLY = (
    "<xml><ToUserName><![CDATA[{to}]]></ToUserName><FromUserName><![CDATA[gh_bench]]>"
    "</FromUserName><CreateTime>{t}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
    "<Content><![CDATA[已记录问题描述。请发送位置，或回复“地址：XX路XX号”。]]></Content></xml>"
)


def _sha1(*parts: str) -> str:
    return hashlib.sha1("".join(sorted(parts)).encode()).hexdigest()  # noqa: S324 (WeChat's)


class WeChat:
    """Builds signed (and in safe mode encrypted) messages, as WeChat's servers send them."""

    def __init__(self, safe: bool) -> None:
        from wechatpy.crypto import WeChatCrypto

        self.crypto = WeChatCrypto(TOKEN, AES_KEY, APP_ID) if safe else None
        self.ids = itertools.count(int(time.time()) * 1000)

    def post(self, openid: str, msg_type: str, **fields: str) -> tuple[dict[str, str], bytes]:
        body = "".join(f"<{k}><![CDATA[{v}]]></{k}>" for k, v in fields.items())
        xml = (
            "<xml><ToUserName><![CDATA[gh_bench]]></ToUserName>"
            f"<FromUserName><![CDATA[{openid}]]></FromUserName>"
            f"<CreateTime>{int(time.time())}</CreateTime><MsgType><![CDATA["
            f"{msg_type}]]></MsgType>{body}<MsgId>{next(self.ids)}</MsgId></xml>"
        )
        ts, nonce = str(int(time.time())), os.urandom(4).hex()
        query = {"signature": _sha1(TOKEN, ts, nonce), "timestamp": ts, "nonce": nonce}
        if self.crypto is None:
            return query, xml.encode()
        packed = self.crypto.encrypt_message(xml, nonce, ts)
        encrypted = packed.split("<Encrypt><![CDATA[")[1].split("]]>")[0]
        query |= {"encrypt_type": "aes", "msg_signature": _sha1(TOKEN, ts, nonce, encrypted)}
        return query, f"<xml><Encrypt><![CDATA[{encrypted}]]></Encrypt></xml>".encode()


# --- the ceiling and the fake WeChat API ---------------------------------------------------


async def _bare(request: web.Request) -> web.Response:
    q = request.query
    body = await request.read()
    if q.get("signature") != _sha1(TOKEN, q.get("timestamp", ""), q.get("nonce", "")):
        return web.Response(status=403)
    sender = body.split(b"<FromUserName><![CDATA[")[1].split(b"]]>")[0].decode() if body else ""
    return web.Response(
        text=REPLY.format(to=sender, t=int(time.time())), content_type="application/xml"
    )


def serve_ceiling(port: int) -> None:
    """The ceiling server (run in a process of its own: `wechat.py --ceiling PORT`)."""
    app = web.Application()
    app.router.add_post("/wechat/oa", _bare)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


def fake_api() -> web.Application:
    """Tokens and message sends for the server's notices (nothing is checked here)."""

    async def token(_: web.Request) -> web.Response:
        return web.json_response({"access_token": os.urandom(8).hex(), "expires_in": 7200})

    async def sent(_: web.Request) -> web.Response:
        return web.json_response({"errcode": 0, "errmsg": "ok", "msgid": 1})

    app = web.Application()
    app.router.add_get("/cgi-bin/token", token)
    app.router.add_post("/cgi-bin/message/template/send", sent)
    app.router.add_post("/cgi-bin/message/custom/send", sent)
    return app


# --- the load ------------------------------------------------------------------------------


@dataclass
class Step:
    rate: int  # messages per second offered
    offered: int = 0
    latencies: list[float] = field(default_factory=list)
    errors: int = 0

    def p99(self) -> float:
        if not self.latencies:
            return math.inf
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)] * 1000

    def held(self) -> bool:
        return len(self.latencies) >= 0.95 * self.offered and self.p99() <= BAR_P99_MS


async def _conversation(
    http: aiohttp.ClientSession,
    url: str,
    wechat: WeChat,
    point: tuple[float, float],
    step: Step,
    until: float,
    n: int,
) -> None:
    openid = f"oBench{n:08d}{os.urandom(2).hex()}"
    lon, lat = wgs84_to_gcj02(*point)
    for msg_type, fields in (
        ("location", {"Location_X": f"{lat:.6f}", "Location_Y": f"{lon:.6f}", "Label": "测试路"}),
        ("text", {"Content": "路边垃圾堆积"}),
        ("text", {"Content": "1"}),
    ):
        query, body = wechat.post(openid, msg_type, **fields)
        started = time.perf_counter()
        try:
            async with http.post(url, params=query, data=body) as resp:
                await resp.read()
                ok = resp.status == 200
        except aiohttp.ClientError:
            ok = False
        if time.monotonic() > until:
            return  # answered after its step ended: not counted in it
        if ok:
            step.latencies.append(time.perf_counter() - started)
        else:
            step.errors += 1


async def run_steps(
    url: str, rates: list[int], step_s: float, points: list[tuple[float, float]], safe: bool
) -> list[Step]:
    """Each rate for step_s seconds; stop after the first step that does not hold."""
    steps: list[Step] = []
    wechat = WeChat(safe)
    counter = itertools.count()
    connector = aiohttp.TCPConnector(limit=2000)
    async with aiohttp.ClientSession(connector=connector) as http:
        for rate in rates:
            step = Step(rate)
            tasks: list[asyncio.Task[Any]] = []
            start = time.monotonic()
            until = start + step_s
            interval = 3 / rate  # a conversation is 3 messages
            k = 0
            while (at := start + k * interval) < until - 0.1:
                await asyncio.sleep(max(0.0, at - time.monotonic()))
                n = next(counter)
                step.offered += 3
                conv = _conversation(http, url, wechat, points[n % len(points)], step, until, n)
                tasks.append(asyncio.create_task(conv))
                k += 1
            await asyncio.gather(*tasks)
            steps.append(step)
            print(
                f"  {rate:>5} msg/s offered: {len(step.latencies):>6} answered, "
                f"p99 {step.p99():7.1f} ms, errors {step.errors}  "
                + ("held" if step.held() else "NOT held"),
                flush=True,
            )
            if not step.held():
                break
    return steps


def _held(steps: list[Step]) -> int:
    return max((s.rate for s in steps if s.held()), default=0)


async def _points(url: str, media: Path) -> list[tuple[float, float]]:
    from core.config import load_settings
    from core.db import database
    from core.org.models import Grid

    async with database(load_settings(database_url=url, media_dir=media)):
        grids = await Grid.all()
    points = [p for g in grids for p in lattice(g.geometry)]
    random.Random(7).shuffle(points)
    return points


async def main(args: argparse.Namespace) -> int:
    rates = args.rates or (
        [50, 100, 200, 400, 800] if args.quick else [50, 100, 200, 300, 400, 600, 800, 1200]
    )
    step_s = args.step_s or (3.0 if args.quick else 8.0)
    with tempfile.TemporaryDirectory(prefix="cityloop-bench-wechat-") as tmp_name:
        tmp = Path(tmp_name)
        api = web.AppRunner(fake_api(), access_log=None)
        await api.setup()
        api_port = _port()
        await web.TCPSite(api, "127.0.0.1", api_port).start()
        env = {
            "CITYLOOP_WECHAT_OA_APP_ID": APP_ID,
            "CITYLOOP_WECHAT_OA_APP_SECRET": SECRET,
            "CITYLOOP_WECHAT_OA_TOKEN": TOKEN,
            "CITYLOOP_WECHAT_API_BASE": f"http://127.0.0.1:{api_port}",
        }
        if args.safe:
            env["CITYLOOP_WECHAT_OA_AES_KEY"] = AES_KEY
        async with fresh_database(args.database_url, tmp) as db:
            await migrate_and_seed(db, tmp / "media")
            points = await _points(db.url, tmp / "media")
            async with (
                aiohttp.ClientSession() as http,
                running_server(http, db, tmp, workers=args.server_workers, extra_env=env) as (
                    base,
                    _,
                ),
            ):
                print(f"cityloop ({db.backend}, {'safe mode' if args.safe else 'plaintext'}):")
                ours = await run_steps(base + "/wechat/oa", rates, step_s, points, args.safe)
        ceiling_port = _port()
        ceiling = await asyncio.create_subprocess_exec(
            sys.executable, __file__, "--ceiling", str(ceiling_port), cwd=REPO
        )
        try:
            await _until_listening(ceiling_port)
            print("ceiling (bare aiohttp handler, same XML):")
            # Up from the bar, doubling past our steps until it no longer holds (or 12,800/s).
            higher = [r for r in rates if r >= BAR_RATE]
            while higher[-1] < 12_800:
                higher.append(higher[-1] * 2)
            bare = await run_steps(
                f"http://127.0.0.1:{ceiling_port}/wechat/oa", higher, step_s, points, False
            )
        finally:
            await stop(ceiling)
            await api.cleanup()
    held, ceiling_held = _held(ours), _held(bare)
    at_bar = next((s.p99() for s in ours if s.rate == BAR_RATE), math.inf)
    ratio = held / ceiling_held if ceiling_held else 0.0
    print(
        f"RESULT backend={db.backend} wechat_msgs_per_s={held} reply_p99_ms={at_bar:.1f} "
        f"ceiling_ratio={ratio:.3f}"
    )
    return 0 if held >= BAR_RATE else 1


def _port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _until_listening(port: int) -> None:
    for _ in range(100):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            return
        except OSError:
            await asyncio.sleep(0.1)
    raise SystemExit("the ceiling server did not start")


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--quick", action="store_true", help="3 s steps; done within 60 s")
    p.add_argument("--database-url", help="PostgreSQL server URL (default: a fresh SQLite file)")
    p.add_argument("--safe", action="store_true", help="safe mode (encrypted messages)")
    p.add_argument("--server-workers", type=int, default=1, help="`serve --workers N`")
    p.add_argument("--rates", type=int, nargs="+", help="messages/s of each step")
    p.add_argument("--step-s", type=float, help="seconds per step (default 3 quick, 8 full)")
    p.add_argument("--ceiling", type=int, help=argparse.SUPPRESS)
    return p.parse_args()


if __name__ == "__main__":
    options = parse_args()
    if options.ceiling:
        serve_ceiling(options.ceiling)
        sys.exit(0)
    sys.exit(asyncio.run(main(options)))
