"""Short-lived state (core/kv): the same behaviour on the database and on Redis."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from core.kv import DatabaseKV, KeyValue, RedisKV
from core.kv.models import KeyValueItem
from core.kv.service import purge_expired

REDIS_URL = os.environ.get("CITYLOOP_TEST_REDIS_URL")


@pytest.fixture(params=["database", "redis"])
async def kv(request: pytest.FixtureRequest, db: None) -> AsyncIterator[KeyValue]:
    if request.param == "database":
        yield DatabaseKV()
        return
    if not REDIS_URL:
        pytest.skip("the Redis store needs Redis: set CITYLOOP_TEST_REDIS_URL (.ci/run does)")
    redis = Redis.from_url(REDIS_URL)
    try:
        yield RedisKV(redis, namespace=f"cityloop:test:{uuid.uuid4().hex[:8]}")
    finally:
        await redis.aclose()


async def test_a_value_is_kept_replaced_and_deleted(kv: KeyValue) -> None:
    assert await kv.get("wechat:token:wx1") is None
    await kv.set("wechat:token:wx1", "token-a")
    await kv.set("wechat:token:wx1", "token-b")  # a refresh replaces it
    assert await kv.get("wechat:token:wx1") == "token-b"
    await kv.delete("wechat:token:wx1")
    assert await kv.get("wechat:token:wx1") is None


async def test_a_value_expires(kv: KeyValue) -> None:
    await kv.set("draft:o123", '{"step": "photo"}', ttl_s=0.3)
    assert await kv.get("draft:o123") == '{"step": "photo"}'
    await asyncio.sleep(0.5)
    assert await kv.get("draft:o123") is None


async def test_add_is_a_lock_one_caller_wins_until_it_expires(kv: KeyValue) -> None:
    won = await asyncio.gather(*(kv.add("lock:refresh", f"w{i}", ttl_s=0.5) for i in range(5)))
    assert sorted(won) == [False, False, False, False, True]  # one refresh at a time
    await asyncio.sleep(0.7)
    assert await kv.add("lock:refresh", "later", ttl_s=5)  # the holder's time ran out
    assert await kv.get("lock:refresh") == "later"


async def test_a_counter_counts_every_concurrent_hit_and_restarts_after_its_window(
    kv: KeyValue,
) -> None:
    counts = await asyncio.gather(*(kv.incr("login:fail:x", ttl_s=0.6) for _ in range(12)))
    assert sorted(counts) == list(range(1, 13))  # none lost, none counted twice
    await asyncio.sleep(0.8)
    assert await kv.incr("login:fail:x", ttl_s=5) == 1  # a new window
    await kv.delete("login:fail:x")
    assert await kv.incr("login:fail:x", ttl_s=5) == 1


async def test_a_bad_key_is_refused(kv: KeyValue) -> None:
    with pytest.raises(ValueError, match="key"):
        await kv.set("", "x")
    with pytest.raises(ValueError, match="key"):
        await kv.get("k" * 201)


async def test_expired_database_rows_are_purged(db: None) -> None:
    store = DatabaseKV()
    await store.set("old", "1", ttl_s=0.1)
    await store.set("kept", "2")
    await asyncio.sleep(0.2)
    assert await purge_expired() == 1
    assert [k.key for k in await KeyValueItem.all()] == ["kept"]
