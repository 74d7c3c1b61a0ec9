"""`cityloop import KIND FILE [--apply]` and `cityloop import --template KIND > KIND.xlsx`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from core.geo import CoordSystem

KINDS = ("departments", "staff", "grids", "grid-assignments")


def add_commands(sub: Any) -> None:
    """Add `cityloop import …`."""
    parser = sub.add_parser(
        "import",
        help="import departments, staff, grids or grid assignments (a dry run first)",
        description="Read a spreadsheet with the template's Chinese headers (or, for grids, "
        "GeoJSON, a CSV/XLSX of WKT, or a Shapefile .shp/.zip) and list, row by row, what "
        "would be added, changed or refused. Nothing is written without --apply; with "
        "--apply, a file with any refused row writes nothing either. Order: departments, "
        "then staff, then grids, then grid-assignments.",
    )
    parser.add_argument("kind", choices=KINDS, help="what the file holds")
    parser.add_argument("file", nargs="?", type=Path, help="the .xlsx or .csv file")
    parser.add_argument("--apply", action="store_true", help="write it (default: a dry run)")
    parser.add_argument(
        "--crs",
        choices=[c.value for c in CoordSystem],
        default=CoordSystem.WGS84.value,
        help="grids: the coordinate system of the file (default wgs84)",
    )
    parser.add_argument(
        "--replace",
        action="store_true",
        help="grids: the file is the whole map; retire the grids it leaves out "
        "(refused for a grid with open cases)",
    )
    parser.add_argument(
        "--template", action="store_true", help="write an empty XLSX template to standard output"
    )
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from core.bulk import service

    if args.template:
        if sys.stdout.isatty():
            print(
                f"重定向到文件：cityloop import {args.kind} --template > {args.kind}.xlsx",
                file=sys.stderr,
            )
            return 2
        sys.stdout.buffer.write(service.template(args.kind))
        return 0
    if args.file is None:
        print("cityloop import: 请给出文件（或 --template 取得模板）", file=sys.stderr)
        return 2
    if args.replace and args.kind != "grids":
        print("cityloop import: --replace 只用于 grids", file=sys.stderr)
        return 2
    return asyncio.run(
        service.run(
            args.kind,
            args.file,
            apply=args.apply,
            crs=CoordSystem(args.crs),
            replace=args.replace,
        )
    )
