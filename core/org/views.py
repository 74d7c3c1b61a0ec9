"""Departments, grids and the point lookup."""

from __future__ import annotations

from aiohttp import web

from core.audit.service import Actor
from core.auth.const import Role
from core.org import service
from core.org.models import Department, Grid
from core.org.schemas import (
    DepartmentIn,
    DepartmentNode,
    DepartmentOut,
    DepartmentTree,
    DepartmentUpdateIn,
    GridCollection,
    LocateOut,
    LocateQuery,
)
from core.types import ID_ROUTE
from core.web.endpoint import ANY_STAFF, Call, endpoint
from core.web.keys import GRIDS

routes = web.RouteTableDef()
ADMIN = frozenset({Role.ADMIN})
DEPARTMENT = "/api/v1/departments/{department_id:" + ID_ROUTE + "}"


def department_out(dep: Department) -> DepartmentOut:
    """Show one department."""
    return DepartmentOut(
        id=dep.id,
        code=dep.code,
        name=dep.name,
        kind=str(dep.kind),
        parent_id=dep.parent_id,
        contact_name=dep.contact_name,
        contact_phone=dep.contact_phone,
        retired=dep.retired_at is not None,
    )


@routes.get("/api/v1/departments")
@endpoint(roles=ANY_STAFF, summary="部门与区域树", response=DepartmentTree, tags=["org"])
async def departments(request: web.Request, call: Call) -> DepartmentTree:
    """List departments as a tree: district → street → community, and departments."""
    tree = await service.department_tree()
    return DepartmentTree(items=[DepartmentNode.model_validate(n) for n in tree])


@routes.post("/api/v1/departments")
@endpoint(
    roles=ADMIN,
    summary="新建部门或区域",
    body=DepartmentIn,
    response=DepartmentOut,
    status=201,
    tags=["org"],
    errors=(409,),
)
async def create_department(request: web.Request, call: Call) -> DepartmentOut:
    """Add a district, street, community, 专业部门 or 作业单位 under its parent."""
    body = call.body(DepartmentIn)
    dep = await service.create_department(**body.model_dump(), actor=Actor.of(call.who))
    return department_out(dep)


@routes.patch(DEPARTMENT)
@endpoint(
    roles=ADMIN,
    summary="修改部门（改名、移动、联系方式）",
    body=DepartmentUpdateIn,
    response=DepartmentOut,
    tags=["org"],
)
async def update_department(request: web.Request, call: Call) -> DepartmentOut:
    """Change the fields given; a move is checked against the tree (no cycle, right level)."""
    changes = call.body(DepartmentUpdateIn).model_dump(exclude_unset=True)
    dep = await service.update_department(
        int(request.match_info["department_id"]),
        changes=changes,
        actor=Actor.of(call.who),
    )
    return department_out(dep)


@routes.post(DEPARTMENT + "/retire")
@endpoint(
    roles=ADMIN,
    summary="撤销部门（保留历史，不再接收新案件）",
    response=DepartmentOut,
    tags=["org"],
    errors=(409,),
)
async def retire_department(request: web.Request, call: Call) -> DepartmentOut:
    """Retire a department with no live children."""
    dep = await service.retire_department(
        int(request.match_info["department_id"]), actor=Actor.of(call.who)
    )
    return department_out(dep)


@routes.get("/api/v1/grids")
@endpoint(roles=ANY_STAFF, summary="单元网格（GeoJSON）", response=GridCollection, tags=["org"])
async def grids(request: web.Request, call: Call) -> GridCollection:
    """List the grids in force (not the retired) as a GeoJSON FeatureCollection in WGS-84."""
    rows = (
        await Grid.filter(retired_at=None)
        .order_by("code")
        .values("id", "code", "name", "street_id", "community_id", "geometry")
    )
    features = [
        {
            "type": "Feature",
            "id": r["id"],
            "geometry": r["geometry"],
            "properties": {k: r[k] for k in ("code", "name", "street_id", "community_id")},
        }
        for r in rows
    ]
    return GridCollection(features=features)


@routes.get("/api/v1/geo/locate")
@endpoint(
    roles=ANY_STAFF, summary="坐标定位到网格", query=LocateQuery, response=LocateOut, tags=["org"]
)
async def locate(request: web.Request, call: Call) -> LocateOut:
    """Find the grid, street and community of a point (WGS-84, GCJ-02 or BD-09)."""
    q = call.query(LocateQuery)
    place = await request.app[GRIDS].locate(q.lon, q.lat, q.crs)
    inside = place.grid_id is not None
    return LocateOut(
        inside=inside,
        message="已定位到网格" if inside else "该位置不在任何单元网格内",
        lon=place.lon,
        lat=place.lat,
        grid_id=place.grid_id,
        grid_code=place.grid_code,
        street_id=place.street_id,
        community_id=place.community_id,
    )
