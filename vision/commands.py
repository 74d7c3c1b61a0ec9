"""`cityloop vision run | analyze | import`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any


def add_commands(sub: Any) -> None:
    """Add `cityloop vision …`."""
    parser = sub.add_parser("vision", help="cameras: watch them, analyse a video, import a file")
    inner = parser.add_subparsers(dest="vision_command", required=True)
    run = inner.add_parser(
        "run",
        help="watch the registered cameras and file what they see (needs CITYLOOP_VISION_MODEL)",
        description="Sample every enabled camera at its interval, detect with the ONNX model, "
        "file cases (or send them to the review queue) and do 智能核查. Stop with Ctrl-C.",
    )
    run.add_argument(
        "--shard",
        type=_shard,
        default=(1, 1),
        metavar="I/N",
        help="this process's share when N processes run: the cameras whose id mod N is I-1 "
        "(default 1/1: all of them)",
    )
    run.set_defaults(func=_run)
    analyze = inner.add_parser(
        "analyze",
        help="run the pipeline over a video file and write what it found",
        description="Sample VIDEO at the camera's interval (its own clock), detect, track and "
        "apply the zones' rules; write events.jsonl and annotated pictures to --out and print "
        "a summary. Files no case unless --submit.",
    )
    analyze.add_argument("video", type=Path, help="a video file OpenCV reads (mp4, avi, …)")
    analyze.add_argument("--config", type=Path, required=True, help="the cameras.toml file")
    analyze.add_argument("--camera", help="which camera of the file (default: the first)")
    analyze.add_argument("--model", type=Path, help="default: CITYLOOP_VISION_MODEL")
    analyze.add_argument("--out", type=Path, default=Path("vision-out"), help="output folder")
    analyze.add_argument(
        "--submit", action="store_true", help="register the camera and file the cases found"
    )
    analyze.set_defaults(func=_analyze)
    load = inner.add_parser(
        "import",
        help="register (or replace) the cameras of a camera file",
        description="Check the whole file first (zones inside the frame, labels the model "
        "has, category codes the city has); a file with any error changes nothing.",
    )
    load.add_argument("file", type=Path, help="the cameras.toml file")
    load.set_defaults(func=_import)


def _shard(text: str) -> tuple[int, int]:
    index, _, count = text.partition("/")
    try:
        i, n = int(index), int(count)
    except ValueError:
        raise argparse.ArgumentTypeError("use I/N, e.g. 1/2") from None
    if not 1 <= i <= n:
        raise argparse.ArgumentTypeError("I is between 1 and N")
    return i, n


def _run(args: argparse.Namespace) -> int:
    from vision.process import watch

    return asyncio.run(watch(args.shard))


def _analyze(args: argparse.Namespace) -> int:
    from vision.analysis import analyze

    return analyze(
        args.video,
        config=args.config,
        camera=args.camera,
        model=args.model,
        out=args.out,
        submit=args.submit,
    )


def _import(args: argparse.Namespace) -> int:
    from vision.process import import_cameras

    try:
        text = args.file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        print(f"cityloop vision import: {args.file}: {err}", file=sys.stderr)
        return 2
    return asyncio.run(import_cameras(text))
