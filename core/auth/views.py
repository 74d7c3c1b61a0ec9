"""Login, logout, who am I, the change of password, and staff accounts (admin)."""

from __future__ import annotations

from aiohttp import web

from core.audit.service import Actor, record, record_read
from core.auth import accounts, service
from core.auth.const import Role
from core.auth.models import Staff
from core.auth.schemas import (
    GridRef,
    GridsIn,
    LoginIn,
    MeOut,
    Ok,
    OneTimePasswordOut,
    PasswordChangeIn,
    StaffCreatedOut,
    StaffCreateIn,
    StaffList,
    StaffOut,
    StaffUpdateIn,
    TokenOut,
)
from core.errors import Unauthorized
from core.org.models import GridAssignment
from core.privacy import mask_phone
from core.types import ID_ROUTE
from core.web.client import client_address
from core.web.endpoint import ANY_STAFF, PUBLIC, Call, endpoint
from core.web.keys import RUNTIME, SETTINGS

routes = web.RouteTableDef()
ADMIN = frozenset({Role.ADMIN})
STAFF = "/api/v1/staff/{staff_id:" + ID_ROUTE + "}"


def staff_out(staff: Staff, *, reveal: bool, grids: list[GridRef] | None = None) -> StaffOut:
    """Show a staff account; the phone number is masked unless reveal is set."""
    return StaffOut(
        id=staff.id,
        username=staff.username,
        display_name=staff.display_name,
        roles=list(staff.roles),
        department_id=staff.department_id,
        phone=staff.phone if reveal else mask_phone(staff.phone),
        is_active=staff.is_active,
        must_change_password=staff.must_change_password,
        grids=grids or [],
    )


async def _grids_of(staff_ids: list[int]) -> dict[int, list[GridRef]]:
    rows = await GridAssignment.filter(staff_id__in=staff_ids).values_list(
        "staff_id", "grid__code", "is_primary"
    )
    found: dict[int, list[GridRef]] = {}
    for staff_id, code, primary in sorted(rows, key=lambda r: (r[0], str(r[1]))):
        found.setdefault(int(staff_id), []).append(GridRef(code=str(code), primary=bool(primary)))
    return found


async def _shown(staff: Staff) -> StaffOut:
    return staff_out(staff, reveal=True, grids=(await _grids_of([staff.id])).get(staff.id))


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
    return TokenOut(
        token=token,
        expires_at=row.expires_at,
        staff=staff_out(staff, reveal=True),
        must_change_password=staff.must_change_password,
    )


@routes.post("/api/v1/auth/logout")
@endpoint(
    roles=ANY_STAFF | {"citizen"},
    summary="注销当前登录凭证",
    response=Ok,
    tags=["auth"],
    before_password_change=True,
)
async def logout(request: web.Request, call: Call) -> Ok:
    """Revoke the token this request was made with."""
    if call.who.token_id is None:
        raise Unauthorized("no token")
    await service.revoke_token(call.who.token_id)
    return Ok()


@routes.get("/api/v1/auth/me")
@endpoint(
    roles=ANY_STAFF | {"citizen"},
    summary="当前用户",
    response=MeOut,
    tags=["auth"],
    before_password_change=True,
)
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
        must_change_password=who.must_change_password,
    )


@routes.post("/api/v1/auth/password")
@endpoint(
    roles=ANY_STAFF,
    summary="修改本人密码（一次性密码登录后必须先修改）",
    body=PasswordChangeIn,
    response=StaffOut,
    tags=["auth"],
    before_password_change=True,
)
async def change_password(request: web.Request, call: Call) -> StaffOut:
    """Change one's own password; one's other sessions end, this one goes on."""
    body = call.body(PasswordChangeIn)
    staff = await accounts.change_password(
        call.who.id,
        old=body.old_password,
        new=body.new_password,
        policy=accounts.PasswordPolicy.of(request.app[SETTINGS]),
        keep_token=call.who.token_id,
    )
    return await _shown(staff)


@routes.get("/api/v1/staff")
@endpoint(roles=ADMIN, summary="员工列表", response=StaffList, tags=["staff"])
async def list_staff(request: web.Request, call: Call) -> StaffList:
    """List staff accounts with phone numbers (admins see them in full) and grids."""
    rows = await Staff.all().order_by("id")
    grids = await _grids_of([s.id for s in rows])
    shown = [s.id for s in rows if s.phone]
    if shown:  # staff phone numbers in full: on record
        await record_read(call.who, what="phone", target="staff", ids=shown)
    return StaffList(items=[staff_out(s, reveal=True, grids=grids.get(s.id)) for s in rows])


@routes.post("/api/v1/staff")
@endpoint(
    roles=ADMIN,
    summary="新建员工账号（不给密码则生成一次性密码）",
    body=StaffCreateIn,
    response=StaffCreatedOut,
    status=201,
    tags=["staff"],
    errors=(409,),
)
async def create_staff(request: web.Request, call: Call) -> StaffCreatedOut:
    """Create a staff account, with the password given or a one-time one."""
    body = call.body(StaffCreateIn)
    one_time = None
    if body.password is None:
        one_time = accounts.one_time_password()
    else:
        accounts.PasswordPolicy.of(request.app[SETTINGS]).check(body.username, body.password)
    staff = await accounts.create_staff(
        username=body.username,
        password=body.password or one_time or "",
        display_name=body.display_name,
        roles=[r.value for r in body.roles],
        department_id=body.department_id,
        phone=body.phone,
        must_change_password=one_time is not None,
        actor=Actor.of(call.who),
    )
    shown = staff_out(staff, reveal=True).model_dump()
    return StaffCreatedOut(**shown, one_time_password=one_time)


@routes.patch(STAFF)
@endpoint(
    roles=ADMIN,
    summary="修改员工信息、角色与部门",
    body=StaffUpdateIn,
    response=StaffOut,
    tags=["staff"],
)
async def update_staff(request: web.Request, call: Call) -> StaffOut:
    """Change the fields given (name, roles, department, phone)."""
    changes = call.body(StaffUpdateIn).model_dump(exclude_unset=True)
    if "roles" in changes:
        changes["roles"] = [str(r) for r in changes["roles"]]
    staff = await accounts.update_staff(_id(request), changes=changes, actor=Actor.of(call.who))
    return await _shown(staff)


@routes.post(STAFF + "/disable")
@endpoint(
    roles=ADMIN,
    summary="停用员工账号（立即注销其全部登录）",
    response=StaffOut,
    tags=["staff"],
    errors=(409,),
)
async def disable(request: web.Request, call: Call) -> StaffOut:
    """Disable an account: no login, every token revoked; its history stays."""
    return await _shown(
        await accounts.set_active(_id(request), active=False, actor=Actor.of(call.who))
    )


@routes.post(STAFF + "/enable")
@endpoint(roles=ADMIN, summary="重新启用员工账号", response=StaffOut, tags=["staff"])
async def enable(request: web.Request, call: Call) -> StaffOut:
    """Re-enable a disabled account."""
    return await _shown(
        await accounts.set_active(_id(request), active=True, actor=Actor.of(call.who))
    )


@routes.post(STAFF + "/reset-password")
@endpoint(
    roles=ADMIN,
    summary="重置密码（一次性密码，首次登录必须修改）",
    response=OneTimePasswordOut,
    tags=["staff"],
)
async def reset_password(request: web.Request, call: Call) -> OneTimePasswordOut:
    """Give the account a one-time password, shown this once; its sessions end."""
    staff, password = await accounts.reset_password(_id(request), actor=Actor.of(call.who))
    return OneTimePasswordOut(staff=await _shown(staff), one_time_password=password)


@routes.post(STAFF + "/unlock")
@endpoint(roles=ADMIN, summary="解除登录锁定（所有地址）", response=Ok, tags=["staff"])
async def unlock(request: web.Request, call: Call) -> Ok:
    """Lift the failed-login lock of the account, wherever the failures came from."""
    staff = await accounts.get_staff(_id(request))
    settings = request.app[SETTINGS]
    await service.unlock(
        username=staff.username, kv=request.app[RUNTIME].kv, policy=service.LoginPolicy.of(settings)
    )
    await record(
        actor=Actor.of(call.who), action="staff.unlock", target="staff", target_id=staff.id
    )
    return Ok()


@routes.put(STAFF + "/grids")
@endpoint(
    roles=ADMIN,
    summary="分配监督员的网格（整体替换，可指定主责网格）",
    body=GridsIn,
    response=StaffOut,
    tags=["staff"],
)
async def set_grids(request: web.Request, call: Call) -> StaffOut:
    """Give an inspector exactly these grids; `primary` makes them the grid's 主责监督员."""
    body = call.body(GridsIn)
    staff_id = _id(request)
    await accounts.set_grids(
        staff_id, grid_codes=body.grids, primary=body.primary, actor=Actor.of(call.who)
    )
    return await _shown(await accounts.get_staff(staff_id))


@routes.post(STAFF + "/revoke-tokens")
@endpoint(roles=ADMIN, summary="注销某员工的全部登录凭证", response=Ok, tags=["staff"])
async def revoke_tokens(request: web.Request, call: Call) -> Ok:
    """Revoke every token of a staff member."""
    staff = await accounts.get_staff(_id(request))
    revoked = await service.revoke_all(staff.id)
    after = {"revoked": revoked}
    await record(
        actor=Actor.of(call.who),
        action="staff.revoke_tokens",
        target="staff",
        target_id=staff.id,
        after=after,
    )
    return Ok()


def _id(request: web.Request) -> int:
    return int(request.match_info["staff_id"])
