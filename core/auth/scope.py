"""Row-level visibility: citizens see their own rows, handlers their department's, inspectors
their grids'; the centre's roles see everything."""

from __future__ import annotations

from typing import Any, Final, TypeVar

from tortoise.expressions import Q
from tortoise.models import Model
from tortoise.queryset import QuerySet

from core.auth.const import CITIZEN, Role
from core.auth.service import Principal

M = TypeVar("M", bound=Model)
# Roles whose work spans the whole city: they see every row.
CITYWIDE: Final = frozenset(
    {Role.ADMIN, Role.ACCEPTOR, Role.SHIFT_LEAD, Role.DISPATCHER, Role.AGENT}
)


def restrict(
    query: QuerySet[M],
    who: Principal,
    *,
    citizen: str | None = None,
    department: str | None = None,
    grid: str | None = None,
) -> QuerySet[M]:
    """Narrow a query to the rows this caller may see; the keywords name the owning fields."""
    if who.kind == CITIZEN:
        return query.filter(**{citizen: who.id}) if citizen else _nothing(query)
    if who.has_any(CITYWIDE):
        return query
    allowed: list[Q] = []
    if Role.HANDLER in who.roles and department and who.department_id is not None:
        allowed.append(_q({department: who.department_id}))
    if Role.INSPECTOR in who.roles and grid and who.grid_ids:
        allowed.append(_q({f"{grid}__in": sorted(who.grid_ids)}))
    if not allowed:
        return _nothing(query)
    return query.filter(Q(*allowed, join_type=Q.OR))


def _q(condition: dict[str, Any]) -> Q:
    return Q(**condition)


def _nothing(query: QuerySet[M]) -> QuerySet[M]:
    # A primary key is never NULL: the query stays a query (callers may chain) but finds nothing.
    return query.filter(pk__isnull=True)
