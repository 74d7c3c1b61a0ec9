"""Login, logout, who am I, and staff accounts (admin)."""

from __future__ import annotations

from aiohttp import web

from core.auth import service
from core.auth.const import Role
from core.auth.models import Staff
from core.auth.schemas import LoginIn, MeOut, Ok, StaffCreateIn, StaffList, StaffOut, TokenOut
from core.errors import Unauthorized
from core.privacy import mask_phone
from core.types import ID_ROUTE
from core.web.client import client_address
from core.web.endpoint import ANY_STAFF, PUBLIC, Call, endpoint
from core.web.keys import RUNTIME, SETTINGS

routes = web.RouteTableDef()
ADMIN = frozenset({Role.ADMIN})


def staff_out(staff: Staff, *, reveal: bool) -> StaffOut:
    """Show a staff account; the phone number is masked unless reveal is set."""
    return StaffOut(
        id=staff.id,
        username=staff.username,
        display_name=staff.display_name,
        roles=list(staff.roles),
        department_id=staff.department_id,
        phone=staff.phone if reveal else mask_phone(staff.phone),
        is_active=staff.is_active,
    )


@routes.post("/api/v1/auth/login")
@endpoint(
    roles=PUBLIC,
    summary="员工登录",
    body=LoginIn,
    response=TokenOut,
    tags=["auth"],
    errors=(401, 429, 503),
)
async def login(request: web.Request, call: Call) -> TokenOut:
    """Exchange a username and password for a bearer token."""
    body = call.body(LoginIn)
    settings = request.app[SETTINGS]
    token, row, staff = await service.login(
        username=body.username,
        password=body.password,
        address=client_address(request, settings.trusted_proxies),
        kv=request.app[RUNTIME].kv,
        policy=service.LoginPolicy.of(settings),
        ttl_hours=settings.token_ttl_hours,
        client=body.client,
    )
    return TokenOut(token=token, expires_at=row.expires_at, staff=staff_out(staff, reveal=True))


@routes.post("/api/v1/auth/logout")
@endpoint(roles=ANY_STAFF | {"citizen"}, summary="注销当前登录凭证", response=Ok, tags=["auth"])
async def logout(request: web.Request, call: Call) -> Ok:
    """Revoke the token this request was made with."""
    if call.who.token_id is None:
        raise Unauthorized("no token")
    await service.revoke_token(call.who.token_id)
    return Ok()


@routes.get("/api/v1/auth/me")
@endpoint(roles=ANY_STAFF | {"citizen"}, summary="当前用户", response=MeOut, tags=["auth"])
async def me(request: web.Request, call: Call) -> MeOut:
    """Say who the caller is, with roles, department and grids."""
    who = call.who
    return MeOut(
        kind=who.kind,
        id=who.id,
        name=who.name,
        roles=sorted(who.roles),
        department_id=who.department_id,
        grid_ids=sorted(who.grid_ids),
        channel=who.channel,
        client=who.client,
    )


@routes.get("/api/v1/staff")
@endpoint(roles=ADMIN, summary="员工列表", response=StaffList, tags=["auth"])
async def list_staff(request: web.Request, call: Call) -> StaffList:
    """List staff accounts with phone numbers (admins see them in full)."""
    rows = await Staff.all().order_by("id")
    return StaffList(items=[staff_out(s, reveal=True) for s in rows])


@routes.post("/api/v1/staff")
@endpoint(
    roles=ADMIN,
    summary="新建员工账号",
    body=StaffCreateIn,
    response=StaffOut,
    status=201,
    tags=["auth"],
    errors=(409,),
)
async def create_staff(request: web.Request, call: Call) -> StaffOut:
    """Create a staff account."""
    body = call.body(StaffCreateIn)
    staff = await service.create_staff(
        username=body.username,
        password=body.password,
        display_name=body.display_name,
        roles=[r.value for r in body.roles],
        department_id=body.department_id,
        phone=body.phone,
    )
    return staff_out(staff, reveal=True)


@routes.post("/api/v1/staff/{staff_id:" + ID_ROUTE + "}/revoke-tokens")
@endpoint(
    roles=ADMIN, summary="注销某员工的全部登录凭证", response=Ok, tags=["auth"], errors=(404,)
)
async def revoke_tokens(request: web.Request, call: Call) -> Ok:
    """Revoke every token of a staff member."""
    staff = await service.get_staff(int(request.match_info["staff_id"]))
    await service.revoke_all(staff.id)
    return Ok()
