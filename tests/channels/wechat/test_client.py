"""The WeChat API client (channels/wechat/client.py) against the fake API over HTTP: one
token for many senders and processes, one refresh when WeChat refuses it, errors without
secrets."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from pydantic import SecretStr

from channels.wechat import WeChatClient, WeChatError, WeChatUnavailable
from core.config import Settings
from core.kv import DatabaseKV, KeyValue, RedisKV
from tests.channels.wechat_server import APP_ID, APP_SECRET, FakeWeChatAPI


@pytest.fixture
async def kv(settings: Settings, db: None) -> AsyncIterator[KeyValue]:
    """The store every process of a deployment shares: Redis when the suite has one."""
    if not settings.redis_dsn:
        yield DatabaseKV()
        return
    from redis.asyncio import Redis

    redis = Redis.from_url(settings.redis_dsn)
    yield RedisKV(redis, namespace=settings.queue_name)
    keys = await redis.keys(settings.queue_name + ":*")
    if keys:
        await redis.delete(*keys)
    await redis.aclose()


def _client(http: aiohttp.ClientSession, kv: KeyValue, base: str, **kw: Any) -> WeChatClient:
    return WeChatClient(
        http=http, kv=kv, app_id=APP_ID, app_secret=SecretStr(APP_SECRET), api_base=base, **kw
    )


async def test_ten_concurrent_sends_with_a_cold_cache_fetch_one_token(
    kv: KeyValue, wechat_api: tuple[FakeWeChatAPI, str]
) -> None:
    api, base = wechat_api
    api.token_delay_s = 0.2  # a slow token call: every sender arrives while it runs
    async with aiohttp.ClientSession() as http:
        # Two processes (two clients on the same shared store), five senders each.
        first, second = _client(http, kv, base), _client(http, kv, base)
        await asyncio.gather(
            *(c.send_text(f"o{i}", "你好") for i in range(5) for c in (first, second))
        )
    assert api.token_fetches == 1
    assert len(api.texts()) == 10


async def test_a_refused_token_is_refreshed_once_and_the_call_made_again(
    kv: KeyValue, wechat_api: tuple[FakeWeChatAPI, str]
) -> None:
    api, base = wechat_api
    async with aiohttp.ClientSession() as http:
        client = _client(http, kv, base)
        await client.send_text("o1", "一")
        api.expire_tokens()
        await asyncio.gather(*(client.send_text("o1", "二") for _ in range(5)))
    assert api.token_fetches == 2  # five refusals, one refresh
    assert len(api.texts()) == 6


async def test_errors_name_the_code_and_never_the_secret_or_token(
    kv: KeyValue, wechat_api: tuple[FakeWeChatAPI, str]
) -> None:
    api, base = wechat_api
    async with aiohttp.ClientSession() as http:
        client = _client(http, kv, base, timeout_s=0.5)
        api.fail["/cgi-bin/message/custom/send"] = [43004, "500", "timeout"]
        with pytest.raises(WeChatError) as refused:
            await client.send_text("o1", "你好")
        assert refused.value.errcode == 43004
        with pytest.raises(WeChatUnavailable) as down:
            await client.send_text("o1", "你好")
        with pytest.raises(WeChatUnavailable) as slow:
            await client.send_text("o1", "你好")
        wrong = WeChatClient(
            http=http, kv=kv, app_id=APP_ID, app_secret=SecretStr("wrong"), api_base=base
        )
        await kv.delete(f"wechat:token:{APP_ID}")
        with pytest.raises(WeChatError) as bad_secret:
            await wrong.send_text("o1", "你好")
    assert bad_secret.value.errcode == 40125
    for err in (refused.value, down.value, slow.value, bad_secret.value):
        text = f"{err!s} {err!r}"
        assert APP_SECRET not in text
        assert not any(t in text for t in api.tokens)


async def test_media_is_downloaded_and_refused_when_too_large(
    kv: KeyValue, wechat_api: tuple[FakeWeChatAPI, str]
) -> None:
    api, base = wechat_api
    api.media["M1"] = (b"\xff\xd8" + b"x" * 5000, "image/jpeg")
    async with aiohttp.ClientSession() as http:
        client = _client(http, kv, base)
        assert len(await client.download_media("M1", max_bytes=10_000)) == 5002
        with pytest.raises(WeChatError) as big:
            await client.download_media("M1", max_bytes=1000)
        with pytest.raises(WeChatError) as unknown:
            await client.download_media("NOPE", max_bytes=1000)
    assert big.value.errcode == -3
    assert unknown.value.errcode == 40007
