"""A burst of password guesses in parallel gets no more tries than guesses one after another."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp.test_utils import TestClient

from core.auth.models import AccessToken
from core.auth.service import create_staff
from core.config import Settings

LOGIN = "/api/v1/auth/login"
PASSWORD = "correct-horse-battery"
BURST = 20


async def _login(client: TestClient[Any, Any], password: str) -> tuple[int, str]:
    r = await client.post(LOGIN, json={"username": "xiaoli", "password": password})
    body = await r.json()
    return r.status, str(body.get("code", ""))


async def test_a_burst_of_wrong_passwords_locks_within_the_limit(
    client: TestClient[Any, Any], settings: Settings
) -> None:
    staff = await create_staff(
        username="xiaoli", password=PASSWORD, display_name="派遣员小李", roles=["dispatcher"]
    )
    answers = await asyncio.gather(*(_login(client, f"wrong-guess-{i:02d}") for i in range(BURST)))
    refused = [a for a in answers if a == (401, "bad_credentials")]
    locked = [a for a in answers if a == (429, "account_locked")]
    assert len(refused) + len(locked) == BURST, answers
    # Only max_failures passwords were ever checked; the rest met a locked door.
    assert 1 <= len(refused) <= settings.login_max_failures, answers
    assert len(locked) >= BURST - settings.login_max_failures

    # The right password, from the same address, now waits out the window like any guess.
    assert await _login(client, PASSWORD) == (429, "account_locked")
    assert await AccessToken.filter(staff_id=staff.id).count() == 0
