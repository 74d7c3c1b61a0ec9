"""The platform's own periodic jobs (besides the outbox sweeper, which every runner has)."""

from __future__ import annotations

import logging

from core.jobs.registry import PeriodicContext, periodic
from core.kv.service import purge_expired

log = logging.getLogger(__name__)
KV_PURGE_JOB = "core.kv_purge"


@periodic(KV_PURGE_JOB, every_s=600)
async def kv_purge(ctx: PeriodicContext) -> None:
    """Delete expired key-value rows of the embedded store (Redis expires its own)."""
    if ctx.runtime.redis is None:
        purged = await purge_expired()
        if purged:
            log.info("purged %s expired key-value rows", purged)
