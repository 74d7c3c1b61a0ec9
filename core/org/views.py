"""Departments, grids and the point lookup."""

from __future__ import annotations

from aiohttp import web

from core.org import service
from core.org.models import Grid
from core.org.schemas import DepartmentNode, DepartmentTree, GridCollection, LocateOut, LocateQuery
from core.web.endpoint import ANY_STAFF, Call, endpoint
from core.web.keys import GRIDS

routes = web.RouteTableDef()


@routes.get("/api/v1/departments")
@endpoint(roles=ANY_STAFF, summary="部门与区域树", response=DepartmentTree, tags=["org"])
async def departments(request: web.Request, call: Call) -> DepartmentTree:
    """List departments as a tree: district → street → community, and departments."""
    tree = await service.department_tree()
    return DepartmentTree(items=[DepartmentNode.model_validate(n) for n in tree])


@routes.get("/api/v1/grids")
@endpoint(roles=ANY_STAFF, summary="单元网格（GeoJSON）", response=GridCollection, tags=["org"])
async def grids(request: web.Request, call: Call) -> GridCollection:
    """List grids as a GeoJSON FeatureCollection in WGS-84."""
    rows = (
        await Grid.all()
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
