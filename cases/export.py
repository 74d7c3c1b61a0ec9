"""Exporting a case list to CSV (UTF-8 with BOM, for Excel) and XLSX, as people read it.

Times are Asia/Shanghai wall-clock times, sources and departments their Chinese names (the
table itself is core/export.py's). A CSV streams: batches of rows read one index range after
the other and written as they come, so a month of a large district (fifty thousand rows and
more) leaves with flat memory and its first byte at once. An XLSX is built whole, off the event
loop, and refused past XLSX_MAX_ROWS rather than cut.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Final

from tortoise.queryset import QuerySet

from cases import paging, service
from cases.const import SOURCE_NAMES, Light, Source
from cases.deps import Deps
from cases.models import Case
from cases.schemas import CaseOut, ExportQuery
from core.auth.service import Principal
from core.errors import ValidationFailed
from core.export import Cell, cell, csv_chunk
from core.export import render as render_table

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
    return cell(value)


HEADER: Final = tuple(title for _, title in COLUMNS)
BATCH: Final = 200  # rows read at a time: short turns of the event loop, each one index range
XLSX_MAX_ROWS: Final = 50_000  # an XLSX is built whole in memory; more rows go to CSV


def table(rows: list[CaseOut], departments: Mapping[int, str]) -> list[list[Cell]]:
    """Rows as the export's cells, in COLUMNS order."""
    return [[_value(r, name, departments) for name, _ in COLUMNS] for r in rows]


def render(
    rows: list[CaseOut], fmt: str, *, departments: Mapping[int, str] | None = None
) -> tuple[bytes, str]:
    """Render rows as CSV or XLSX; return the bytes and the content type.

    `departments` maps department ids to their names (the 处置部门 column).
    """
    return render_table(HEADER, table(rows, departments or {}), fmt, sheet="案件")


@dataclass(slots=True)
class Tally:
    """What an export sent: rows so far, and whether it reached the end."""

    rows: int = 0
    complete: bool = False


async def _batches(
    query: QuerySet[Case], q: ExportQuery, who: Principal, deps: Deps
) -> AsyncIterator[tuple[list[CaseOut], dict[int, str]]]:
    now, text, named = deps.now(), service.text_for(who), dict[int, str]()
    async for batch in paging.batches(query, q.sort, size=BATCH, limit=q.page_size):
        rows = [service.shown_case(service.case_out(c, deps, now), text) for c in batch]
        missing = {r.department_id for r in rows if r.department_id} - named.keys()
        if missing:
            named |= await service.department_names(missing)
        yield rows, named


def _csv(rows: list[CaseOut], named: Mapping[int, str]) -> bytes:
    return csv_chunk(table(rows, named))


async def csv_chunks(
    query: QuerySet[Case], q: ExportQuery, who: Principal, deps: Deps, tally: Tally
) -> AsyncIterator[bytes]:
    """The CSV of a filtered list, piece by piece: the header at once, then each batch."""
    yield csv_chunk([], header=HEADER)
    async for rows, named in _batches(query, q, who, deps):
        # Cells and CSV text in a thread: the event loop keeps answering meanwhile.
        yield await asyncio.to_thread(functools.partial(_csv, rows, named))
        tally.rows += len(rows)
    tally.complete = True


async def xlsx(
    query: QuerySet[Case], q: ExportQuery, who: Principal, deps: Deps
) -> tuple[bytes, int]:
    """The XLSX of a filtered list and its row count; refused past XLSX_MAX_ROWS rows."""
    cap = min(q.page_size or XLSX_MAX_ROWS, XLSX_MAX_ROWS)
    unbounded = q.page_size is None or q.page_size > XLSX_MAX_ROWS
    if unbounded and await paging.count_upto(query, cap=XLSX_MAX_ROWS) > XLSX_MAX_ROWS:
        raise ValidationFailed(
            f"xlsx export over {XLSX_MAX_ROWS} rows",
            code="export_too_large",
            message=f"超过 {XLSX_MAX_ROWS:,} 行的导出请选择 CSV 格式，或缩小筛选范围",
        )
    rows: list[CaseOut] = []
    named: dict[int, str] = {}
    async for batch, names in _batches(query, q.model_copy(update={"page_size": cap}), who, deps):
        rows.extend(batch)
        named = names
    # XLSX of tens of thousands of rows takes seconds: not on the event loop.
    body, _ = await asyncio.to_thread(functools.partial(render, rows, "xlsx", departments=named))
    return body, len(rows)
