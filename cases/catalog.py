"""Category catalogs (GB/T 47678.5-2026 and the legacy GB/T 30428.2 / CJ/T 214 lists)."""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Iterator
from dataclasses import dataclass
from importlib.resources import files
from typing import Final, Literal

from core.calendar import TimeUnit

CatalogName = Literal["gbt47678", "gbt30428"]
KINDS: Final = {"部件": "component", "事件": "event"}
# The code letter tells 部件 from 事件: both lists reuse the same major/minor numbers.
KIND_LETTER: Final = {"component": "C", "event": "E"}
UNITS: Final = {
    "工作时": TimeUnit.WORK_HOUR,
    "工作日": TimeUnit.WORK_DAY,
    "小时": TimeUnit.HOUR,
    "天": TimeUnit.DAY,
}


@dataclass(frozen=True, slots=True)
class Category:
    """One 小类 of a catalog, with the source of its row."""

    catalog: CatalogName
    code: str  # kind letter + 大类 code + 小类 code, e.g. E06010 (暴露垃圾)
    kind: str  # component (部件) or event (事件)
    major_code: str
    major_name: str
    minor_code: str
    minor_name: str
    typical_department: str  # a guess from the name; the city profile decides
    limit_amount: float | None  # from a city's published standard, where one gave it
    limit_unit: TimeUnit | None
    source: str

    @property
    def name(self) -> str:
        return self.minor_name

    @property
    def kind_name(self) -> str:
        return "部件" if self.kind == "component" else "事件"


class Catalog:
    """All categories of one catalog, by code and by name."""

    def __init__(self, name: CatalogName, categories: list[Category]) -> None:
        self.name = name
        self._by_code = {c.code: c for c in categories}
        self._by_name: dict[str, list[Category]] = {}
        for c in categories:
            self._by_name.setdefault(c.minor_name, []).append(c)

    def __iter__(self) -> Iterator[Category]:
        return iter(self._by_code.values())

    def __len__(self) -> int:
        return len(self._by_code)

    def get(self, code: str) -> Category | None:
        """Return the category with this code."""
        return self._by_code.get(code)

    def resolve(self, key: str) -> Category | None:
        """Find a category by code, or by its 小类 name when that name is unique."""
        if found := self._by_code.get(key):
            return found
        named = self._by_name.get(key, [])
        return named[0] if len(named) == 1 else None


def _catalog_of(source: str) -> CatalogName:
    return "gbt47678" if source.startswith("GB/T 47678.5") else "gbt30428"


def _row(row: dict[str, str]) -> Category:
    kind = KINDS[row["kind"]]
    catalog = _catalog_of(row["source"])
    return Category(
        catalog=catalog,
        code=f"{KIND_LETTER[kind]}{row['major_code']}{row['minor_code']}",
        kind=kind,
        major_code=row["major_code"],
        major_name=row["major_name"],
        minor_code=row["minor_code"],
        minor_name=row["minor_name"],
        typical_department=row["default_department"],
        limit_amount=float(row["dispose_limit"]) if row["dispose_limit"] else None,
        limit_unit=UNITS.get(row["limit_unit"]),
        source=row["source"],
    )


@functools.cache
def load_catalog(name: CatalogName) -> Catalog:
    """Load a catalog from the package data (built from shared/data/categories.csv)."""
    text = files("cases").joinpath("data/categories.csv").read_text(encoding="utf-8")
    rows = [_row(r) for r in csv.DictReader(io.StringIO(text))]
    return Catalog(name, [c for c in rows if c.catalog == name])
