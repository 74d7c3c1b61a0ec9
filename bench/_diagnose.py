"""Diagnostics for bench/intake.py: SQL statements per report, and where the server's CPU goes.

`python bench/_diagnose.py serve-traced FILE` runs `cityloop serve` with every statement that
tortoise sends written to FILE as `<request id>\\t<SQL>` (the bench sends its idempotency key as
the request id). The server code is untouched: only its logging is extended, in this process.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path

OUR_PACKAGES = frozenset({"core", "cases", "channels", "vision", "hotline", "survey"})
_ROOTS = frozenset({"core/cli.py", "core/web/app.py"})  # every stack passes these
_PARAMS = re.compile(r": (?:\[|\(|None\b).*$", re.S)  # tortoise logs "%s: %s" % (sql, values)


class _RequestId(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        from core.logs import request_id_var

        record.request_id = request_id_var.get()
        return True


def serve_traced(path: str) -> int:
    """Run the server with tortoise's SQL log going to a file, tagged with the request id."""
    import core.logs
    from core import cli

    original = core.logs.setup_logging

    def setup(level: str = "INFO", fmt: str = "json") -> None:
        original(level, fmt)
        handler = logging.FileHandler(path, encoding="utf-8")
        handler.addFilter(_RequestId())
        handler.setFormatter(logging.Formatter("%(request_id)s\t%(message)s"))
        sql = logging.getLogger("tortoise.db_client")
        sql.setLevel(logging.DEBUG)
        sql.propagate = False
        sql.addHandler(handler)

    core.logs.setup_logging = setup  # cmd_serve imports it when it runs
    return cli.main(["serve"])


def _stat(pid: int) -> list[str] | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def _children(pid: int) -> list[int]:
    kids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) and fields[1] == str(pid):
            kids.append(int(entry.name))
    return kids


def proc_times(pid: int) -> tuple[float, float]:
    """CPU seconds (user, system) a process and its children (serve --workers) have used."""
    tick = os.sysconf("SC_CLK_TCK")
    user = system = 0.0
    for each in (pid, *_children(pid)):
        if (fields := _stat(each)) is not None:
            user += int(fields[11]) / tick
            system += int(fields[12]) / tick
    return user, system


def proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) a process has used so far."""
    return sum(proc_times(pid))


def _shape(line: str) -> str:
    """The statement without its parameters, and shortened."""
    sql = _PARAMS.sub("", line).strip()
    return sql if len(sql) <= 160 else sql[:157] + "..."


def read_trace(path: Path) -> dict[str, list[str]]:
    """Statements per request id, in order."""
    per: dict[str, list[str]] = defaultdict(list)
    with path.open(encoding="utf-8", errors="replace") as f:
        for raw in f:
            rid, sep, sql = raw.rstrip("\n").partition("\t")
            if sep:
                per[rid].append(_shape(sql))
    return per


def summarize_trace(
    per: dict[str, list[str]], new: Iterable[str], merged: Iterable[str]
) -> list[str]:
    """Lines describing the statements of new-case and merged reports."""
    lines = []
    for label, keys in (("new case", list(new)), ("merged", list(merged))):
        counts = [len(per[k]) for k in keys if k in per]
        if not counts:
            continue
        verbs: Counter[str] = Counter()
        for k in keys:
            verbs.update(s.split(" ", 1)[0].upper() for s in per.get(k, []))
        n = len(counts)
        mix = ", ".join(f"{v} {c / n:.1f}" for v, c in verbs.most_common())
        lines.append(
            f"SQL per {label} report: mean {sum(counts) / n:.1f}, min {min(counts)}, "
            f"max {max(counts)} over {n} reports ({mix}); BEGIN/COMMIT not logged by tortoise"
        )
        example = next(k for k in keys if k in per and len(per[k]) == min(counts))
        lines.append(f"  statements of one {label} report ({example}):")
        lines += [f"   {i + 1:2d}. {s}" for i, s in enumerate(per[example])]
    return lines


def summarize_py_spy(path: Path, top: int = 20) -> list[str]:
    """Self time by package and function, and time under each of our own functions."""
    own: Counter[str] = Counter()
    package: Counter[str] = Counter()
    ours: Counter[str] = Counter()
    total = 0
    with path.open(encoding="utf-8", errors="replace") as f:
        for raw in f:
            stack, _, count = raw.rstrip("\n").rpartition(" ")
            if not stack or not count.isdigit():
                continue
            frames, n = stack.split(";"), int(count)
            own[frames[-1]] += n
            package[_package(frames[-1])] += n
            ours[_innermost_ours(frames)] += n
            total += n
    if not total:
        return ["py-spy: no samples"]
    lines = [f"py-spy: {total} samples of the server holding the GIL; self time by package:"]
    lines += [f"  {c / total:6.1%}  {p}" for p, c in package.most_common(12)]
    lines.append(
        "time under our innermost function (what it costs, the libraries it calls included):"
    )
    lines += [f"  {c / total:6.1%}  {fn}" for fn, c in ours.most_common(top)]
    lines.append("self time by function:")
    lines += [f"  {c / total:6.1%}  {fn}" for fn, c in own.most_common(top)]
    return lines


def _where(frame: str) -> str:
    """The path of a py-spy frame 'function (path:line)', without the line."""
    return frame.rpartition(" (")[2].rstrip(")").rsplit(":", 1)[0]


def _package(frame: str) -> str:
    top = _where(frame).split("/", 1)[0]
    top = top.removesuffix(".py")
    return f"cityloop {top}" if top in OUR_PACKAGES else top


def _innermost_ours(frames: list[str]) -> str:
    rooted = False
    for frame in reversed(frames):
        where = _where(frame)
        if where in _ROOTS:
            rooted = True
            continue
        if where.split("/", 1)[0] in OUR_PACKAGES:
            return f"{frame.partition(' (')[0]} ({where})"
    if rooted:
        return "(event loop, aiohttp: outside a cityloop handler)"
    # py-spy loses the Python frames above a C extension's coroutine (asyncpg's protocol).
    return f"(stack cut at a C extension, starts in {_package(frames[0])})"


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "serve-traced":
        sys.exit(serve_traced(sys.argv[2]))
    sys.exit("usage: _diagnose.py serve-traced FILE")
