"""The plug-in's one route."""

from __future__ import annotations

from aiohttp import web

from cases import deps_of
from core.web.endpoint import PUBLIC, Call, endpoint

routes = web.RouteTableDef()


@routes.get("/api/v1/testplugin/hello")
@endpoint(roles=PUBLIC, summary="测试插件", tags=["testplugin"])
async def hello(request: web.Request, call: Call) -> dict[str, str]:
    """Say hello with the city's catalog (the case core's Deps, not built by hand)."""
    return {"hello": "你好", "catalog": deps_of(request).policy.catalog.name}
