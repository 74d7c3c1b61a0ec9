"""Dispatch rules (cases/dispatch.py): category × grid or street → department."""

from __future__ import annotations

from tests.cases.helpers import City
from tests.cases.helpers import error_fields as _fields
from tests.cases.helpers import registered_case as _registered


async def test_dispatch_rules_choose_the_department_by_place(city: City) -> None:
    hw, sz, yl = [await city.department(c) for c in ("HW", "SZ", "YL")]
    lead = await city.login("shift_lead")
    grid = await city.grid(1, number=2)
    rule = {"category_code": "E06010", "department_id": sz, "grid_id": grid.id}
    r = await city.client.post("/api/v1/dispatch-rules", json=rule, headers=lead)
    assert r.status == 201, await r.text()
    r = await city.client.post("/api/v1/dispatch-rules", json=rule, headers=lead)
    assert (r.status, (await r.json())["code"]) == (409, "rule_exists")
    r = await city.client.post(
        "/api/v1/dispatch-rules", json=rule, headers=await city.login("dispatcher")
    )
    assert (r.status, (await r.json())["code"]) == (403, "role_forbidden")

    # A street-wide rule for street 3, and a grid rule inside it that wins for its grid.
    street3 = (await city.grid(3)).street_id
    for body in (
        {"category_code": "E06010", "department_id": yl, "area_id": street3},
        {"category_code": "E06010", "department_id": sz, "grid_id": (await city.grid(3, 2, 4)).id},
    ):
        r = await city.client.post("/api/v1/dispatch-rules", json=body, headers=lead)
        assert r.status == 201, await r.text()

    assert (await city.dispatched(1, "垃圾", number=2))["department_id"] == sz
    assert (await city.dispatched(1, "垃圾", number=3))["department_id"] == hw
    assert (await city.dispatched(3, "垃圾", number=1))["department_id"] == yl
    assert (await city.dispatched(3, "垃圾", number=3))["department_id"] == yl
    _, out = await city.report(await city.login("inspector3"), await city.point(3, 2, 4), "垃圾")
    assert out["case"]["department_id"] == sz
    assert (await city.dispatched(4, "垃圾"))["department_id"] == hw
    _, rules = await city.get("/api/v1/dispatch-rules", "dispatcher")
    assert len(rules["items"]) == 3

    # A street is a place, not a department that handles cases; a rule names one place only.
    both = {"category_code": "E06012", "department_id": hw, "grid_id": grid.id, "area_id": street3}
    r = await city.client.post("/api/v1/dispatch-rules", json=both, headers=lead)
    assert (r.status, (await r.json())["code"]) == (422, "validation_error")
    cid = await _registered(city, street=4, text="路面脏了")
    status, err = await city.act(cid, "dispatch", "dispatcher", department_id=street3)
    assert (status, err["code"], err["message"]) == (422, "validation_error", "处置部门不存在")


async def test_a_dispatch_rule_needs_a_real_grid_or_an_area(city: City) -> None:
    shift_lead = await city.login("shift_lead")
    hw = await city.department("HW")
    rule = {"category_code": "E06010", "department_id": hw}
    r = await city.client.post(
        "/api/v1/dispatch-rules", json={**rule, "grid_id": 999_999}, headers=shift_lead
    )
    assert r.status == 422, await r.text()
    assert "grid_id" in _fields(await r.json())
    r = await city.client.post("/api/v1/dispatch-rules", json=rule, headers=shift_lead)
    assert r.status == 422, await r.text()
    _, rules = await city.get("/api/v1/dispatch-rules", "shift_lead")
    assert rules["items"] == []


async def test_a_retired_department_gets_no_new_case(city: City) -> None:
    """Retiring keeps the department's history; a rule or the profile that still names it
    no longer sends it anything, and a dispatcher who picks it is told why."""
    hw, sz = await city.department("HW"), await city.department("SZ")
    lead = await city.login("shift_lead")
    grid = await city.grid(1, number=2)
    rule = {"category_code": "E06010", "department_id": sz, "grid_id": grid.id}
    assert (await city.client.post("/api/v1/dispatch-rules", json=rule, headers=lead)).status == 201
    earlier = await city.dispatched(1, "垃圾", number=2)
    assert earlier["department_id"] == sz

    admin = await city.login("admin")
    for dep in (sz, hw):
        r = await city.client.post(f"/api/v1/departments/{dep}/retire", headers=admin)
        assert r.status == 200, await r.text()

    # The rule's SZ and the profile's HW are both retired: the case waits for a person.
    status, out = await city.report(await city.login("inspector1"), await city.point(1, 2), "垃圾")
    assert status == 201 and out["case"]["status"] != "dispatched", out
    cid = out["case"]["id"]
    status, err = await city.act(cid, "dispatch", "dispatcher", department_id=sz)
    assert (status, err["code"]) == (422, "department_retired"), err
    assert "撤销" in err["message"]
    _, detail = await city.get(f"/api/v1/cases/{earlier['id']}", "dispatcher")
    assert detail["department_id"] == sz  # history stays


async def test_a_rule_naming_a_retired_department_falls_back_to_the_categorys(city: City) -> None:
    """Intake reads both departments' state with its other questions (cases/dedupe.py): the
    rule's SZ, retired, is passed over for the profile's HW at once."""
    hw, sz = await city.department("HW"), await city.department("SZ")
    lead, admin = await city.login("shift_lead"), await city.login("admin")
    grid = await city.grid(1, number=2)
    rule = {"category_code": "E06010", "department_id": sz, "grid_id": grid.id}
    assert (await city.client.post("/api/v1/dispatch-rules", json=rule, headers=lead)).status == 201
    r = await city.client.post(f"/api/v1/departments/{sz}/retire", headers=admin)
    assert r.status == 200, await r.text()
    case = await city.dispatched(1, "垃圾", number=2)
    assert case["department_id"] == hw
