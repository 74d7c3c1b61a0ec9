"""The live category rules (cases/rules): edited through the API, audited, applied by the
next report, seen by another process within the cache time, exported back as a profile."""

from __future__ import annotations

import tomllib
from typing import Any

from cases.deps import deps_of
from cases.models import CategoryRule
from cases.policy import CasePolicy, CategoryPolicy
from cases.rules.service import RulesCache
from core.audit.models import AuditEntry
from tests.cases.helpers import City

RULES = "/api/v1/category-rules"
GARBAGE = "E06010"  # 暴露垃圾: HW, auto 立案/派遣 for grid_app in the demo defaults


async def _rules(city: City, code: str) -> dict[str, Any]:
    status, listed = await city.get(RULES, "shift_lead")
    assert status == 200, listed
    (item,) = [i for i in listed["items"] if i["code"] == code]
    return dict(item["rules"])


async def test_the_profile_seeds_the_table_once(city: City) -> None:
    seeded = [str(c) for c in await CategoryRule.all().values_list("code", flat=True)]
    assert GARBAGE in seeded  # the app's start filled the empty table from the profile
    assert (await _rules(city, GARBAGE))["department"] == "HW"


async def test_a_rule_changed_through_the_api_dispatches_the_next_report(city: City) -> None:
    before = await _rules(city, GARBAGE)
    changed = before | {"department": "SZ", "limits": {"B": [4, "work_hour"]}}
    lead = await city.login("shift_lead")
    r = await city.client.put(f"{RULES}/{GARBAGE}", json=changed, headers=lead)
    assert r.status == 200, await r.text()
    shown = (await r.json())["rules"]
    assert shown["department"] == "SZ" and shown["limits"] == {
        "B": {"amount": 4.0, "unit": "work_hour"}
    }
    assert shown["reviewed"] is True

    case = await city.dispatched(1, "路边有暴露垃圾")
    assert case["department_id"] == await city.department("SZ")
    entry = await AuditEntry.get(action="category_rule.update", target_id=GARBAGE)
    assert entry.before and entry.after
    assert (entry.before["department"], entry.after["department"]) == ("HW", "SZ")
    assert set(entry.after) == {"department", "limits", "reviewed"}  # the changed fields only
    # What each department owns follows: 暴露垃圾 is 市政's now, no longer 环卫's.
    _, owned = await city.get(RULES, "shift_lead", department="SZ")
    assert GARBAGE in [i["code"] for i in owned["items"]]
    assert {i["rules"]["department"] for i in owned["items"]} == {"SZ"}
    _, owned = await city.get(RULES, "shift_lead", department="HW")
    assert owned["items"] and GARBAGE not in [i["code"] for i in owned["items"]]


async def test_bad_rules_are_refused_and_change_nothing(city: City) -> None:
    lead = await city.login("shift_lead")
    good = await _rules(city, GARBAGE)
    tries = [
        (f"{RULES}/X99999", good, 404, "not_found"),
        (f"{RULES}/{GARBAGE}", good | {"department": "NOPE"}, 422, "validation_error"),
        (f"{RULES}/{GARBAGE}", good | {"limits": {"B": [2, "fortnight"]}}, 422, "validation_error"),
        (f"{RULES}/{GARBAGE}", good | {"auto_dispatch": ["pigeon"]}, 422, "validation_error"),
        (f"{RULES}/{GARBAGE}", good | {"colour": "red"}, 422, "validation_error"),
    ]
    for path, body, status, code in tries:
        r = await city.client.put(path, json=body, headers=lead)
        assert (r.status, (await r.json())["code"]) == (status, code), body
    r = await city.client.put(
        f"{RULES}/{GARBAGE}", json=good, headers=await city.login("dispatcher")
    )
    assert r.status == 403
    assert await _rules(city, GARBAGE) == good
    assert not await AuditEntry.filter(action="category_rule.update").exists()


async def test_another_process_sees_the_change_within_the_cache_time(city: City) -> None:
    # What another process holds: its own policy from the same profile, and its own cache.
    deps = deps_of(city.client.app)
    other = CasePolicy(deps.policy.catalog, dict(deps.policy.categories), deps.policy.workflow)
    cache = RulesCache()
    await cache.fresh(other)
    lead = await city.login("shift_lead")
    body = await _rules(city, GARBAGE) | {"department": "YL"}
    assert (await city.client.put(f"{RULES}/{GARBAGE}", json=body, headers=lead)).status == 200
    await cache.fresh(other)
    assert other.for_category(GARBAGE).department == "HW"  # within its cache time: not yet
    cache.TTL_S = 0.0  # the cache time passed
    await cache.fresh(other)
    assert other.for_category(GARBAGE).department == "YL"


async def test_an_export_loads_back_as_the_same_rules(city: City) -> None:
    lead = await city.login("shift_lead")
    body = await _rules(city, GARBAGE) | {
        "keywords": ["垃圾", "垃圾桶满了"],
        "duplicate_radius_m": 50,
    }
    assert (await city.client.put(f"{RULES}/{GARBAGE}", json=body, headers=lead)).status == 200
    r = await city.client.get(f"{RULES}/export", headers=lead)
    assert r.status == 200 and r.content_type == "text/plain"
    text = await r.text()
    exported = tomllib.loads(text)["categories"]
    _, listed = await city.get(RULES, "shift_lead")
    live = {i["code"]: CategoryPolicy.model_validate(i["rules"]) for i in listed["items"]}
    assert {k: CategoryPolicy.model_validate(v) for k, v in exported.items()} == live
    # Putting the exported rules back changes nothing, and says so in the log (no row).
    rows = await AuditEntry.filter(action="category_rule.update").count()
    r = await city.client.put(f"{RULES}/{GARBAGE}", json=exported[GARBAGE], headers=lead)
    assert r.status == 200
    assert await AuditEntry.filter(action="category_rule.update").count() == rows
