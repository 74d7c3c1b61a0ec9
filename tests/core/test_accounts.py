"""Staff accounts as an administrator keeps them (core/auth/accounts.py), over HTTP: one-time
passwords, the change they force, disable and enable, unlock, inspectors' grids, the audit."""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient
from shapely.geometry import box, mapping

from core.audit.models import AuditEntry
from core.auth.accounts import create_staff
from core.org.models import Department, DepartmentKind, Grid

LOGIN = "/api/v1/auth/login"
STAFF = "/api/v1/staff"
PASSWORD = "correct-horse-battery"
CHINESE = re.compile(r"[\u4e00-\u9fff]")
GRID_A, GRID_B = "370202001001001", "370202001001002"


async def _error(resp: ClientResponse, status: int, code: str) -> dict[str, Any]:
    assert resp.status == status, await resp.text()
    body: dict[str, Any] = await resp.json()
    assert body["code"] == code, body
    assert CHINESE.search(body["message"]), body
    return body


async def _login(
    client: TestClient[Any, Any], username: str, password: str, address: str = "10.0.0.1"
) -> ClientResponse:
    return await client.post(
        LOGIN,
        json={"username": username, "password": password},
        headers={"X-Forwarded-For": address},
    )


async def _headers(client: TestClient[Any, Any], username: str, password: str) -> dict[str, str]:
    resp = await _login(client, username, password)
    assert resp.status == 200, await resp.text()
    return {"Authorization": f"Bearer {(await resp.json())['token']}"}


async def _admin(client: TestClient[Any, Any]) -> dict[str, str]:
    await create_staff(username="boss", password=PASSWORD, display_name="管理员", roles=["admin"])
    return await _headers(client, "boss", PASSWORD)


async def test_a_new_account_gets_a_one_time_password_that_opens_only_its_change(
    client: TestClient[Any, Any],
) -> None:
    admin = await _admin(client)
    body = {"username": "xiaowang", "display_name": "王受理", "roles": ["acceptor"]}
    resp = await client.post(STAFF, json=body, headers=admin)
    assert resp.status == 201, await resp.text()
    made = await resp.json()
    one_time = made["one_time_password"]
    assert made["must_change_password"] is True and len(one_time) >= 12

    login = await _login(client, "xiaowang", one_time)
    assert login.status == 200 and (await login.json())["must_change_password"] is True
    mine = {"Authorization": f"Bearer {(await login.json())['token']}"}
    await _error(
        await client.get("/api/v1/departments", headers=mine), 403, "password_change_required"
    )
    me = await client.get("/api/v1/auth/me", headers=mine)
    assert (await me.json())["must_change_password"] is True

    change = "/api/v1/auth/password"
    weak = {"old_password": one_time, "new_password": "xiaowang-2026"}
    err = await _error(await client.post(change, json=weak, headers=mine), 422, "weak_password")
    assert err["fields"][0]["field"] == "new_password" and "用户名" in err["message"]
    wrong = {"old_password": "not-the-one", "new_password": "东风路 7 号 is mine"}
    await _error(await client.post(change, json=wrong, headers=mine), 422, "wrong_password")
    good = {"old_password": one_time, "new_password": "东风路 7 号 is mine"}
    resp = await client.post(change, json=good, headers=mine)
    assert resp.status == 200 and (await resp.json())["must_change_password"] is False
    assert (await client.get("/api/v1/departments", headers=mine)).status == 200  # same session
    assert (await _login(client, "xiaowang", one_time)).status == 401
    assert (await _login(client, "xiaowang", "东风路 7 号 is mine")).status == 200

    actions = (
        await AuditEntry.filter(target_id=str(made["id"]))
        .order_by("id")
        .values_list("action", "actor", "after")
    )
    assert [(a, who) for a, who, _ in actions] == [
        ("staff.create", "管理员"),
        ("staff.change_password", "xiaowang"),
    ]
    assert one_time not in str(actions) and "password" not in str(actions[0][2])


async def test_a_chosen_password_meets_the_policy(client: TestClient[Any, Any]) -> None:
    admin = await _admin(client)
    body = {"username": "liming", "display_name": "李明", "roles": ["dispatcher"]}
    for password, why in (("liming-2026-ok", "用户名"), ("aaaaaaaaaaaa", "简单")):
        resp = await client.post(STAFF, json=body | {"password": password}, headers=admin)
        assert why in (await _error(resp, 422, "weak_password"))["message"]
    assert (
        await client.post(STAFF, json=body | {"password": PASSWORD}, headers=admin)
    ).status == 201


async def test_disabling_ends_every_session_and_enabling_restores_the_login(
    client: TestClient[Any, Any],
) -> None:
    admin = await _admin(client)
    staff = await create_staff(
        username="hw1", password=PASSWORD, display_name="环卫一", roles=["dispatcher"]
    )
    theirs = await _headers(client, "hw1", PASSWORD)
    resp = await client.post(f"{STAFF}/{staff.id}/disable", headers=admin)
    assert resp.status == 200 and (await resp.json())["is_active"] is False
    assert (await client.get("/api/v1/auth/me", headers=theirs)).status == 401
    await _error(await _login(client, "hw1", PASSWORD), 401, "bad_credentials")
    assert (await client.post(f"{STAFF}/{staff.id}/enable", headers=admin)).status == 200
    assert (await _login(client, "hw1", PASSWORD)).status == 200
    me = await client.get("/api/v1/auth/me", headers=admin)
    own = (await me.json())["id"]
    await _error(await client.post(f"{STAFF}/{own}/disable", headers=admin), 409, "self_disable")
    assert await AuditEntry.filter(action__in=["staff.disable", "staff.enable"]).count() == 2


async def test_a_reset_password_ends_the_old_one_and_forces_a_change(
    client: TestClient[Any, Any],
) -> None:
    admin = await _admin(client)
    staff = await create_staff(
        username="forgot", password=PASSWORD, display_name="忘记密码", roles=["agent"]
    )
    theirs = await _headers(client, "forgot", PASSWORD)
    resp = await client.post(f"{STAFF}/{staff.id}/reset-password", headers=admin)
    assert resp.status == 200
    one_time = (await resp.json())["one_time_password"]
    assert (await client.get("/api/v1/auth/me", headers=theirs)).status == 401  # sessions end
    assert (await _login(client, "forgot", PASSWORD)).status == 401
    login = await _login(client, "forgot", one_time)
    assert (await login.json())["must_change_password"] is True


async def test_an_administrator_unlocks_an_account_at_every_address(
    client: TestClient[Any, Any],
) -> None:
    admin = await _admin(client)
    staff = await create_staff(
        username="locked", password=PASSWORD, display_name="被锁", roles=["acceptor"]
    )
    for address in ("10.1.1.1", "10.2.2.2"):
        for i in range(5):
            await _login(client, "locked", f"wrong-{i}-guess", address)
        await _error(await _login(client, "locked", PASSWORD, address), 429, "account_locked")
    assert (await client.post(f"{STAFF}/{staff.id}/unlock", headers=admin)).status == 200
    for address in ("10.1.1.1", "10.2.2.2"):
        assert (await _login(client, "locked", PASSWORD, address)).status == 200, address
    assert await AuditEntry.filter(action="staff.unlock", target_id=str(staff.id)).count() == 1


async def test_an_edit_is_checked_like_a_creation_and_audited_field_by_field(
    client: TestClient[Any, Any],
) -> None:
    admin = await _admin(client)
    staff = await create_staff(
        username="zhao", password=PASSWORD, display_name="赵", roles=["dispatcher"]
    )
    path = f"{STAFF}/{staff.id}"
    resp = await client.patch(path, json={"roles": ["handler"]}, headers=admin)
    await _error(resp, 422, "department_required")
    hw = await Department.create(code="HW", name="环卫处", kind=DepartmentKind.DEPARTMENT)
    resp = await client.patch(
        path,
        json={"roles": ["handler"], "department_id": hw.id, "phone": "13900001111"},
        headers=admin,
    )
    assert resp.status == 200, await resp.text()
    shown = await resp.json()
    assert (shown["roles"], shown["department_id"]) == (["handler"], hw.id)
    entry = await AuditEntry.get(action="staff.update")
    assert entry.before == {"roles": ["dispatcher"], "department_id": None, "phone": None}
    assert entry.after == {"roles": ["handler"], "department_id": hw.id, "phone": "13900001111"}
    listed = await (await client.get(STAFF, headers=admin)).json()
    assert "13900001111" in json.dumps(listed)  # admins read staff numbers in full: on record
    [read] = await AuditEntry.filter(action="read.phone")
    assert (read.target, read.after) == ("staff", {"ids": [staff.id]})
    old = await Department.create(code="OLD", name="旧部门", kind=DepartmentKind.DEPARTMENT)
    await client.post(f"/api/v1/departments/{old.id}/retire", headers=admin)
    resp = await client.patch(path, json={"department_id": old.id}, headers=admin)
    assert "撤销" in (await _error(resp, 422, "validation_error"))["message"]


async def _grids() -> None:
    district = await Department.create(code="SN", name="市南区", kind=DepartmentKind.DISTRICT)
    street = await Department.create(
        code="SN01", name="八大关街道", kind=DepartmentKind.STREET, parent=district
    )
    for i, code in enumerate((GRID_A, GRID_B)):
        geometry = mapping(box(120.0 + i * 0.01, 36.0, 120.01 + i * 0.01, 36.01))
        await Grid.create(code=code, name=f"网格{i}", street=street, geometry=geometry)


async def test_an_inspectors_grids_are_set_with_one_primary_per_grid(
    client: TestClient[Any, Any],
) -> None:
    admin = await _admin(client)
    await _grids()
    one = await create_staff(
        username="xj1", password=PASSWORD, display_name="巡一", roles=["inspector"]
    )
    two = await create_staff(
        username="xj2", password=PASSWORD, display_name="巡二", roles=["inspector"]
    )
    body = {"grids": [GRID_A, GRID_B], "primary": [GRID_A]}
    resp = await client.put(f"{STAFF}/{one.id}/grids", json=body, headers=admin)
    assert resp.status == 200, await resp.text()
    assert (await resp.json())["grids"] == [
        {"code": GRID_A, "primary": True},
        {"code": GRID_B, "primary": False},
    ]
    # The second becomes 主责 of A: the first stays on A, no longer primary.
    resp = await client.put(
        f"{STAFF}/{two.id}/grids", json={"grids": [GRID_A], "primary": [GRID_A]}, headers=admin
    )
    listed = {
        s["username"]: s["grids"]
        for s in (await (await client.get(STAFF, headers=admin)).json())["items"]
    }
    assert listed["xj1"] == [{"code": GRID_A, "primary": False}, {"code": GRID_B, "primary": False}]
    assert listed["xj2"] == [{"code": GRID_A, "primary": True}]
    theirs = await _headers(client, "xj1", PASSWORD)
    me = await (await client.get("/api/v1/auth/me", headers=theirs)).json()
    assert len(me["grid_ids"]) == 2

    unknown = {"grids": ["370202999999999"]}
    resp = await client.put(f"{STAFF}/{one.id}/grids", json=unknown, headers=admin)
    assert "370202999999999" in (await _error(resp, 422, "validation_error"))["message"]
    boss = await (await client.get("/api/v1/auth/me", headers=admin)).json()
    resp = await client.put(f"{STAFF}/{boss['id']}/grids", json={"grids": [GRID_A]}, headers=admin)
    assert "监督员" in (await _error(resp, 422, "validation_error"))["message"]
    assert await AuditEntry.filter(action="staff.grids").count() == 3  # two sets, one steal


async def test_a_null_where_a_value_must_stay_is_refused(client: TestClient[Any, Any]) -> None:
    admin = await _admin(client)
    staff = await create_staff(
        username="zhou", password=PASSWORD, display_name="周", roles=["agent"]
    )
    bodies: list[dict[str, Any]] = [{"display_name": None}, {"roles": None}, {"roles": []}]
    for body in bodies:
        resp = await client.patch(f"{STAFF}/{staff.id}", json=body, headers=admin)
        err = await _error(resp, 422, "validation_error")
        assert err["fields"][0]["field"] == next(iter(body)), err
    dep = await Department.create(code="HW", name="环卫处", kind=DepartmentKind.DEPARTMENT)
    resp = await client.patch(f"/api/v1/departments/{dep.id}", json={"name": None}, headers=admin)
    assert (await _error(resp, 422, "validation_error"))["fields"][0]["field"] == "name"
    assert (await Department.get(id=dep.id)).name == "环卫处"
