"""Operators see failed outbox rows and can run one again; nobody else can."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aiohttp.test_utils import TestClient

from core.auth.accounts import create_staff
from core.auth.service import issue_token
from core.jobs import outbox
from core.jobs.models import OutboxItem, OutboxStatus


async def _token(username: str, role: str) -> dict[str, str]:
    staff = await create_staff(
        username=username, password="correct-horse-battery", display_name=username, roles=[role]
    )
    token, _ = await issue_token(staff=staff, ttl=dt.timedelta(hours=1))
    return {"Authorization": f"Bearer {token}"}


async def test_failed_rows_are_listed_and_retried(client: TestClient[Any, Any]) -> None:
    admin = await _token("ops", "admin")
    failed = await outbox.add("notify.sms", {"case_id": 1})  # no handler here
    await OutboxItem.filter(id=failed.id).update(
        status=OutboxStatus.FAILED, attempts=10, last_error="HTTP 500 from WeChat"
    )
    await outbox.add("notify.staff", {"case_id": 1})  # pending: not in the default list

    listed = await (await client.get("/api/v1/outbox", headers=admin)).json()
    assert [(i["id"], i["last_error"]) for i in listed["items"]] == [
        (failed.id, "HTTP 500 from WeChat")
    ]
    assert listed["total"] == 1

    resp = await client.post(f"/api/v1/outbox/{failed.id}/retry", headers=admin)
    assert resp.status == 200, await resp.text()
    row = await OutboxItem.get(id=failed.id)
    assert (row.attempts, row.status, row.last_error) == (
        0,
        OutboxStatus.PENDING,
        "HTTP 500 from WeChat",  # kept for the record until the next attempt
    )
    again = await client.post(f"/api/v1/outbox/{failed.id}/retry", headers=admin)
    assert (again.status, (await again.json())["code"]) == (404, "not_found")  # not failed now


async def test_only_admins_see_the_outbox(client: TestClient[Any, Any]) -> None:
    dispatcher = await _token("d1", "dispatcher")
    resp = await client.get("/api/v1/outbox", headers=dispatcher)
    assert (resp.status, (await resp.json())["code"]) == (403, "role_forbidden")
