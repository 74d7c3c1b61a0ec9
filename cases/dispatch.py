"""Dispatch rules: category × area → department; the most specific area wins."""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Iterator, Mapping
from contextvars import ContextVar
from typing import TYPE_CHECKING

from tortoise.transactions import in_transaction

from cases.models import Case, DispatchRule
from core import rows
from core.audit.service import Actor, record
from core.errors import Conflict, NotFound, ValidationFailed
from core.org.models import Department, DepartmentKind, Grid

if TYPE_CHECKING:
    from cases.deps import Deps

OWNER_KINDS = (DepartmentKind.DEPARTMENT, DepartmentKind.UNIT)


class DispatchCache:
    """Rules and the department tree in memory; read again when older than TTL_S.

    Both change rarely and are read for every dispatch. Another process's edits show here
    within TTL_S; this process's own edits at once (invalidate).
    """

    TTL_S = 30.0

    def __init__(self) -> None:
        self._loaded = -math.inf
        self._lock = asyncio.Lock()
        self._rules: dict[str, list[tuple[int | None, int | None, int]]] = {}
        self._parents: dict[int, int | None] = {}
        self._by_code: dict[str, int] = {}

    def invalidate(self) -> None:
        """Forget what was read: the next lookup reads the tables again."""
        self._loaded = -math.inf

    async def _fresh(self) -> None:
        if time.monotonic() - self._loaded < self.TTL_S:
            return
        async with self._lock:
            if time.monotonic() - self._loaded < self.TTL_S:
                return
            rules: dict[str, list[tuple[int | None, int | None, int]]] = {}
            for r in await DispatchRule.all().order_by("id"):
                rules.setdefault(r.category_code, []).append(
                    (r.grid_id, r.area_id, r.department_id)
                )
            departments = await Department.all().values("id", "parent_id", "code")
            self._rules = rules
            self._parents = {d["id"]: d["parent_id"] for d in departments}
            self._by_code = {d["code"]: d["id"] for d in departments}
            self._loaded = time.monotonic()

    def _ancestors(self, department_id: int | None) -> list[int]:
        chain: list[int] = []
        while department_id is not None and department_id not in chain:
            chain.append(department_id)
            department_id = self._parents.get(department_id)
        return chain

    async def rule_department(
        self, category: str, *, grid_id: int | None, street_id: int | None
    ) -> int | None:
        """The department a rule names for this category here: grid, then street, district."""
        await self._fresh()
        rules = self._rules.get(category, [])
        for grid, _, department in rules:
            if grid is not None and grid == grid_id:
                return department
        for area_id in self._ancestors(street_id):
            for grid, area, department in rules:
                if grid is None and area == area_id:
                    return department
        return None

    async def department_id(self, code: str) -> int | None:
        """The id of the department with this code (one made since the last read is found:
        a code not known reads the table again, at most once a second)."""
        await self._fresh()
        if code not in self._by_code and time.monotonic() - self._loaded > 1.0:
            self.invalidate()
            await self._fresh()
        return self._by_code.get(code)


async def candidates(
    category: str, *, grid_id: int | None, street_id: int | None, deps: Deps
) -> list[int]:
    """The departments an automatic 派遣 of this category here may go to: the rule's, then
    the category's default (read from memory; whether each is still live is the database's)."""
    found = await deps.dispatch.rule_department(category, grid_id=grid_id, street_id=street_id)
    code = deps.policy.for_category(category).department
    default = await deps.dispatch.department_id(code) if code else None
    return [d for d in dict.fromkeys((found, default)) if d is not None]


# Departments read live (or not) in the current transaction: intake asks with its other
# questions (cases/dedupe.py), so that its 自动派遣 reads nothing more.
_KNOWN_LIVE: ContextVar[Mapping[int, bool] | None] = ContextVar("known_live", default=None)


@contextlib.contextmanager
def knowing_live(live: Mapping[int, bool]) -> Iterator[None]:
    """Let `_live` answer from what was read in this transaction."""
    token = _KNOWN_LIVE.set(live)
    try:
        yield
    finally:
        _KNOWN_LIVE.reset(token)


async def resolve_department(case: Case, chosen: int | None, *, deps: Deps) -> int:
    """Pick the department: the dispatcher's choice, else the rules, else the category default."""
    if chosen is not None:
        await _owner(chosen)
        return chosen
    category = case.category_code or ""
    found = await deps.dispatch.rule_department(
        category, grid_id=case.grid_id, street_id=case.street_id
    )
    if found is not None and await _live(found):
        return found
    code = deps.policy.for_category(category).department
    default = await deps.dispatch.department_id(code) if code else None
    if default is None or not await _live(default):
        raise ValidationFailed(
            f"no department for {category}",
            code="no_department",
            message="未找到该类别的处置部门，请手动选择部门",
            extra={"fields": [{"field": "department_id", "message": "必填"}]},
        )
    return default


_LIVE = 'SELECT 1 AS one FROM "department" WHERE "id" = $1 AND "retired_at" IS NULL'


async def _live(department_id: int) -> bool:
    """A rule or the profile may still name a department since retired: it gets no cases."""
    known = _KNOWN_LIVE.get()
    if known is not None and department_id in known:
        return known[department_id]
    # Hand-written (core/rows.py): every 自动派遣 asks.
    return bool(await rows.select(Department, _LIVE, [department_id]))


async def _owner(department_id: int) -> Department:
    dep = await Department.get_or_none(id=department_id)
    if dep is None or dep.kind not in OWNER_KINDS:
        raise ValidationFailed(
            f"{department_id} is not a department",
            message="处置部门不存在",
            extra={"fields": [{"field": "department_id", "message": "部门不存在"}]},
        )
    if dep.retired_at is not None:
        raise ValidationFailed(
            f"department {dep.code} retired",
            code="department_retired",
            message="该部门已撤销，不再接收新案件",
            extra={"fields": [{"field": "department_id", "message": "部门已撤销"}]},
        )
    return dep


def rule_record(rule: DispatchRule) -> dict[str, object]:
    """What the audit log keeps of a rule."""
    return {
        "category_code": rule.category_code,
        "department_id": rule.department_id,
        "grid_id": rule.grid_id,
        "area_id": rule.area_id,
    }


async def create_rule(
    *,
    category_code: str,
    department_id: int,
    grid_id: int | None,
    area_id: int | None,
    actor: Actor | None = None,
) -> DispatchRule:
    """Add a rule; one per category and area."""
    if (grid_id is None) == (area_id is None):
        raise ValidationFailed(
            "a rule names a grid or an area",
            message="请选择网格或区域（二选一）",
            extra={"fields": [{"field": "grid_id", "message": "网格与区域二选一"}]},
        )
    await _owner(department_id)
    if grid_id is not None and not await Grid.filter(id=grid_id).exists():
        raise ValidationFailed(
            f"unknown grid {grid_id}",
            message="网格不存在",
            extra={"fields": [{"field": "grid_id", "message": "不存在"}]},
        )
    area = await Department.get_or_none(id=area_id) if area_id is not None else None
    if area_id is not None and (area is None or area.kind in OWNER_KINDS):
        raise ValidationFailed(
            f"{area_id} is not an area",
            message="区域不存在",
            extra={"fields": [{"field": "area_id", "message": "不是街道或区"}]},
        )
    if await DispatchRule.filter(
        category_code=category_code, grid_id=grid_id, area_id=area_id
    ).exists():
        raise Conflict("rule exists", code="rule_exists", message="该类别在该区域已有派遣规则")
    async with in_transaction():
        rule = await DispatchRule.create(
            category_code=category_code,
            department_id=department_id,
            grid_id=grid_id,
            area_id=area_id,
        )
        if actor is not None:
            await record(
                actor=actor,
                action="dispatch_rule.create",
                target="dispatch_rule",
                target_id=rule.id,
                after=rule_record(rule),
            )
    return rule


async def delete_rule(rule_id: int, *, actor: Actor | None = None) -> None:
    """Remove a rule."""
    async with in_transaction():
        rule = await DispatchRule.get_or_none(id=rule_id)
        if rule is None:
            raise NotFound(f"rule {rule_id}", message="未找到该派遣规则")
        await rule.delete()
        if actor is not None:
            await record(
                actor=actor,
                action="dispatch_rule.delete",
                target="dispatch_rule",
                target_id=rule_id,
                before=rule_record(rule),
            )
