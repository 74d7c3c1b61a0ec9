"""Who may do what, refusals with stable codes, races, duplicates, dispatch rules, lists, export."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
from typing import Any

from openpyxl import load_workbook

from cases.models import Case, CaseEvent, Report
from core.auth.service import create_staff
from core.jobs.models import OutboxItem
from core.org.service import assign_inspector
from tests.cases.helpers import City, actions, codes, grid_code


async def _staff(city: City, username: str, roles: list[str], department: str | None) -> None:
    """Add an account with several roles, and let `city.login` use it."""
    password = "Pa55word-" + username
    dep = await city.department(department) if department else None
    await create_staff(
        username=username, password=password, display_name=username, roles=roles, department_id=dep
    )
    city.passwords[username] = password


async def _registered(city: City, street: int = 2, text: str = "路边有垃圾") -> int:
    status, out = await city.report(await city.citizen(), await city.point(street), text)
    assert status == 201, out
    cid = int(out["case"]["id"])
    await city.ok(cid, "register", "acceptor", urgency="B")
    return cid


async def test_a_role_without_the_action_is_refused(city: City) -> None:
    case = await city.dispatched(1, "路口有垃圾")
    cid = case["id"]
    refused = [
        await city.act(cid, "dispatch", "acceptor"),
        await city.act(cid, "close", "handler_hw", note="已处理"),
        await city.act(cid, "register", await city.citizen()),
        await city.act(cid, "urge", "inspector1", note="快"),
    ]
    assert codes(refused) == [(403, "role_forbidden")] * 4
    assert all("角色无权" in body["message"] for _, body in refused)
    assert await actions(cid) == ["report", "register", "dispatch"]


async def test_another_department_cannot_touch_a_case(city: City) -> None:
    case = await city.dispatched(2, "人行道有垃圾")
    cid = case["id"]
    # A handler sees only their department's cases (service.visible): to the 园林 handler this
    # 环卫 case does not exist, so every action answers 404 rather than telling ids apart.
    for path, body in (
        ("receive", {}),
        ("handle", {"attachments": [1]}),
        ("return", {"note": "不归我们管"}),
    ):
        status, err = await city.act(cid, path, "handler_yl", **body)
        assert (status, err["code"]) == (404, "not_found"), path
    assert (await city.get(f"/api/v1/cases/{cid}", "handler_yl"))[0] == 404

    # A 园林 handler who is also the grid's inspector does see it, and is told it is not theirs.
    await _staff(city, "yl_inspector", ["handler", "inspector"], "YL")
    await assign_inspector(
        staff_id=await city.staff_id("yl_inspector"),
        grid_codes=[grid_code(city.settings, 2)],
    )
    photo = await city.photo(await city.login("yl_inspector"))
    for path, body in (
        ("receive", {}),
        ("handle", {"attachments": [photo]}),
        ("return", {"note": "不归我们管"}),
    ):
        status, err = await city.act(cid, path, "yl_inspector", **body)
        assert (status, err["code"], err["message"]) == (
            403,
            "not_your_department",
            "该案件不属于您的部门",
        ), path
    assert await actions(cid) == ["report", "register", "dispatch"]

    await city.ok(cid, "receive", "handler_hw")
    assert (await actions(cid))[-1] == "receive"


async def test_only_the_grids_inspector_reports_back(city: City) -> None:
    status, out = await city.report(await city.citizen(), await city.point(2), "楼下有垃圾")
    cid = out["case"]["id"]
    # Inspectors see the cases of their own grids only: to inspector1 this one is not there.
    status, err = await city.act(cid, "verify-result", "inspector1", passed=True)
    assert (status, err["code"]) == (404, "not_found")

    await city.ok(cid, "verify-result", "inspector2", passed=True, note="属实")
    await city.ok(cid, "register", "acceptor")
    await city.ok(cid, "dispatch", "dispatcher")
    photo = await city.photo(await city.login("handler_hw"))
    await city.ok(cid, "handle", "handler_hw", attachments=[photo])
    # Someone who sees the case through their department, with the inspector role for other
    # grids, may not answer this grid's 核查.
    await _staff(city, "hw_inspector", ["handler", "inspector"], "HW")
    await assign_inspector(
        staff_id=await city.staff_id("hw_inspector"), grid_codes=[grid_code(city.settings, 1)]
    )
    status, err = await city.act(cid, "check-result", "hw_inspector", passed=True)
    assert (status, err["code"]) == (403, "not_your_task")
    assert (await city.detail(cid))["status"] == "handled"
    await city.ok(cid, "check-result", "inspector2", passed=True)


async def test_an_action_from_the_wrong_status_names_the_status(city: City) -> None:
    case = await city.dispatched(3, "垃圾")
    status, err = await city.act(case["id"], "close", "acceptor")
    assert (status, err["code"]) == (409, "invalid_transition")
    assert err["message"] == "案件当前状态为“处置中”，不能结案"
    assert (err["status"], err["action"]) == ("dispatched", "close")
    status, err = await city.act(case["id"], "resume", "shift_lead")
    assert err["message"] == "案件当前状态为“处置中”，不能恢复处置"


async def test_an_action_on_a_stale_version_is_refused(city: City) -> None:
    cid = await _registered(city)
    seen = (await city.detail(cid))["version"]
    await city.ok(cid, "urge", "shift_lead", note="请尽快派遣")
    status, err = await city.act(cid, "dispatch", "dispatcher", version=seen)
    assert (status, err["code"]) == (409, "case_changed")
    assert (await city.detail(cid))["status"] == "registered"
    fresh = (await city.detail(cid))["version"]
    assert fresh == seen + 1
    out = await city.ok(cid, "dispatch", "dispatcher", version=fresh)
    assert (out["status"], out["version"]) == ("dispatched", fresh + 1)


async def test_two_dispatchers_at_once_dispatch_once(city: City) -> None:
    cid = await _registered(city)
    sz, yl = await city.department("SZ"), await city.department("YL")
    answers = await asyncio.gather(
        city.act(cid, "dispatch", "dispatcher", department_id=sz),
        city.act(cid, "dispatch", "shift_lead", department_id=yl),
    )
    (ok, _), (refused, err) = codes(answers)
    assert (ok, refused) == (200, 409)
    assert err in {"invalid_transition", "case_changed"}
    winner = next(body for status, body in answers if status == 200)
    assert (await actions(cid)).count("dispatch") == 1
    assert (await city.detail(cid))["department_id"] == winner["department_id"]


async def test_a_retried_report_returns_the_same_case(city: City) -> None:
    citizen = await city.citizen()
    where = await city.point(1)
    first = await city.report(citizen, where, "垃圾堆在路边", key="wx-1")
    again = await city.report(citizen, where, "垃圾堆在路边", key="wx-1")
    assert (first[0], first[1]["created"]) == (201, True)
    assert (again[0], again[1]["created"], again[1]["merged"]) == (200, False, False)
    assert again[1]["case"]["id"] == first[1]["case"]["id"]
    assert again[1]["report_id"] == first[1]["report_id"]
    assert (await Case.all().count(), await Report.all().count()) == (1, 1)


async def test_two_identical_submissions_at_once_make_one_case(city: City) -> None:
    citizen = await city.citizen()
    where = await city.point(3)
    answers = await asyncio.gather(
        city.report(citizen, where, "路边垃圾", key="wx-2"),
        city.report(citizen, where, "路边垃圾", key="wx-2"),
    )
    assert sorted(s for s, _ in answers) == [200, 201]
    assert len({b["case"]["id"] for _, b in answers}) == 1
    assert (await Case.all().count(), await Report.all().count()) == (1, 1)
    assert await actions(answers[0][1]["case"]["id"]) == ["report", "verify"]


async def test_a_second_report_nearby_joins_the_open_case(city: City) -> None:
    first, second = await city.citizen("first"), await city.citizen("second")
    status, out = await city.report(first, await city.point(2), "小区门口一堆垃圾")
    cid = out["case"]["id"]
    # 10 m away, same category, the same day: the same problem.
    status, out = await city.report(second, await city.point(2, east_m=10), "门口垃圾好多天了")
    assert status == 201
    assert (out["merged"], out["case"]["id"], out["case"]["report_count"]) == (True, cid, 2)
    assert await actions(cid) == ["report", "verify", "duplicate"]
    duplicate = await CaseEvent.get(case_id=cid, action="duplicate")
    assert (duplicate.actor_kind, duplicate.to_status) == ("citizen", "verifying")
    # 100 m away is another problem (the category's radius is 30 m).
    _, far = await city.report(second, await city.point(2, east_m=100), "这边也有垃圾")
    assert (far["merged"], far["case"]["id"] != cid) == (False, True)

    _, theirs = await city.get("/api/v1/cases", second)
    assert sorted(c["id"] for c in theirs["items"]) == sorted([cid, far["case"]["id"]])
    seen = await city.detail(cid, second)
    assert [(r["duplicate"], r["description"]) for r in seen["reports"]] == [
        (True, "门口垃圾好多天了")
    ]

    await city.ok(cid, "register", "acceptor")
    told = [
        r.payload["citizen_id"]
        for r in await OutboxItem.filter(kind="notify.web").order_by("id")
        if r.payload["case_id"] == cid and r.payload["action"] == "register"
    ]
    assert sorted(told) == sorted([await city.citizen_id("first"), await city.citizen_id("second")])


async def test_reports_that_cannot_become_cases_are_refused(city: City) -> None:
    citizen = await city.citizen()
    lon, lat = city.settings.profile.center
    outside = await city.report(citizen, {"lon": lon + 1, "lat": lat}, "路边有垃圾")
    empty = await city.report(citizen, await city.point(1), "   ")
    unknown = await city.report(citizen, await city.point(1), "有垃圾", category_code="E99999")
    nowhere = await city.report(citizen, None, "有垃圾")
    assert [(s, b["code"]) for s, b in (outside, empty, unknown, nowhere)] == [
        (422, "location_outside_city"),
        (422, "empty_report"),
        (422, "unknown_category"),
        (422, "location_missing"),
    ]
    assert outside[1]["message"] == "该位置不在本市管辖的网格内"
    assert await Case.all().count() == 0


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


async def _four_cases(city: City) -> dict[str, dict[str, Any]]:
    a = await city.dispatched(1, "东门口垃圾")
    b = await city.dispatched(2, "消防通道违停")
    _, c = await city.report(await city.citizen(), await city.point(3), "小区里有垃圾")
    d = await city.dispatched(1, "北门口垃圾桶满溢", number=2)
    return {"a": a, "b": b, "c": c["case"], "d": d}


async def test_the_case_list_filters_sorts_and_pages(city: City) -> None:
    cases = await _four_cases(city)
    ids = {k: v["id"] for k, v in cases.items()}
    hw = await city.department("HW")

    async def listed(**params: Any) -> list[int]:
        status, page = await city.get("/api/v1/cases", "acceptor", **params)
        assert status == 200, page
        return [c["id"] for c in page["items"]]

    assert sorted(await listed(status="dispatched")) == sorted([ids["a"], ids["b"], ids["d"]])
    assert sorted(await listed(status="verifying,dispatched")) == sorted(ids.values())
    assert await listed(category="E09009") == [ids["b"]]
    assert sorted(await listed(department_id=hw)) == sorted([ids["a"], ids["d"]])
    assert await listed(q="北门口") == [ids["d"]]
    assert await listed(q=cases["b"]["number"]) == [ids["b"]]
    status, err = await city.get("/api/v1/cases", "acceptor", status="open")
    assert (status, err["code"]) == (422, "validation_error")

    await Case.filter(id=ids["a"]).update(
        deadline_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    )
    assert await listed(overdue="true") == [ids["a"]]
    assert sorted(await listed(overdue="false")) == sorted([ids["b"], ids["c"], ids["d"]])

    by_number = sorted(ids.values())  # numbers are the date, then the row id
    assert await listed(sort="number") == by_number
    assert await listed(sort="-number") == by_number[::-1]
    pages = []
    for page in (1, 2, 3):
        status, out = await city.get(
            "/api/v1/cases", "acceptor", sort="number", page=page, page_size=3
        )
        pages.append(([c["id"] for c in out["items"]], out["total"], out["page"]))
    assert pages == [(by_number[:3], 4, 1), (by_number[3:], 4, 2), ([], 4, 3)]

    # A handler's list holds their department's cases only.
    _, mine = await city.get("/api/v1/cases", "handler_hw")
    assert (sorted(c["id"] for c in mine["items"]), mine["total"]) == (
        sorted([ids["a"], ids["d"]]),
        2,
    )


async def test_export_as_csv_and_xlsx(city: City) -> None:
    cases = await _four_cases(city)
    _, injected = await city.report(
        await city.citizen("x"), await city.point(4), '=HYPERLINK("http://x")路边垃圾'
    )
    number = injected["case"]["number"]
    acceptor = await city.login("acceptor")

    r = await city.client.get("/api/v1/cases/export", params={"sort": "number"}, headers=acceptor)
    assert (r.status, r.content_type) == (200, "text/csv")
    raw = await r.read()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:4] == ["案件编号", "状态", "来源", "类别编码"]
    assert rows[0][6] == "问题描述"
    numbers = sorted([c["number"] for c in cases.values()] + [number])
    assert [row[0] for row in rows[1:]] == numbers
    by_number = {row[0]: row for row in rows[1:]}
    assert by_number[number][6] == '\'=HYPERLINK("http://x")路边垃圾'
    assert by_number[cases["b"]["number"]][1:5] == ["处置中", "grid_app", "E09009", "机动车乱停放"]

    r = await city.client.get(
        "/api/v1/cases/export",
        params={"format": "xlsx", "status": "dispatched", "sort": "number"},
        headers=acceptor,
    )
    assert r.status == 200
    assert r.headers["Content-Disposition"] == 'attachment; filename="cases.xlsx"'
    sheet = load_workbook(io.BytesIO(await r.read())).active
    assert sheet is not None
    table = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert table[0] == [
        "案件编号",
        "状态",
        "来源",
        "类别编码",
        "类别",
        "立案等级",
        "问题描述",
        "地址",
        "处置部门",
        "亮灯",
        "超期",
        "当前时限",
        "上报时间",
        "结案时间",
    ]
    assert [row[0] for row in table[1:]] == sorted(
        c["number"] for k, c in cases.items() if k != "c"
    )
    assert {row[1] for row in table[1:]} == {"处置中"}

    r = await city.client.get("/api/v1/cases/export", headers=await city.login("handler_hw"))
    assert (r.status, (await r.json())["code"]) == (403, "role_forbidden")


async def test_a_handlers_inbox_holds_their_departments_open_cases(city: City) -> None:
    cases = await _four_cases(city)
    done = cases["d"]["id"]
    photo = await city.photo(await city.login("handler_hw"))
    await city.ok(done, "handle", "handler_hw", attachments=[photo])
    _, hw = await city.get("/api/v1/inbox", "handler_hw")
    assert [c["id"] for c in hw["items"]] == [cases["a"]["id"]]
    _, jj = await city.get("/api/v1/inbox", "handler_jj")
    assert [c["id"] for c in jj["items"]] == [cases["b"]["id"]]
    _, yl = await city.get("/api/v1/inbox", "handler_yl")
    assert yl["items"] == []
    status, err = await city.get("/api/v1/inbox", "dispatcher")
    assert (status, err["code"]) == (403, "role_forbidden")


async def test_an_inspector_lists_the_tasks_of_their_grids(city: City) -> None:
    citizen = await city.citizen()
    _, one = await city.report(citizen, await city.point(1), "路边垃圾")
    _, two = await city.report(citizen, await city.point(2, 2, 3), "路边垃圾")
    _, also_two = await city.report(citizen, await city.point(2, 1, 1), "路面脏")

    async def tasks(who: str) -> list[tuple[int, str]]:
        status, out = await city.get("/api/v1/tasks", who)
        assert status == 200, out
        return sorted((t["case_id"], t["kind"]) for t in out["items"])

    assert await tasks("inspector1") == [(one["case"]["id"], "verify")]
    assert await tasks("inspector2") == sorted(
        [(two["case"]["id"], "verify"), (also_two["case"]["id"], "verify")]
    )
    assert await tasks("inspector3") == []
    assert len(await tasks("acceptor")) == 3
    status, err = await city.get("/api/v1/tasks", "handler_hw")
    assert (status, err["code"]) == (403, "role_forbidden")


async def test_a_reused_key_from_someone_else_does_not_reveal_their_case(city: City) -> None:
    where = await city.point(1)
    status, _ = await city.report(await city.citizen("a"), where, "我家门口有垃圾", key="k1")
    assert status == 201
    status, other = await city.report(await city.citizen("b"), where, "随便写写", key="k1")
    assert status == 409, other
    assert "case" not in other
