"""Fixtures of the channels' tests: the fake WeChat API on a real port."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestServer

from tests.channels.wechat_server import FakeWeChatAPI


@pytest.fixture
async def wechat_api() -> AsyncIterator[tuple[FakeWeChatAPI, str]]:
    """WeChat's API host, faked, and its base URL (CITYLOOP_WECHAT_API_BASE)."""
    fake = FakeWeChatAPI()
    server = TestServer(fake.app())
    await server.start_server()
    yield fake, str(server.make_url("")).rstrip("/")
    await server.close()
