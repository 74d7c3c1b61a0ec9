"""Exporting a case list to CSV (UTF-8 with BOM, for Excel) and XLSX, as people read it.

Times are Asia/Shanghai wall-clock times, sources and departments their Chinese names; in XLSX
times are Excel dates and counts numbers, under a frozen header, in columns wide enough for
Chinese text.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import unicodedata
from collections.abc import Mapping
from typing import Final

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from cases.const import SOURCE_NAMES, Light, Source
from cases.schemas import CaseOut
from core.timeutil import to_local

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
    ("report_count", "上报次数"),
    ("deadline_at", "当前时限"),
    ("created_at", "上报时间"),
    ("closed_at", "结案时间"),
)
LIGHTS: Final = {Light.GREEN: "绿", Light.YELLOW: "黄", Light.RED: "红", Light.NONE: ""}
TIME_FORMAT: Final = "%Y-%m-%d %H:%M"  # local (Asia/Shanghai), as a desk reads it
EXCEL_TIME: Final = "yyyy-mm-dd hh:mm"
MAX_WIDTH: Final = 60  # characters of the widest column (long descriptions wrap there)
# Cells starting with these are formulas to a spreadsheet: neutralise them (CSV injection).
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")

Cell = str | int | dt.datetime


def _value(row: CaseOut, name: str, departments: Mapping[int, str]) -> Cell:
    """One cell as a person reads it: local times, Chinese names, numbers as numbers."""
    value = getattr(row, name)
    if name == "light":
        return LIGHTS[value]
    if name == "overdue":
        return "是" if value else "否"
    if name == "source":
        return SOURCE_NAMES.get(Source(value), str(value))
    if name == "department_id":
        return departments.get(value, "") if value is not None else ""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return to_local(value).replace(tzinfo=None)  # Excel has no time zones
    if isinstance(value, int):
        return value
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _text(cell: Cell) -> str:
    return cell.strftime(TIME_FORMAT) if isinstance(cell, dt.datetime) else str(cell)


def _rows(rows: list[CaseOut], departments: Mapping[int, str]) -> list[list[Cell]]:
    return [[_value(r, name, departments) for name, _ in COLUMNS] for r in rows]


def _width(text: str) -> int:
    # A CJK character takes two columns of a Latin one.
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def render(
    rows: list[CaseOut], fmt: str, *, departments: Mapping[int, str] | None = None
) -> tuple[bytes, str]:
    """Render rows as CSV or XLSX; return the bytes and the content type.

    `departments` maps department ids to their names (the 处置部门 column).
    """
    header = [title for _, title in COLUMNS]
    table = _rows(rows, departments or {})
    if fmt == "xlsx":
        return _xlsx(header, table), (
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(header)
    writer.writerows([[_text(c) for c in line] for line in table])
    return ("\ufeff" + text.getvalue()).encode("utf-8"), "text/csv"


def _xlsx(header: list[str], table: list[list[Cell]]) -> bytes:
    book = Workbook()
    sheet = book.active  # a new workbook has one sheet
    sheet.title = "案件"
    sheet.append(header)
    for line in table:
        sheet.append(line)
    sheet.freeze_panes = "A2"
    for index, title in enumerate(header, start=1):
        column = [title, *(_text(line[index - 1]) for line in table)]
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = min(MAX_WIDTH, max(map(_width, column)) + 2)
        if any(isinstance(line[index - 1], dt.datetime) for line in table):
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = EXCEL_TIME
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
