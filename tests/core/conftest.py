"""Fixtures of the platform's tests."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Iterator

import pytest


@pytest.fixture
def runners() -> Iterator[list[subprocess.Popen[bytes]]]:
    """The cityloop processes a test starts: stopped (SIGTERM, then SIGKILL) at its end."""
    procs: list[subprocess.Popen[bytes]] = []
    yield procs
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)
