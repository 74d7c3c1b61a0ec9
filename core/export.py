"""Tables as people open them: CSV (UTF-8 with BOM, for Excel) and XLSX.

In XLSX, times are Excel dates and counts numbers, under a frozen header, in columns wide
enough for Chinese text; text that a spreadsheet would run as a formula is neutralised.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import unicodedata
from collections.abc import Sequence
from typing import Final, TypeAlias

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from core.timeutil import to_local

TIME_FORMAT: Final = "%Y-%m-%d %H:%M"  # local (Asia/Shanghai), as a desk reads it
EXCEL_TIME: Final = "yyyy-mm-dd hh:mm"
MAX_WIDTH: Final = 60  # characters of the widest column (long descriptions wrap there)
# Cells starting with these are formulas to a spreadsheet: neutralise them (CSV injection).
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")
XLSX_TYPE: Final = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MEDIA_TYPES: Final = ("text/csv", XLSX_TYPE)  # what render() answers

Cell: TypeAlias = str | int | float | dt.datetime


def cell(value: object) -> Cell:
    """A value as a cell: local times, numbers as numbers, formulas neutralised."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return to_local(value).replace(tzinfo=None)  # Excel has no time zones
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, int | float):
        return value
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _text(value: Cell) -> str:
    return value.strftime(TIME_FORMAT) if isinstance(value, dt.datetime) else str(value)


def _width(text: str) -> int:
    # A CJK character takes two columns of a Latin one.
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def render(
    header: Sequence[str], table: Sequence[Sequence[Cell]], fmt: str, *, sheet: str
) -> tuple[bytes, str]:
    """Render a table as CSV or XLSX; return the bytes and the content type."""
    if fmt == "xlsx":
        return _xlsx(header, table, sheet), XLSX_TYPE
    return csv_chunk(table, header=header), "text/csv"


def csv_chunk(table: Sequence[Sequence[Cell]], *, header: Sequence[str] | None = None) -> bytes:
    """CSV lines of a table, for a file written piece by piece; the first piece carries the
    header and the byte-order mark that makes Excel read UTF-8."""
    text = io.StringIO()
    writer = csv.writer(text)
    if header is not None:
        text.write("\ufeff")
        writer.writerow(header)
    writer.writerows([[_text(c) for c in line] for line in table])
    return text.getvalue().encode("utf-8")


def _xlsx(header: Sequence[str], table: Sequence[Sequence[Cell]], title: str) -> bytes:
    book = Workbook()
    sheet = book.active  # a new workbook has one sheet
    sheet.title = title
    sheet.append(list(header))
    for line in table:
        sheet.append(list(line))
    sheet.freeze_panes = "A2"
    for index, name in enumerate(header, start=1):
        column = [name, *(_text(line[index - 1]) for line in table)]
        letter = get_column_letter(index)
        sheet.column_dimensions[letter].width = min(MAX_WIDTH, max(map(_width, column)) + 2)
        if any(isinstance(line[index - 1], dt.datetime) for line in table):
            for (c,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                c.number_format = EXCEL_TIME
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
