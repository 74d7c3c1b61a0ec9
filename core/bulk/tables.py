"""Reading a city's spreadsheet (XLSX, or CSV in UTF-8 or GB18030) into rows of text, by
Chinese headers; and writing the empty templates with those headers."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter

from core.errors import ValidationFailed

MAX_ROWS: Final = 50_000


@dataclass(frozen=True)
class Column:
    """A column of a template: the field, the header people see, whether it must be filled."""

    field: str
    header: str
    required: bool = False
    note: str = ""


@dataclass(frozen=True)
class Row:
    """One line of the file: its number as the spreadsheet shows it, and its cells by field."""

    number: int
    cells: dict[str, str]


def _refuse(message: str) -> ValidationFailed:
    return ValidationFailed(message, code="bad_table", message=message)


def _lines(path: Path) -> list[list[str]]:
    if path.suffix.lower() == ".xlsx":
        book = load_workbook(path, read_only=True, data_only=True)
        sheet = book.worksheets[0]
        lines = [
            ["" if v is None else str(v).strip() for v in values]
            for values in sheet.iter_rows(values_only=True)
        ]
        book.close()
        return lines
    if path.suffix.lower() == ".csv":
        raw = path.read_bytes()
        for encoding in ("utf-8-sig", "gb18030"):  # Excel in China saves CSV as GBK
            try:
                text = raw.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise _refuse("文件既不是 UTF-8 也不是 GB18030 编码")
        return [[c.strip() for c in line] for line in csv.reader(io.StringIO(text))]
    raise _refuse(f"只支持 .xlsx 和 .csv 文件：{path.name}")


def read_rows(path: Path, columns: tuple[Column, ...]) -> list[Row]:
    """The file's rows by field, blank lines skipped; unknown or missing headers refused."""
    if not path.is_file():
        raise _refuse(f"文件不存在：{path}")
    lines = _lines(path)
    if not lines:
        raise _refuse("文件是空的")
    by_header = {c.header: c.field for c in columns} | {c.field: c.field for c in columns}
    header = lines[0]
    unknown = [h for h in header if h and h not in by_header]
    if unknown:
        raise _refuse(f"不认识的表头：{'、'.join(unknown)}（请用模板：cityloop import --template）")
    fields = [by_header.get(h, "") for h in header]
    missing = [c.header for c in columns if c.required and c.field not in fields]
    if missing:
        raise _refuse(f"缺少列：{'、'.join(missing)}")
    if len(lines) - 1 > MAX_ROWS:
        raise _refuse(f"一次最多导入 {MAX_ROWS} 行")
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        cells = {f: (line[i] if i < len(line) else "") for i, f in enumerate(fields) if f}
        if any(cells.values()):
            rows.append(Row(number, cells))
    return rows


def template(columns: tuple[Column, ...], *, sheet: str) -> bytes:
    """An XLSX with the headers on its first sheet (fill in from line 2) and a second sheet
    saying what each column takes."""
    book = Workbook()
    first = book.active
    first.title = sheet
    first.append([c.header for c in columns])
    first.freeze_panes = "A2"
    for index, column in enumerate(columns, start=1):
        first.column_dimensions[get_column_letter(index)].width = max(
            12, 2 * len(column.header) + 4
        )
    notes = book.create_sheet("填写说明")
    notes.append(["列", "必填", "说明"])
    for column in columns:
        notes.append([column.header, "是" if column.required else "", column.note])
    notes.column_dimensions["C"].width = 60
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
