"""/healthz, /readyz and the OpenAPI document."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from core.db import ping
from core.packages import readiness_checks
from core.timeutil import now, to_local
from core.web.endpoint import PUBLIC, Call, endpoint
from core.web.keys import CALENDAR, REDIS, RUNTIME
from core.web.openapi import build_openapi

routes = web.RouteTableDef()


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    checks: dict[str, str]
    warnings: list[str]


@routes.get("/healthz")
@endpoint(roles=PUBLIC, summary="进程存活检查", response=Health, tags=["ops"])
async def healthz(request: web.Request, call: Call) -> Health:
    """Say the process is up."""
    return Health(status="ok")


@routes.get("/readyz")
@endpoint(
    roles=PUBLIC,
    summary="就绪检查（数据库、Redis、节假日数据、各功能包）",
    response=Readiness,
    tags=["ops"],
    errors=(503,),
)
async def readyz(request: web.Request, call: Call) -> web.Response:
    """Check the database and Redis; warn when the holiday calendar does not cover a year."""
    checks: dict[str, str] = {}
    try:
        await ping()
        checks["database"] = "ok"
    except Exception as err:
        checks["database"] = f"error: {type(err).__name__}"
    pool = request.app[REDIS]
    if pool is not None:
        try:
            await pool.ping()
            checks["redis"] = "ok"
        except Exception as err:
            checks["redis"] = f"error: {type(err).__name__}"
    year = to_local(now()).year
    warnings = request.app[CALENDAR].coverage_warnings([year, year + 1])
    checks["calendar"] = "ok" if not warnings else "fallback"
    runtime = request.app[RUNTIME]
    for name, check in readiness_checks(runtime.settings):
        try:
            status, said = await check(runtime)
        except Exception as err:
            status, said = f"error: {type(err).__name__}", []
        checks[name] = status
        warnings = [*warnings, *said]
    ready = all(v in {"ok", "fallback", "degraded"} for v in checks.values())
    body = Readiness(status="ok" if ready else "unavailable", checks=checks, warnings=warnings)
    return web.json_response(
        body.model_dump(),
        status=200 if ready else 503,
        dumps=lambda o: json.dumps(o, ensure_ascii=False),
    )


@routes.get("/api/openapi.json")
@endpoint(roles=PUBLIC, summary="OpenAPI 文档", tags=["ops"])
async def openapi(request: web.Request, call: Call) -> dict[str, Any]:
    """Describe every route."""
    return build_openapi(request.app, title="cityloop", version=_version())


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("cityloop")
    except PackageNotFoundError:
        return "0+unknown"
