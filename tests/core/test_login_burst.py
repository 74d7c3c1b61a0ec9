"""A burst of password guesses in parallel gets no more tries than guesses one after another."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp.test_utils import TestClient

from core.auth.accounts import create_staff
from core.auth.models import AccessToken
from core.config import Settings
from core.web import create_app

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


async def test_logins_beyond_the_queue_are_told_to_come_back(
    aiohttp_client: Any, settings: Settings
) -> None:
    # Real argon2 costs, one hashing thread and room for two waiting: a burst of twelve.
    narrow = settings.model_copy(
        update={
            "password_time_cost": 3,
            "password_memory_kib": 65536,
            "password_workers": 1,
            "password_max_waiting": 2,
        }
    )
    client = await aiohttp_client(create_app(narrow))

    async def guess(i: int) -> tuple[int, str]:
        body = {"username": f"nobody{i:02d}", "password": f"wrong-guess-{i:02d}"}
        r = await client.post(LOGIN, json=body)
        answer = await r.json()
        assert "请稍后再试" in answer["message"] or r.status == 401, answer
        return r.status, str(answer["code"])

    answers = await asyncio.gather(*(guess(i) for i in range(12)))
    # Some were checked (and refused), the rest told at once to come back: none stalled.
    assert set(answers) == {(401, "bad_credentials"), (503, "login_busy")}, answers
