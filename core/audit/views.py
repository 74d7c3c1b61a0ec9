"""GET /api/v1/audit: the administrators' view of who changed what."""

from __future__ import annotations

from aiohttp import web

from core.audit import service
from core.audit.schemas import AuditOut, AuditPage, AuditQuery
from core.auth.const import Role
from core.timeutil import utc
from core.web.endpoint import Call, endpoint

routes = web.RouteTableDef()


@routes.get("/api/v1/audit")
@endpoint(
    roles={Role.ADMIN},
    summary="审计日志（配置变更与敏感查看）",
    query=AuditQuery,
    response=AuditPage,
    tags=["audit"],
)
async def audit_log(request: web.Request, call: Call) -> AuditPage:
    """The entries matching the filters, newest first."""
    q = call.query(AuditQuery)
    query = service.filtered(
        actor_id=q.actor_id,
        action=q.action,
        target=q.target,
        target_id=q.target_id,
        since=utc(q.since),
        until=utc(q.until),
    )
    rows = await query.offset((q.page - 1) * q.page_size).limit(q.page_size + 1)
    items = [AuditOut.model_validate(r, from_attributes=True) for r in rows[: q.page_size]]
    return AuditPage(items=items, page=q.page, page_size=q.page_size, more=len(rows) > q.page_size)
