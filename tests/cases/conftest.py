"""A seeded demo city behind the running app (see helpers.py for what a test does with it)."""

from __future__ import annotations

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from core.config import Settings
from core.demo import seed_demo
from core.web.keys import GRIDS
from tests.cases.helpers import City


@pytest.fixture
async def city(client: TestClient[Any, Any], settings: Settings) -> City:
    """Seed the demo city in the running app's database (once) and index its grids."""
    logins = await seed_demo(settings)
    await client.app[GRIDS].refresh(force=True)
    return City(client, settings, {u: p for u, p, _ in logins})
