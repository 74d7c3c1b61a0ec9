"""The case list exported (cases/export.py) as CSV and XLSX."""

from __future__ import annotations

import csv
import io

from openpyxl import load_workbook

from tests.cases.helpers import City
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
