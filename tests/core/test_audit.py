"""The audit log (core/audit): filters for admins, nothing secret kept, retention."""

from __future__ import annotations

import datetime as dt
from typing import Any

from aiohttp.test_utils import TestClient
from tortoise import timezone

from core.audit.jobs import audit_purge
from core.audit.models import AuditEntry
from core.audit.service import Actor, record
from core.auth.accounts import create_staff
from core.jobs.registry import PeriodicContext
from core.web.keys import RUNTIME
from tests.core.test_accounts import PASSWORD, _error, _headers

AUDIT = "/api/v1/audit"


async def test_admins_filter_the_log_by_actor_action_and_target(
    client: TestClient[Any, Any],
) -> None:
    await create_staff(username="boss", password=PASSWORD, display_name="管理员", roles=["admin"])
    admin = await _headers(client, "boss", PASSWORD)
    for name in ("甲", "乙", "丙"):
        body = {"username": f"u{ord(name)}", "display_name": name, "roles": ["agent"]}
        assert (await client.post("/api/v1/staff", json=body, headers=admin)).status == 201
    made = await (
        await client.post(
            "/api/v1/departments",
            json={"code": "HW", "name": "环卫处", "kind": "department"},
            headers=admin,
        )
    ).json()

    async def listed(**query: Any) -> dict[str, Any]:
        resp = await client.get(AUDIT, params=query, headers=admin)
        assert resp.status == 200, await resp.text()
        page: dict[str, Any] = await resp.json()
        return page

    every = await listed()
    assert [e["action"] for e in every["items"]] == [
        "department.create",
        "staff.create",
        "staff.create",
        "staff.create",
    ]  # newest first
    assert every["items"][0]["actor"] == "管理员" and every["items"][0]["request_id"]
    assert (await listed(action="staff."))["items"][-1]["after"]["display_name"] == "甲"
    only = await listed(target="department", target_id=str(made["id"]))
    assert [e["after"]["code"] for e in only["items"]] == ["HW"]
    first = await listed(page_size=3)
    assert len(first["items"]) == 3 and first["more"] is True
    assert (await listed(page=2, page_size=3))["more"] is False
    err = await _error(
        await client.get(AUDIT, params={"action": "DROP TABLE"}, headers=admin),
        422,
        "validation_error",
    )
    assert err["fields"][0]["field"] == "action"

    await create_staff(
        username="disp", password=PASSWORD, display_name="派遣", roles=["dispatcher"]
    )
    theirs = await _headers(client, "disp", PASSWORD)
    await _error(await client.get(AUDIT, headers=theirs), 403, "role_forbidden")


async def test_secrets_never_reach_the_log(db: None) -> None:
    entry = await record(
        actor=Actor.cli(),
        action="staff.create",
        target="staff",
        after={"username": "x", "password": "hunter2-hunter2", "password_hash": "$argon2id$…"},
    )
    assert entry.after == {"username": "x"} and entry.actor.startswith("cli:")


async def test_rows_past_the_retention_are_purged_daily(client: TestClient[Any, Any]) -> None:
    runtime = client.app[RUNTIME]
    days = runtime.settings.audit_retention_days
    old = await record(actor=Actor.cli(), action="department.create", target="department")
    kept = await record(actor=Actor.cli(), action="department.update", target="department")
    await AuditEntry.filter(id=old.id).update(at=timezone.now() - dt.timedelta(days=days + 1))
    await audit_purge(PeriodicContext(runtime=runtime, queue=runtime.queue))
    assert await AuditEntry.all().values_list("id", flat=True) == [kept.id]
