"""Exporting a case list to CSV (UTF-8 with BOM, for Excel) and XLSX."""

from __future__ import annotations

import csv
import io
from typing import Final

from openpyxl import Workbook

from cases.const import Light
from cases.schemas import CaseOut

COLUMNS: Final = (
    ("number", "案件编号"),
    ("status_name", "状态"),
    ("source", "来源"),
    ("category_code", "类别编码"),
    ("category_name", "类别"),
    ("urgency", "立案等级"),
    ("description", "问题描述"),
    ("address", "地址"),
    ("department_id", "处置部门"),
    ("light", "亮灯"),
    ("overdue", "超期"),
    ("deadline_at", "当前时限"),
    ("created_at", "上报时间"),
    ("closed_at", "结案时间"),
)
LIGHTS: Final = {Light.GREEN: "绿", Light.YELLOW: "黄", Light.RED: "红", Light.NONE: ""}
# Cells starting with these are formulas to a spreadsheet: neutralise them (CSV injection).
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")


def _cell(row: CaseOut, name: str) -> str:
    value = getattr(row, name)
    if name == "light":
        return LIGHTS[value]
    if name == "overdue":
        return "是" if value else "否"
    if value is None:
        return ""
    text = value.isoformat(timespec="minutes") if hasattr(value, "isoformat") else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _rows(rows: list[CaseOut]) -> list[list[str]]:
    return [[_cell(r, name) for name, _ in COLUMNS] for r in rows]


def render(rows: list[CaseOut], fmt: str) -> tuple[bytes, str]:
    """Render rows as CSV or XLSX; return the bytes and the content type."""
    header = [title for _, title in COLUMNS]
    if fmt == "xlsx":
        book = Workbook()
        sheet = book.active
        sheet.title = "案件"
        sheet.append(header)
        for line in _rows(rows):
            sheet.append(line)
        out = io.BytesIO()
        book.save(out)
        return out.getvalue(), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(header)
    writer.writerows(_rows(rows))
    return ("\ufeff" + text.getvalue()).encode("utf-8"), "text/csv"
