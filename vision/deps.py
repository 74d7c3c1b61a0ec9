"""What the vision services need from the running process, held in its runtime."""

from __future__ import annotations

from dataclasses import dataclass

from core.jobs.registry import RetryAfter
from core.runtime import Runtime, ServiceKey
from vision.config import VisionConfig


@dataclass(frozen=True)
class VisionDeps:
    """The settings and the labels zones' rules may name (read once; no model loads here)."""

    config: VisionConfig
    labels: tuple[str, ...]


VISION: ServiceKey[VisionDeps] = ServiceKey("vision.deps", VisionDeps)


def vision_of(runtime: Runtime) -> VisionDeps:
    """The vision deps; a job in a process where vision is off waits."""
    if VISION not in runtime:
        raise RetryAfter(600, "vision is not enabled in this process", counts=False)
    return runtime[VISION]
