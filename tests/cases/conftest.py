"""A seeded demo city behind the running app (see helpers.py for what a test does with it)."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from core.auth.service import configure_hasher
from core.config import CityProfile, Settings, load_settings
from core.db import database
from core.demo import seed_demo
from core.web import create_app
from core.web.keys import GRIDS
from tests.cases.helpers import City

MakeCity = Callable[..., Awaitable[City]]


@pytest.fixture
async def city(client: TestClient[Any, Any], settings: Settings) -> City:
    """Seed the demo city in the running app's database (once) and index its grids."""
    logins = await seed_demo(settings)
    await client.app[GRIDS].refresh(force=True)
    return City(client, settings, {u: p for u, p, _ in logins})


@dataclass(frozen=True)
class SeededFile:
    """A SQLite database that holds the demo city, and the passwords it gave the accounts."""

    path: Path
    passwords: dict[str, str]


async def _seed(settings: Settings) -> dict[str, str]:
    async with database(settings):
        return {u: p for u, p, _ in await seed_demo(settings)}


@pytest.fixture(scope="session")
def seeded_sqlite(template_db: str, tmp_path_factory: pytest.TempPathFactory) -> SeededFile:
    """Seed the demo city once per session into a copy of the migrated SQLite template."""
    path = tmp_path_factory.mktemp("seeded") / "seeded.sqlite3"
    shutil.copyfile(template_db, path)
    with pytest.MonkeyPatch.context() as env:
        # As the settings fixture does: no CITYLOOP_ variable of the developer's changes the city.
        for key in [k for k in os.environ if k.startswith("CITYLOOP_")]:
            if not key.startswith("CITYLOOP_TEST_"):
                env.delenv(key)
        settings = load_settings(database_url=f"sqlite://{path}", log_format="text")
    configure_hasher(time_cost=1, memory_kib=1024)  # cheap, as the settings fixture sets it
    return SeededFile(path, asyncio.run(_seed(settings)))


@pytest.fixture
def seeded_copy(
    request: pytest.FixtureRequest, settings: Settings, tmp_path: Path
) -> tuple[Settings, dict[str, str] | None]:
    """On SQLite: this test's settings on its own copy of the seeded file, and its passwords.
    On PostgreSQL the test's settings, unseeded (None): making a database from a template
    there takes longer than seeding the city again."""
    if not settings.database_url.startswith("sqlite://"):
        return settings, None
    seeded: SeededFile = request.getfixturevalue("seeded_sqlite")
    target = tmp_path / "seeded.sqlite3"
    shutil.copyfile(seeded.path, target)
    return settings.model_copy(update={"database_url": f"sqlite://{target}"}), seeded.passwords


@pytest.fixture
async def quick_city(
    seeded_copy: tuple[Settings, dict[str, str] | None], aiohttp_client: Any
) -> City:
    """The demo city of `city`, for tests by the hundred: on SQLite it is seeded once per
    session and each test runs on a copy of it; on PostgreSQL it is seeded for each test."""
    settings, passwords = seeded_copy
    client: TestClient[Any, Any] = await aiohttp_client(create_app(settings))
    if passwords is None:
        passwords = {u: p for u, p, _ in await seed_demo(settings)}
    await client.app[GRIDS].refresh(force=True)
    return City(client, settings, dict(passwords))


@pytest.fixture
def city_with(settings: Settings, aiohttp_client: Any) -> MakeCity:
    """A demo city behind an app whose profile has these sections."""

    async def make(**sections: Any) -> City:
        local = settings.model_copy(update={"profile": CityProfile(**sections)})
        client = await aiohttp_client(create_app(local))
        logins = await seed_demo(local)
        await client.app[GRIDS].refresh(force=True)
        return City(client, local, {u: p for u, p, _ in logins})

    return make
