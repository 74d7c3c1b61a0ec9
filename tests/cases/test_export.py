"""The case list exported (cases/export.py) as CSV and XLSX."""

from __future__ import annotations

import csv
import datetime as dt
import io

from openpyxl import load_workbook

from tests.cases.helpers import City, history
from tests.cases.helpers import four_cases as _four_cases


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
    b = by_number[cases["b"]["number"]]
    assert b[1:5] == ["处置中", "城管通", "E09009", "机动车乱停放"]
    assert b[8] == "区交警"  # the department's name, not its id
    # Times as a desk in the city reads them: Asia/Shanghai, the date the case number carries.
    created = dt.datetime.fromisoformat(cases["b"]["created_at"])
    assert created.utcoffset() == dt.timedelta(hours=8)
    assert b[13] == created.strftime("%Y-%m-%d %H:%M")
    assert b[13].replace("-", "")[:8] == b[0][:8]
    assert by_number[number][2] == "微信公众号"

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
        "上报次数",
        "当前时限",
        "上报时间",
        "结案时间",
    ]
    assert [row[0] for row in table[1:]] == sorted(
        c["number"] for k, c in cases.items() if k != "c"
    )
    assert {row[1] for row in table[1:]} == {"处置中"}
    first = table[1]
    assert isinstance(first[13], dt.datetime)  # a date Excel can sort and filter
    assert first[13].strftime("%Y%m%d") == first[0][:8]  # local: the number's date
    assert first[11] == 1  # a count is a number
    assert sheet.freeze_panes == "A2"  # the header stays in view
    assert sheet["N2"].number_format == "yyyy-mm-dd hh:mm"
    assert sheet.column_dimensions["A"].width >= 16  # a 16-digit case number fits
    # Chinese text is twice as wide as digits: the longest description fits its column.
    longest = max(len(str(row[6])) for row in table[1:])
    assert sheet.column_dimensions["G"].width >= 2 * longest

    r = await city.client.get("/api/v1/cases/export", headers=await city.login("handler_hw"))
    assert (r.status, (await r.json())["code"]) == (403, "role_forbidden")


async def test_every_export_is_on_record(city: City) -> None:
    """An export leaves the platform: the audit log says who took what, with the filters."""
    await _four_cases(city)
    dispatcher = await city.login("dispatcher")
    r = await city.client.get(
        "/api/v1/cases/export",
        params={"format": "xlsx", "status": "dispatched"},
        headers=dispatcher,
    )
    assert r.status == 200
    rows = load_workbook(io.BytesIO(await r.read())).active.max_row - 1  # the header aside
    me = await (await city.client.get("/api/v1/auth/me", headers=dispatcher)).json()
    admin = await city.login("admin")
    params = {"action": "cases.export"}
    log = await (await city.client.get("/api/v1/audit", params=params, headers=admin)).json()
    (entry,) = log["items"]
    assert (entry["actor_id"], entry["actor"]) == (me["id"], me["name"])
    assert entry["after"] == {"filters": {"format": "xlsx", "status": "dispatched"}, "rows": rows}


async def test_a_large_csv_streams_every_row(city: City) -> None:
    """A month of a large district is more than 10,000 rows: the CSV holds them all, read and
    written in batches, and the audit row counts what left."""
    history_ids = await history(12_345, text="历史")
    await _four_cases(city)
    dispatcher = await city.login("dispatcher")
    r = await city.client.get("/api/v1/cases/export", headers=dispatcher)
    assert (r.status, r.content_type, r.headers.get("Content-Length")) == (200, "text/csv", None)
    rows = list(csv.reader(io.StringIO((await r.read()).decode("utf-8-sig"))))
    assert len(rows) == 1 + 12_345 + 4
    described = [row[6] for row in rows[1:]]
    assert described[-1] == "历史0" and described[-12_345] == "历史12344"  # newest first
    assert len(history_ids) == 12_345
    admin = await city.login("admin")
    params = {"action": "cases.export"}
    log = await (await city.client.get("/api/v1/audit", params=params, headers=admin)).json()
    assert log["items"][0]["after"] == {"filters": {}, "rows": 12_349}
    # page_size still asks for at most so many rows.
    r = await city.client.get("/api/v1/cases/export", params={"page_size": 7}, headers=dispatcher)
    assert len((await r.read()).decode("utf-8-sig").splitlines()) == 1 + 7


async def test_an_xlsx_past_its_limit_is_refused_not_cut(city: City) -> None:
    await history(50_001)
    dispatcher = await city.login("dispatcher")
    r = await city.client.get("/api/v1/cases/export", params={"format": "xlsx"}, headers=dispatcher)
    err = await r.json()
    assert (r.status, err["code"]) == (422, "export_too_large")
    assert "CSV" in err["message"]
    # Asked for fewer rows, it is built.
    params: dict[str, str | int] = {"format": "xlsx", "page_size": 3}
    r = await city.client.get("/api/v1/cases/export", params=params, headers=dispatcher)
    assert r.status == 200
    assert load_workbook(io.BytesIO(await r.read())).active.max_row == 1 + 3
