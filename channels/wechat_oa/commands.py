"""`cityloop wechat simulate`: chat with the 公众号 in a terminal, playing WeChat's part."""

from __future__ import annotations

import argparse
import os
from typing import Any


def add_commands(sub: Any) -> None:
    """Add `cityloop wechat …`."""
    wechat = sub.add_parser("wechat", help="the WeChat 公众号 channel")
    wechat_sub = wechat.add_subparsers(dest="wechat_command", required=True, metavar="COMMAND")
    host = os.environ.get("CITYLOOP_HOST", "127.0.0.1")
    port = os.environ.get("CITYLOOP_PORT", "8080")
    sim = wechat_sub.add_parser(
        "simulate",
        help="chat as a citizen with a running server (plays WeChat's part)",
        description="Chat as a citizen with a running server: this command signs (and in "
        "safe mode encrypts) each message as WeChat does, and runs the WeChat API the server "
        "is pointed at (CITYLOOP_WECHAT_API_BASE), printing the messages it sends.",
    )
    sim.add_argument(
        "--url", default=f"http://{host}:{port}/wechat/oa", help="the server's /wechat/oa"
    )
    sim.add_argument("--openid", default="oSimulatedCitizen0001", help="the citizen's openid")
    sim.add_argument(
        "--api-port", type=int, help="port of the fake WeChat API (default: that of the API base)"
    )
    sim.add_argument("--demo", action="store_true", help="use the demo account of `serve --demo`")
    sim.add_argument(
        "--linger", type=float, default=2.0, help="seconds to wait for messages after the last line"
    )
    sim.set_defaults(func=_simulate)


def _simulate(args: argparse.Namespace) -> int:
    from channels.wechat_oa.simulator import run

    return run(args)
