"""The audit log's retention: rows older than `audit_retention_days` go, once a day."""

from __future__ import annotations

import datetime as dt
import logging

from tortoise import timezone

from core.audit.service import purge
from core.jobs.registry import PeriodicContext, periodic

log = logging.getLogger(__name__)
AUDIT_PURGE_JOB = "core.audit_purge"


@periodic(AUDIT_PURGE_JOB, every_s=24 * 3600)
async def audit_purge(ctx: PeriodicContext) -> None:
    """Delete audit rows past the retention."""
    days = ctx.settings.audit_retention_days
    purged = await purge(before=timezone.now() - dt.timedelta(days=days))
    if purged:
        log.info("purged %s audit rows older than %s days", purged, days)
