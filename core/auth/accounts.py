"""Staff accounts as an administrator keeps them: create, edit, disable, reset, grids.

Every change made through the API or the CLI names its actor and writes an audit row in the
same transaction; the demo seed and the tests create accounts without one.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Any

from tortoise import timezone
from tortoise.transactions import in_transaction

from core.audit.service import Actor, record, record_change
from core.auth.const import Role
from core.auth.models import AccessToken, Staff
from core.auth.service import check_password, new_password_hash, revoke_all
from core.config import Settings
from core.errors import Conflict, NotFound, ValidationFailed, field_error
from core.org.models import Department, Grid, GridAssignment

ONE_TIME_PASSWORD_BYTES = 9  # 12 URL-safe characters, shown once to the administrator


@dataclass(frozen=True)
class PasswordPolicy:
    """What a password a person chooses must be (from Settings)."""

    min_length: int = 10

    @classmethod
    def of(cls, settings: Settings) -> PasswordPolicy:
        return cls(min_length=settings.password_min_length)

    def check(self, username: str, password: str, field: str = "password") -> None:
        """422 weak_password naming the field, or nothing."""
        why = None
        if len(password) < self.min_length:
            why = f"密码至少需要 {self.min_length} 位"
        elif username.casefold() in password.casefold():
            why = "密码不能包含用户名"
        elif len(set(password)) < 4:
            why = "密码过于简单"
        if why:
            raise ValidationFailed(
                f"weak password: {why}",
                code="weak_password",
                message=why,
                extra={"fields": [{"field": field, "message": why, "type": "weak_password"}]},
            )


def one_time_password() -> str:
    """A random password for an administrator to hand over; it opens only the change."""
    return secrets.token_urlsafe(ONE_TIME_PASSWORD_BYTES)


def staff_record(staff: Staff) -> dict[str, Any]:
    """What the audit log keeps of an account (no password hash)."""
    return {
        "username": staff.username,
        "display_name": staff.display_name,
        "roles": sorted(staff.roles),
        "department_id": staff.department_id,
        "phone": staff.phone,
        "is_active": staff.is_active,
    }


async def _check_roles(roles: list[str], department_id: int | None) -> None:
    unknown = [r for r in roles if r not in Role.__members__.values()]
    if unknown or not roles:
        raise field_error(
            "roles", f"unknown roles {unknown}", f"角色不正确：{unknown or '至少一个'}"
        )
    if Role.HANDLER in roles and department_id is None:
        raise field_error(
            "department_id",
            "a handler needs a department",
            "处置人员必须属于一个部门",
            code="department_required",
        )
    if department_id is not None:
        dep = await Department.get_or_none(id=department_id)
        if dep is None:
            raise field_error("department_id", f"unknown department {department_id}", "部门不存在")
        elif dep.retired_at is not None:
            raise field_error("department_id", f"department {dep.code} retired", "该部门已撤销")


async def create_staff(
    *,
    username: str,
    password: str,
    display_name: str,
    roles: list[str],
    department_id: int | None = None,
    phone: str | None = None,
    must_change_password: bool = False,
    actor: Actor | None = None,
) -> Staff:
    """Create a staff account; the username must be new and every role known."""
    await _check_roles(roles, department_id)
    if await Staff.filter(username=username).exists():
        raise Conflict(f"username {username} exists", code="username_taken", message="用户名已存在")
    password_hash = await new_password_hash(password)
    async with in_transaction():
        staff = await Staff.create(
            username=username,
            password_hash=password_hash,
            display_name=display_name,
            roles=sorted(set(roles)),
            department_id=department_id,
            phone=phone,
            must_change_password=must_change_password,
        )
        if actor is not None:
            await record(
                actor=actor,
                action="staff.create",
                target="staff",
                target_id=staff.id,
                after=staff_record(staff),
            )
    return staff


async def get_staff(staff_id: int) -> Staff:
    """Load a staff account or raise NotFound."""
    staff = await Staff.get_or_none(id=staff_id)
    if staff is None:
        raise NotFound(f"staff {staff_id}", message="未找到该员工")
    return staff


async def update_staff(staff_id: int, *, changes: dict[str, Any], actor: Actor) -> Staff:
    """Change an account's name, roles, department or phone (only the keys given)."""
    staff = await get_staff(staff_id)
    before = staff_record(staff)
    roles = sorted(set(changes.get("roles", staff.roles)))
    department_id = changes.get("department_id", staff.department_id)
    await _check_roles(roles, department_id)
    async with in_transaction():
        for key, value in changes.items():
            setattr(staff, key, sorted(set(value)) if key == "roles" else value)
        await staff.save()
        await record_change(
            actor=actor,
            action="staff.update",
            target="staff",
            target_id=staff.id,
            before=before,
            after=staff_record(staff),
        )
    return staff


async def set_active(staff_id: int, *, active: bool, actor: Actor) -> Staff:
    """Disable (every token revoked, no login) or re-enable an account."""
    staff = await get_staff(staff_id)
    if actor.id == staff.id and not active:
        raise Conflict("cannot disable oneself", code="self_disable", message="不能停用自己的账号")
    async with in_transaction():
        if staff.is_active != active:
            staff.is_active = active
            await staff.save(update_fields=["is_active"])
            await record(
                actor=actor,
                action="staff.enable" if active else "staff.disable",
                target="staff",
                target_id=staff.id,
                before={"is_active": not active},
                after={"is_active": active},
            )
        if not active:
            await revoke_all(staff.id)
    return staff


async def reset_password(staff_id: int, *, actor: Actor) -> tuple[Staff, str]:
    """Give an account a one-time password: it opens only the change of password."""
    staff = await get_staff(staff_id)
    password = one_time_password()
    password_hash = await new_password_hash(password)
    async with in_transaction():
        staff.password_hash = password_hash
        staff.must_change_password = True
        await staff.save(update_fields=["password_hash", "must_change_password"])
        await revoke_all(staff.id)
        await record(actor=actor, action="staff.reset_password", target="staff", target_id=staff.id)
    return staff, password


async def change_password(
    staff_id: int, *, old: str, new: str, policy: PasswordPolicy, keep_token: int | None
) -> Staff:
    """A person changes their own password; their other tokens end."""
    staff = await get_staff(staff_id)
    if not await check_password(staff.password_hash, old):
        raise field_error(
            "old_password", "wrong old password", "原密码不正确", code="wrong_password"
        )
    policy.check(staff.username, new, field="new_password")
    if new == old:
        raise field_error(
            "new_password", "same password", "新密码不能与原密码相同", code="weak_password"
        )
    password_hash = await new_password_hash(new)
    async with in_transaction():
        staff.password_hash = password_hash
        staff.must_change_password = False
        await staff.save(update_fields=["password_hash", "must_change_password"])
        tokens = AccessToken.filter(staff_id=staff.id, revoked_at=None)
        if keep_token is not None:
            tokens = tokens.exclude(id=keep_token)
        await tokens.update(revoked_at=timezone.now())
        actor = Actor(staff.id, staff.username)
        await record(
            actor=actor, action="staff.change_password", target="staff", target_id=staff.id
        )
    return staff


async def set_grids(
    staff_id: int, *, grid_codes: list[str], primary: list[str], actor: Actor
) -> list[tuple[str, bool]]:
    """Give an inspector exactly these grids, the 主责 of those in `primary` (one per grid:
    another inspector who was primary there stops being so). Return (code, primary) pairs."""
    staff = await get_staff(staff_id)
    if Role.INSPECTOR not in staff.roles:
        raise field_error("grids", f"staff {staff.id} is no inspector", "只有监督员可以分配网格")
    wanted = set(grid_codes) | set(primary)
    live = Grid.filter(code__in=sorted(wanted), retired_at=None)
    grids = dict(await live.values_list("code", "id"))
    missing = sorted(wanted - set(grids))
    if missing:
        raise field_error(
            "grids", f"unknown grids {missing}", f"网格不存在或已停用：{'、'.join(missing)}"
        )
    first = set(primary)
    async with in_transaction():
        # Who was 主责 of these grids until now stops being so: their rows change too.
        taken = GridAssignment.filter(grid_id__in=[grids[c] for c in first], is_primary=True)
        others = await taken.exclude(staff_id=staff.id).values_list("staff_id", flat=True)
        ids = {staff.id, *(int(str(i)) for i in others)}
        before = {sid: await _grid_pairs(sid) for sid in ids}
        await taken.update(is_primary=False)
        await GridAssignment.filter(staff_id=staff.id).delete()
        for code in sorted(wanted):
            await GridAssignment.create(
                staff_id=staff.id, grid_id=grids[code], is_primary=code in first
            )
        for sid, was in before.items():
            now = await _grid_pairs(sid)
            if was != now:
                await record(
                    actor=actor,
                    action="staff.grids",
                    target="staff",
                    target_id=sid,
                    before={"grids": was},
                    after={"grids": now},
                )
    return await _grid_pairs(staff.id)


async def _grid_pairs(staff_id: int) -> list[tuple[str, bool]]:
    rows = await GridAssignment.filter(staff_id=staff_id).values_list("grid__code", "is_primary")
    return sorted((str(code), bool(flag)) for code, flag in rows)
