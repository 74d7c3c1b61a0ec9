"""The organisation tree as an administrator keeps it (core/org/service.py), over HTTP."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from core.audit.models import AuditEntry
from core.auth.accounts import create_staff
from tests.core.test_accounts import PASSWORD, _admin, _error, _headers

DEPARTMENTS = "/api/v1/departments"


async def _add(client: TestClient[Any, Any], admin: dict[str, str], **body: Any) -> dict[str, Any]:
    resp = await client.post(DEPARTMENTS, json=body, headers=admin)
    assert resp.status == 201, await resp.text()
    made: dict[str, Any] = await resp.json()
    return made


async def test_an_administrator_builds_the_tree_level_by_level(
    client: TestClient[Any, Any],
) -> None:
    admin = await _admin(client)
    district = await _add(client, admin, code="370202", name="市南区", kind="district")
    await _add(
        client, admin, code="370202001", name="八大关街道", kind="street", parent_id=district["id"]
    )
    hw = await _add(
        client,
        admin,
        code="HW",
        name="环卫处",
        kind="department",
        contact_name="值班室",
        contact_phone="0532-88880000",
    )
    await _add(client, admin, code="HW01", name="清扫一队", kind="unit", parent_id=hw["id"])

    # A street under a 专业部门, a community at the top: refused, naming the field.
    for body in (
        {"code": "X1", "name": "错街道", "kind": "street", "parent_id": hw["id"]},
        {"code": "X2", "name": "错社区", "kind": "community"},
    ):
        err = await _error(
            await client.post(DEPARTMENTS, json=body, headers=admin), 422, "bad_parent"
        )
        assert err["fields"][0]["field"] == "parent_id"
    dup = {"code": "HW", "name": "又一个", "kind": "department"}
    await _error(await client.post(DEPARTMENTS, json=dup, headers=admin), 409, "code_taken")

    tree = await (await client.get(DEPARTMENTS, headers=admin)).json()
    roots = {n["code"]: n for n in tree["items"]}
    assert [c["code"] for c in roots["370202"]["children"]] == ["370202001"]
    assert roots["HW"]["contact_phone"] == "0532-88880000"
    assert [c["name"] for c in roots["HW"]["children"]] == ["清扫一队"]
    assert await AuditEntry.filter(action="department.create").count() == 4


async def test_a_move_keeps_the_tree_a_tree(client: TestClient[Any, Any]) -> None:
    admin = await _admin(client)
    hw = await _add(client, admin, code="HW", name="环卫处", kind="department")
    sub = await _add(
        client, admin, code="HW2", name="环卫二处", kind="department", parent_id=hw["id"]
    )
    resp = await client.patch(
        f"{DEPARTMENTS}/{hw['id']}", json={"parent_id": sub["id"]}, headers=admin
    )
    assert "下级" in (await _error(resp, 422, "bad_parent"))["message"]
    resp = await client.patch(
        f"{DEPARTMENTS}/{sub['id']}", json={"parent_id": None, "name": "市容处"}, headers=admin
    )
    assert resp.status == 200 and (await resp.json())["parent_id"] is None
    entry = await AuditEntry.get(action="department.move")
    assert entry.before == {"name": "环卫二处", "parent_id": hw["id"]}
    assert entry.after == {"name": "市容处", "parent_id": None}


async def test_a_retired_department_keeps_its_place_and_takes_nothing_new(
    client: TestClient[Any, Any],
) -> None:
    admin = await _admin(client)
    hw = await _add(client, admin, code="HW", name="环卫处", kind="department")
    unit = await _add(client, admin, code="HW01", name="清扫一队", kind="unit", parent_id=hw["id"])
    resp = await client.post(f"{DEPARTMENTS}/{hw['id']}/retire", headers=admin)
    await _error(resp, 409, "department_has_children")
    assert (await client.post(f"{DEPARTMENTS}/{unit['id']}/retire", headers=admin)).status == 200
    resp = await client.post(f"{DEPARTMENTS}/{hw['id']}/retire", headers=admin)
    assert resp.status == 200 and (await resp.json())["retired"] is True
    tree = await (await client.get(DEPARTMENTS, headers=admin)).json()
    assert tree["items"][0]["retired"] is True and tree["items"][0]["children"][0]["retired"]
    under = {"code": "HW02", "name": "清扫二队", "kind": "unit", "parent_id": hw["id"]}
    await _error(await client.post(DEPARTMENTS, json=under, headers=admin), 422, "bad_parent")
    body = {
        "username": "hw9",
        "display_name": "新人",
        "roles": ["handler"],
        "department_id": hw["id"],
    }
    resp = await client.post("/api/v1/staff", json=body, headers=admin)
    assert "撤销" in (await _error(resp, 422, "validation_error"))["message"]


async def test_only_an_administrator_changes_the_tree(client: TestClient[Any, Any]) -> None:
    await create_staff(
        username="disp", password=PASSWORD, display_name="派遣", roles=["dispatcher"]
    )
    theirs = await _headers(client, "disp", PASSWORD)
    body = {"code": "HW", "name": "环卫处", "kind": "department"}
    await _error(await client.post(DEPARTMENTS, json=body, headers=theirs), 403, "role_forbidden")
    assert await AuditEntry.all().count() == 0


async def test_an_unknown_parent_is_a_bad_field(client: TestClient[Any, Any]) -> None:
    admin = await _admin(client)
    body = {"code": "HW01", "name": "清扫一队", "kind": "unit", "parent_id": 2147483646}
    err = await _error(await client.post(DEPARTMENTS, json=body, headers=admin), 422, "bad_parent")
    assert err["fields"][0]["field"] == "parent_id"
    hw = await _add(client, admin, code="HW", name="环卫处", kind="department")
    resp = await client.patch(f"{DEPARTMENTS}/{hw['id']}", json={"parent_id": 999}, headers=admin)
    await _error(resp, 422, "bad_parent")
