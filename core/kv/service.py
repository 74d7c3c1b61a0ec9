"""One small interface for short-lived state, on Redis or on the database.

For values that may be lost and rebuilt (an access token, a conversation draft, a rate
counter): anything that must not be lost is a row of its own. Keys are namespaced by the
caller (`wechat:token:<appid>`); values are text (JSON is the caller's choice).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Protocol

from tortoise import timezone
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from core.kv.models import KeyValueItem

if TYPE_CHECKING:
    from redis.asyncio import Redis

MAX_KEY = 200


class KeyValue(Protocol):
    """Get, set with expiry, add only if absent (a lock), delete."""

    async def get(self, key: str) -> str | None: ...

    async def set(self, key: str, value: str, *, ttl_s: float | None = None) -> None: ...

    async def add(self, key: str, value: str, *, ttl_s: float) -> bool:
        """Set only if the key is absent or expired; tell whether this call set it."""
        ...

    async def incr(self, key: str, *, ttl_s: float) -> int:
        """Add one to a counter and return it; a new counter lives ttl_s (a fixed window)."""
        ...

    async def delete(self, key: str) -> None: ...


def _checked(key: str) -> str:
    if not key or len(key) > MAX_KEY:
        raise ValueError(f"key must be 1..{MAX_KEY} characters")
    return key


class RedisKV:
    """On Redis (every process of a deployment shares it)."""

    def __init__(self, redis: Redis, *, namespace: str) -> None:
        self._redis = redis
        self._ns = namespace + ":kv:"

    async def get(self, key: str) -> str | None:
        """Return the value, or None if absent or expired."""
        value = await self._redis.get(self._ns + _checked(key))
        return value.decode() if isinstance(value, bytes) else value

    async def set(self, key: str, value: str, *, ttl_s: float | None = None) -> None:
        """Store a value, for ttl_s seconds if given."""
        px = int(ttl_s * 1000) if ttl_s else None
        await self._redis.set(self._ns + _checked(key), value, px=px)

    async def add(self, key: str, value: str, *, ttl_s: float) -> bool:
        """Store only if absent; True if this call stored it."""
        done = await self._redis.set(self._ns + _checked(key), value, px=int(ttl_s * 1000), nx=True)
        return bool(done)

    async def incr(self, key: str, *, ttl_s: float) -> int:
        """Add one to a counter (created with its expiry) and return it, atomically."""
        name = self._ns + _checked(key)
        # MULTI: the counter is born with its expiry, and INCR keeps it.
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(name, 0, px=int(ttl_s * 1000), nx=True)
            pipe.incr(name)
            _, count = await pipe.execute()
        return int(count)

    async def delete(self, key: str) -> None:
        """Forget a key."""
        await self._redis.delete(self._ns + _checked(key))


class DatabaseKV:
    """On the database (the embedded default); expired rows are purged by a periodic job."""

    async def get(self, key: str) -> str | None:
        """Return the value, or None if absent or expired."""
        row = await KeyValueItem.filter(_live(), key=_checked(key)).first()
        return row.value if row else None

    async def set(self, key: str, value: str, *, ttl_s: float | None = None) -> None:
        """Store a value, for ttl_s seconds if given."""
        expires = _expiry(ttl_s)
        async with in_transaction():
            if not await KeyValueItem.filter(key=_checked(key)).update(
                value=value, expires_at=expires
            ):
                try:
                    async with in_transaction():
                        await KeyValueItem.create(key=key, value=value, expires_at=expires)
                except IntegrityError:  # created meanwhile by another process: ours wins
                    await KeyValueItem.filter(key=key).update(value=value, expires_at=expires)

    async def add(self, key: str, value: str, *, ttl_s: float) -> bool:
        """Store only if absent or expired; True if this call stored it."""
        now = timezone.now()
        expires = _expiry(ttl_s)
        # An expired row is taken over in place; else the insert decides (the key is unique).
        if await KeyValueItem.filter(key=_checked(key), expires_at__lte=now).update(
            value=value, expires_at=expires
        ):
            return True
        try:
            async with in_transaction():
                await KeyValueItem.create(key=key, value=value, expires_at=expires)
        except IntegrityError:
            return False
        return True

    async def incr(self, key: str, *, ttl_s: float) -> int:
        """Add one to a counter and return it; the row is locked while it is counted."""
        key = _checked(key)
        for _ in range(3):  # a first insert raced by another process: count again
            try:
                async with in_transaction() as conn:
                    row = (
                        await KeyValueItem.filter(key=key)
                        .select_for_update()
                        .using_db(conn)
                        .first()
                    )
                    if row is None:
                        await KeyValueItem.create(
                            key=key, value="1", expires_at=_expiry(ttl_s), using_db=conn
                        )
                        return 1
                    live = row.expires_at is None or row.expires_at > timezone.now()
                    count = _count(row.value) + 1 if live else 1
                    changes: dict[str, object] = {"value": str(count)}
                    if not live:
                        changes["expires_at"] = _expiry(ttl_s)
                    await KeyValueItem.filter(key=key).using_db(conn).update(**changes)
                    return count
            except IntegrityError:
                continue
        raise RuntimeError(f"counter {key!r} could not be counted")

    async def delete(self, key: str) -> None:
        """Forget a key."""
        await KeyValueItem.filter(key=_checked(key)).delete()


def _count(value: str) -> int:
    try:
        return int(value)
    except ValueError:  # a key reused for something else: start over
        return 0


def _live() -> Q:
    return Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now())


def _expiry(ttl_s: float | None) -> dt.datetime | None:
    return timezone.now() + dt.timedelta(seconds=ttl_s) if ttl_s else None


async def purge_expired() -> int:
    """Delete the database rows whose time is up; return how many."""
    return await KeyValueItem.filter(expires_at__lte=timezone.now()).delete()
