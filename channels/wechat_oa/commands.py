"""`cityloop wechat simulate`: chat with the 公众号 in a terminal, playing WeChat's part."""

from __future__ import annotations

import argparse
from typing import Any


def add_commands(sub: Any) -> None:
    """Add `cityloop wechat …`."""
    wechat = sub.add_parser("wechat", help="the WeChat 公众号 channel")
    wechat_sub = wechat.add_subparsers(dest="wechat_command", required=True, metavar="COMMAND")
    sim = wechat_sub.add_parser(
        "simulate", help="chat as a citizen with a running server (plays WeChat's part)"
    )
    sim.set_defaults(func=_simulate)


def _simulate(args: argparse.Namespace) -> int:
    from channels.wechat_oa.simulator import run

    return run(args)
