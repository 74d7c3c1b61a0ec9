"""What the phone reads: the work list (an inspector's tasks nearest first, a handler's
department cases with their latest news), devices, and who may read whose track."""

from __future__ import annotations

from tortoise import timezone
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from cases import CaseQuery, Deps, TaskQuery, case_page, task_page
from channels.grid_app.models import Device, PushMessage
from channels.grid_app.push import PushHub, message_out
from channels.grid_app.schemas import (
    DeviceIn,
    DeviceList,
    DeviceOut,
    WorkCase,
    WorkOut,
    WorkQuery,
)
from core.auth.const import Role
from core.auth.service import Principal
from core.errors import Forbidden, NotFound, ValidationFailed

# Who reads anyone's track and coverage: the centre's supervisors (a staff member's position
# is personal data: not the hotline's, not other inspectors').
CENTRE = frozenset({Role.ADMIN, Role.ACCEPTOR, Role.SHIFT_LEAD, Role.DISPATCHER})
# The handler's phone lists what is theirs to do: being handled and parked.
_HANDLER_STATUSES = ["dispatched", "suspended"]


async def work(who: Principal, q: WorkQuery, deps: Deps) -> WorkOut:
    """An inspector's open tasks (nearest first from the phone), a handler's cases (soonest
    deadline first) each with the latest message about it."""
    tasks = None
    cases = None
    if Role.INSPECTOR in who.roles:
        tasks = await task_page(
            who, TaskQuery(lon=q.lon, lat=q.lat, crs=q.crs, page_size=200), deps
        )
    if Role.HANDLER in who.roles:
        found = await case_page(
            who, CaseQuery(status=_HANDLER_STATUSES, sort="deadline_at", page_size=200), deps
        )
        latest: dict[int, PushMessage] = {}
        ids = [c.id for c in found.items]
        for m in await PushMessage.filter(staff_id=who.id, case_id__in=ids).order_by("id"):
            latest[int(m.case_id or 0)] = m
        cases = [
            WorkCase(case=c, latest=message_out(latest[c.id]) if c.id in latest else None)
            for c in found.items
        ]
    return WorkOut(tasks=tasks, cases=cases)


def track_owner(who: Principal, staff_id: int | None) -> int:
    """Whose track a caller may read: their own; anyone's for the centre."""
    if staff_id is None or staff_id == who.id:
        return who.id
    if not who.has_any(CENTRE):
        raise Forbidden(
            f"staff {who.id} reading {staff_id}'s track",
            code="not_your_track",
            message="只能查看本人的轨迹",
        )
    return staff_id


def coverage_grids(who: Principal, grid_id: int | None) -> list[int]:
    """The grids a caller asks the coverage of: the one named, or their own."""
    if grid_id is not None:
        if not who.has_any(CENTRE) and grid_id not in who.grid_ids:
            raise Forbidden("not the caller's grid", code="not_your_grid", message="这不是您的网格")
        return [grid_id]
    if who.grid_ids:
        return sorted(who.grid_ids)
    raise ValidationFailed(
        "grid_id needed",
        code="grid_required",
        message="请指定网格（grid_id）",
        extra={"fields": [{"field": "grid_id", "message": "必填"}]},
    )


def device_out(d: Device) -> DeviceOut:
    """Show a device (its vendor token stays on the server)."""
    return DeviceOut(
        id=d.id,
        device_id=d.device_id,
        platform=d.platform,
        name=d.name,
        transport=d.transport,
        has_token=bool(d.push_token),
        last_seen_at=d.last_seen_at,
        created_at=d.created_at,
    )


async def register_device(who: Principal, inputs: DeviceIn, hub: PushHub) -> DeviceOut:
    """Register a phone of the caller, or refresh it (the same install id)."""
    if inputs.transport != "sse" and inputs.transport not in hub.transports:
        known = "、".join(["sse", *sorted(hub.transports)])
        raise ValidationFailed(
            "unknown transport",
            code="unknown_transport",
            message=f"不支持的推送通道（可用：{known}）",
            extra={"fields": [{"field": "transport", "message": "不支持"}]},
        )
    if inputs.transport != "sse" and not inputs.push_token:
        raise ValidationFailed(
            "vendor transport without a token",
            code="push_token_required",
            message="厂商推送通道需要提供设备推送令牌 push_token",
            extra={"fields": [{"field": "push_token", "message": "必填"}]},
        )
    values = {
        "platform": inputs.platform,
        "name": inputs.name,
        "transport": inputs.transport,
        "push_token": inputs.push_token,
        "last_seen_at": timezone.now(),
    }
    async with in_transaction():
        # A phone handed on to a colleague (or a token the vendor gave anew) is theirs now:
        # the one before gets no more pushes on it.
        taken = Q(device_id=inputs.device_id)
        if inputs.push_token:
            taken |= Q(push_token=inputs.push_token, transport=inputs.transport)
        await Device.filter(taken).exclude(staff_id=who.id).delete()
        device, _ = await Device.update_or_create(
            staff_id=who.id, device_id=inputs.device_id, defaults=values
        )
    return device_out(device)


async def devices(who: Principal) -> DeviceList:
    """The caller's phones."""
    rows = await Device.filter(staff_id=who.id).order_by("id")
    return DeviceList(items=[device_out(d) for d in rows])


async def forget_device(who: Principal, device_id: int) -> None:
    """Remove one of the caller's phones (a lost phone gets no more pushes)."""
    if not await Device.filter(id=device_id, staff_id=who.id).delete():
        raise NotFound(f"device {device_id}", message="未找到该设备")
