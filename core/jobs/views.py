"""Operators' view of the outbox: what failed, and a way to run it again."""

from __future__ import annotations

from aiohttp import web
from tortoise import timezone

from core.auth.const import Role
from core.errors import NotFound
from core.jobs.models import OutboxItem, OutboxStatus
from core.jobs.outbox import kickable
from core.jobs.schemas import OutboxOut, OutboxPage, OutboxQuery
from core.types import BIGID_ROUTE
from core.web.endpoint import Call, endpoint
from core.web.keys import JOBS

routes = web.RouteTableDef()
ADMIN = frozenset({Role.ADMIN})


@routes.get("/api/v1/outbox")
@endpoint(
    roles=ADMIN,
    summary="后台任务（默认列出失败的）",
    query=OutboxQuery,
    response=OutboxPage,
    tags=["ops"],
)
async def list_outbox(request: web.Request, call: Call) -> OutboxPage:
    """List outbox rows, failed ones by default, newest first."""
    q = call.query(OutboxQuery)
    query = OutboxItem.all().order_by("-id")
    if q.status is not None:
        query = query.filter(status=q.status)
    if q.kind:
        query = query.filter(kind=q.kind)
    rows = await query.offset((q.page - 1) * q.page_size).limit(q.page_size)
    return OutboxPage(items=[OutboxOut.model_validate(r) for r in rows], total=await query.count())


@routes.post("/api/v1/outbox/{outbox_id:" + BIGID_ROUTE + "}/retry")
@endpoint(
    roles=ADMIN, summary="重试失败的后台任务", response=OutboxOut, tags=["ops"], errors=(404,)
)
async def retry(request: web.Request, call: Call) -> OutboxOut:
    """Give a failed row a fresh set of attempts and queue it now."""
    outbox_id = int(request.match_info["outbox_id"])
    again = await OutboxItem.filter(id=outbox_id, status=OutboxStatus.FAILED).update(
        status=OutboxStatus.PENDING, attempts=0, available_at=timezone.now(), claimed_until=None
    )
    if not again:
        raise NotFound(f"no failed outbox row {outbox_id}", message="未找到该失败任务")
    row = await OutboxItem.get(id=outbox_id)
    await request.app[JOBS].kick(kickable(row))  # a row nobody here runs waits for its channel
    return OutboxOut.model_validate(row)
