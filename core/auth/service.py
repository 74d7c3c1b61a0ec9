"""Passwords, login throttling, bearer tokens and the principal behind a request."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import hashlib
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from tortoise import timezone

from core.auth.const import CITIZEN, MIN_PASSWORD_LENGTH, TOKEN_BYTES, TOKEN_PREFIX
from core.auth.models import AccessToken, Citizen, Staff
from core.errors import (
    TooManyRequests,
    Unauthorized,
    Unavailable,
    ValidationFailed,
)

if TYPE_CHECKING:
    from core.config import Settings
    from core.kv import KeyValue

T = TypeVar("T")

_hasher = PasswordHasher()  # argon2id; configure_hasher sets the costs from Settings
# Verified against when the username is unknown, so both paths cost the same time.
_DUMMY_HASH = _hasher.hash("cityloop-dummy-password")


@dataclass
class _HashPool:
    """argon2id's own threads: a flood of logins never queues photos' disk reads behind it."""

    workers: int = 2
    max_waiting: int = 64
    executor: ThreadPoolExecutor | None = None
    waiting: int = 0

    def run(self) -> ThreadPoolExecutor:
        if self.executor is None:
            self.executor = ThreadPoolExecutor(self.workers, thread_name_prefix="argon2")
        return self.executor


_pool = _HashPool()


def configure_hasher(
    *, time_cost: int, memory_kib: int, workers: int = 2, max_waiting: int = 64
) -> None:
    """Set the argon2id costs for new hashes (old hashes verify with their own) and its pool."""
    global _hasher, _DUMMY_HASH, _pool
    if (_pool.workers, _pool.max_waiting) != (workers, max_waiting):
        if _pool.executor is not None:
            _pool.executor.shutdown(wait=False)
        _pool = _HashPool(workers=workers, max_waiting=max_waiting)
    if (_hasher.time_cost, _hasher.memory_cost) == (time_cost, memory_kib):
        return
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)
    _DUMMY_HASH = _hasher.hash("cityloop-dummy-password")


async def _in_hash_pool(work: Callable[[], T]) -> T:
    """Run password work on its own bounded pool; too long a queue is 503, not a stall."""
    pool = _pool
    if pool.waiting >= pool.max_waiting:
        raise Unavailable(
            f"{pool.waiting} password checks waiting",
            code="login_busy",
            message="登录请求过多，请稍后再试",
        )
    pool.waiting += 1
    try:
        return await asyncio.get_running_loop().run_in_executor(pool.run(), work)
    finally:
        pool.waiting -= 1


async def check_password(password_hash: str, password: str) -> bool:
    """Verify a password against its argon2id hash, off the event loop."""
    return await _in_hash_pool(functools.partial(_verify, password_hash, password))


async def new_password_hash(password: str) -> str:
    """Check a password's length and hash it, off the event loop."""
    return await _in_hash_pool(functools.partial(hash_password, password))


@dataclass(frozen=True)
class Principal:
    """Who is calling: a staff member with roles, or a citizen identity."""

    kind: str  # "staff" or "citizen"
    id: int
    name: str
    roles: frozenset[str] = frozenset()
    department_id: int | None = None
    grid_ids: frozenset[int] = field(default_factory=frozenset)
    token_id: int | None = None
    channel: str | None = None  # a citizen's channel (wechat_oa, wechat_mp, hotline…)
    # A citizen's identities in every channel (one person: the same WeChat unionid).
    citizen_ids: frozenset[int] = field(default_factory=frozenset)
    client: str | None = None  # the app a staff token was issued for (grid_app, web…)
    # A one-time password from a reset: only the change of password is open to this token.
    must_change_password: bool = False

    @property
    def is_staff(self) -> bool:
        return self.kind == "staff"

    @property
    def person(self) -> frozenset[int]:
        """The citizen identities that are this caller (at least their own)."""
        return self.citizen_ids | {self.id}

    def has_any(self, roles: frozenset[str]) -> bool:
        """Tell whether the caller holds one of these roles."""
        return bool(self.roles & roles)


def hash_password(password: str) -> str:
    """Hash a password with argon2id after checking its length."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            "password too short",
            message=f"密码至少需要 {MIN_PASSWORD_LENGTH} 位",
            extra={"fields": [{"field": "password", "message": "密码过短"}]},
        )
    return _hasher.hash(password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def token_digest(token: str) -> str:
    """Return the sha256 under which a token is stored."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class LoginPolicy:
    """How many tries a login gets (from Settings)."""

    max_failures: int  # at one username from one address, per window
    address_max_failures: int  # from one address at any username, per window
    window_minutes: int

    @classmethod
    def of(cls, settings: Settings) -> LoginPolicy:
        return cls(
            max_failures=settings.login_max_failures,
            address_max_failures=settings.login_address_max_failures,
            window_minutes=settings.login_lock_minutes,
        )


def _throttle_key(kind: str, *parts: str) -> str:
    # Neither a username nor an address in a key: they are hashed (keys reach Redis dumps).
    digest = hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]
    return f"login:{kind}:{digest}"


async def login(
    *,
    username: str,
    password: str,
    address: str,
    kv: KeyValue,
    policy: LoginPolicy,
    ttl_hours: int,
    client: str | None = None,
) -> tuple[str, AccessToken, Staff]:
    """Check a password and issue a token, throttled per username and address.

    Known and unknown usernames are answered alike, in time and in words: both are counted,
    both cost one argon2id check. A run of wrong passwords makes a username wait for the
    address that sent them only, so nobody can lock an account for everyone else.
    """
    window_s = policy.window_minutes * 60
    address_key = _throttle_key("address", address)
    if _count(await kv.get(address_key)) >= policy.address_max_failures:
        raise TooManyRequests(
            f"address throttled after {policy.address_max_failures} failed logins",
            code="too_many_attempts",
            message=f"登录失败次数过多，请 {policy.window_minutes} 分钟后再试",
        )
    # Counted before the slow check: a burst of guesses in parallel (or across processes)
    # gets no more tries than guesses one after another.
    generation = await kv.get(_throttle_key("unlocked", username.casefold())) or "0"
    pair_key = _throttle_key("name", username.casefold(), address, generation)
    if await kv.incr(pair_key, ttl_s=window_s) > policy.max_failures:
        raise TooManyRequests(
            f"username throttled for this address after {policy.max_failures} tries",
            code="account_locked",
            message=f"登录失败次数过多，该账号暂时无法登录，请 {policy.window_minutes} 分钟后再试",
        )
    staff = await Staff.get_or_none(username=username)
    ok = await check_password(staff.password_hash if staff else _DUMMY_HASH, password)
    if staff is None or not ok or not staff.is_active:
        await kv.incr(address_key, ttl_s=window_s)
        raise Unauthorized("bad credentials", code="bad_credentials", message="用户名或密码错误")
    await kv.delete(pair_key)
    token, row = await issue_token(staff=staff, ttl=dt.timedelta(hours=ttl_hours), client=client)
    return token, row, staff


async def unlock(*, username: str, kv: KeyValue, policy: LoginPolicy) -> None:
    """Lift the lock of a username at every address (an administrator's 解锁): its counters
    are keyed by a generation, and a new generation starts them all from zero."""
    await kv.incr(_throttle_key("unlocked", username.casefold()), ttl_s=policy.window_minutes * 60)


def _count(value: str | None) -> int:
    try:
        return int(value or 0)
    except ValueError:
        return 0


async def issue_token(
    *,
    staff: Staff | None = None,
    citizen: Citizen | None = None,
    ttl: dt.timedelta,
    client: str | None = None,
) -> tuple[str, AccessToken]:
    """Create a bearer token for a staff member or a citizen; return the token and its row."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)
    row = await AccessToken.create(
        token_hash=token_digest(token),
        staff=staff,
        citizen=citizen,
        client=client,
        expires_at=timezone.now() + ttl,
    )
    return token, row


async def revoke_token(token_id: int) -> None:
    """Revoke one token; later requests with it get 401."""
    await AccessToken.filter(id=token_id, revoked_at=None).update(revoked_at=timezone.now())


async def revoke_all(staff_id: int) -> int:
    """Revoke every live token of a staff member (password change, leaving)."""
    return await AccessToken.filter(staff_id=staff_id, revoked_at=None).update(
        revoked_at=timezone.now()
    )


async def citizen_identity(
    *, channel: str, external_id: str, union_id: str | None = None, phone: str | None = None
) -> Citizen:
    """Find or create the citizen behind a channel identity; keep the newest phone/unionid."""
    citizen, _ = await Citizen.get_or_create(channel=channel, external_id=external_id)
    changes: dict[str, str] = {}
    if union_id and citizen.union_id != union_id:
        changes["union_id"] = union_id
    if phone and citizen.phone != phone:
        changes["phone"] = phone
    if changes:
        await Citizen.filter(id=citizen.id).update(**changes)
        await citizen.refresh_from_db()
    return citizen


async def same_person(citizen: Citizen) -> frozenset[int]:
    """The ids of this citizen's identities in every channel: those sharing its WeChat
    unionid (the 公众号 and the 小程序 of one 开放平台 account give one), or only its own."""
    if not citizen.union_id:
        return frozenset({citizen.id})
    ids = await Citizen.filter(union_id=citizen.union_id).values_list("id", flat=True)
    return frozenset({citizen.id, *(int(str(i)) for i in ids)})


async def citizen_principal(citizen_id: int) -> Principal:
    """A citizen as a viewer (no token): with all their identities."""
    citizen = await Citizen.get(id=citizen_id)
    return Principal(
        kind=CITIZEN,
        id=citizen.id,
        name=citizen.nickname or "",
        channel=citizen.channel,
        citizen_ids=await same_person(citizen),
    )
