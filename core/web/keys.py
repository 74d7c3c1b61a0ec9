"""Typed keys for the aiohttp application and request state."""

from __future__ import annotations

from typing import TYPE_CHECKING

import aiohttp
from aiohttp import web

if TYPE_CHECKING:
    from arq.connections import ArqRedis

    from core.auth.service import Principal
    from core.calendar import WorkCalendar
    from core.config import Settings
    from core.jobs.queues import JobQueue
    from core.media.storage import Storage
    from core.org.service import GridCache
    from core.runtime import Runtime

SETTINGS: web.AppKey[Settings] = web.AppKey("settings")
REDIS: web.AppKey[ArqRedis | None] = web.AppKey("redis")
HTTP: web.AppKey[aiohttp.ClientSession] = web.AppKey("http")
JOBS: web.AppKey[JobQueue] = web.AppKey("jobs")
CALENDAR: web.AppKey[WorkCalendar] = web.AppKey("calendar")
STORAGE: web.AppKey[Storage] = web.AppKey("storage")
GRIDS: web.AppKey[GridCache] = web.AppKey("grids")
# The process runtime: settings, shared clients and every package's services.
RUNTIME: web.AppKey[Runtime] = web.AppKey("runtime")

PRINCIPAL: web.RequestKey[Principal] = web.RequestKey("principal")
REQUEST_ID: web.RequestKey[str] = web.RequestKey("request_id")
