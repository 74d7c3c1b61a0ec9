"""The live category rules (处置部门, 时限, 自动立案/派遣, 合并半径, 关键词): where they live.

The city profile's `[categories]` seed an empty `category_rule` table when a process starts;
from then on the table is the source of truth, edited through the API (each change audited),
read again by every process within `RulesCache.TTL_S`, and written back as a profile by
`export_toml`, so that the TOML in a city's repository can be brought up to date.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import time
from typing import Any

import tomli_w
from tortoise.functions import Count, Max
from tortoise.transactions import in_transaction

from cases.models import CategoryRule
from cases.policy import CasePolicy, CategoryPolicy
from core.audit.service import Actor, record_change
from core.errors import NotFound, ValidationFailed
from core.org.models import Department
from core.timeutil import to_local


class RulesCache:
    """Reads the table into a policy when it changed; at most every TTL_S seconds."""

    TTL_S = 30.0

    def __init__(self) -> None:
        self._checked = -math.inf
        self._version: tuple[int, str] | None = None
        self._lock = asyncio.Lock()

    def invalidate(self) -> None:
        """Look at the table on the next use (this process's own edits show at once)."""
        self._checked = -math.inf

    async def fresh(self, policy: CasePolicy) -> None:
        """Bring `policy.categories` up to the table (an empty table: the profile's stand)."""
        if time.monotonic() - self._checked < self.TTL_S:
            return
        async with self._lock:
            if time.monotonic() - self._checked < self.TTL_S:
                return
            stats = await CategoryRule.annotate(n=Count("code"), last=Max("updated_at")).values(
                "n", "last"
            )
            n, last = (int(stats[0]["n"] or 0), str(stats[0]["last"])) if stats else (0, "")
            if n and (n, last) != self._version:
                rows = await CategoryRule.all()
                policy.categories = {r.code: CategoryPolicy.model_validate(r.rules) for r in rows}
                self._version = (n, last)
            self._checked = time.monotonic()


def _stored(rules: CategoryPolicy) -> dict[str, Any]:
    data = rules.model_dump(mode="json")
    for key in ("auto_register", "auto_dispatch"):
        data[key] = sorted(data[key])  # frozensets: one order, so that an export is stable
    return data


async def seed(policy: CasePolicy) -> int:
    """Fill an empty table from the profile (several processes may start at once)."""
    if await CategoryRule.exists():
        return 0
    rows = [CategoryRule(code=c, rules=_stored(r)) for c, r in sorted(policy.categories.items())]
    await CategoryRule.bulk_create(rows, ignore_conflicts=True)
    return len(rows)


async def put_rules(
    code: str, rules: CategoryPolicy, *, policy: CasePolicy, cache: RulesCache, actor: Actor
) -> CategoryPolicy:
    """Replace one category's rules (checked: a known category, a live department)."""
    category = policy.category(code)
    if category is None:
        raise NotFound(f"no category {code}", message="案件类别不存在")
    if rules.department is not None:
        dep = await Department.get_or_none(code=rules.department)
        if dep is None or dep.retired_at is not None:
            why = "部门不存在" if dep is None else "该部门已撤销"
            raise ValidationFailed(
                "bad department",
                message=why,
                extra={"fields": [{"field": "department", "message": why}]},
            )
    async with in_transaction():
        await seed(policy)  # the first edit of a fresh database keeps the profile's others
        row = await CategoryRule.get_or_none(code=category.code)
        before = row.rules if row else _stored(policy.for_category(category.code))
        after = _stored(rules)
        if row is None:
            await CategoryRule.create(code=category.code, rules=after)
        else:
            row.rules = after
            await row.save()
        await record_change(
            actor=actor,
            action="category_rule.update",
            target="category_rule",
            target_id=category.code,
            before=before,
            after=after,
        )
    cache.invalidate()
    await cache.fresh(policy)
    return rules


def export_toml(policy: CasePolicy, *, now: dt.datetime) -> str:
    """The live rules as a profile's `[categories]`, keyed by code, loadable as they are."""
    sections: dict[str, Any] = {}
    for code, rules in sorted(policy.categories.items()):
        data = {k: v for k, v in _stored(rules).items() if v not in (None, "", [], {})}
        if rules.limits:
            data["limits"] = {
                u.value: [limit.amount, limit.unit.value]
                for u, limit in sorted(rules.limits.items())
            }
        sections[code] = data
    head = (
        f"# cityloop: the live category rules, exported {to_local(now):%Y-%m-%d %H:%M}.\n"
        "# The city profile's [categories], keyed by category code: replace that part of the\n"
        "# profile with this to keep it in step (the database holds the live rules).\n\n"
    )
    return head + tomli_w.dumps({"categories": sections})
