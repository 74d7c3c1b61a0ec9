"""What the case core still has open on a row of core that is about to be retired."""

from __future__ import annotations

from collections.abc import Sequence

from tortoise.functions import Count

from cases.const import OPEN_STATUSES
from cases.models import Case


async def holds(kind: str, ids: Sequence[int]) -> dict[int, str]:
    """Per grid id: how many open cases lie in it (a grid with open cases stays)."""
    if kind != "grid":
        return {}
    rows = (
        await Case.filter(grid_id__in=list(ids), status__in=list(OPEN_STATUSES))
        .annotate(n=Count("id"))
        .group_by("grid_id")
        .values_list("grid_id", "n")
    )
    return {int(grid_id): f"网格内还有 {n} 件未结案件" for grid_id, n in rows}
