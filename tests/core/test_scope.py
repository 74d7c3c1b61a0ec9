"""Row-level visibility: citizens their own rows, handlers their department's, inspectors grids."""

from __future__ import annotations

from tortoise.queryset import QuerySet

from core.auth.scope import restrict
from core.auth.service import Principal
from core.config import Settings
from core.demo import seed_demo
from core.org.models import Grid


async def test_each_role_sees_its_own_rows(db: None, settings: Settings) -> None:
    await seed_demo(settings)
    all_ids = await _ids(Grid.all())
    first_street = (await Grid.filter(code__endswith="001001001").first().values("street_id"))[
        "street_id"
    ]
    street_ids = await _ids(Grid.filter(street_id=first_street))
    mine = frozenset(sorted(all_ids)[:3])

    dispatcher = Principal("staff", 1, "派遣员", roles=frozenset({"dispatcher"}))
    inspector = Principal("staff", 2, "监督员", roles=frozenset({"inspector"}), grid_ids=mine)
    handler = Principal(
        "staff", 3, "处置员", roles=frozenset({"handler"}), department_id=first_street
    )
    citizen = Principal("citizen", 4, "市民")
    stranger = Principal("staff", 5, "无部门处置员", roles=frozenset({"handler"}))

    assert await _ids(restrict(Grid.all(), dispatcher, grid="id")) == all_ids
    assert await _ids(restrict(Grid.all(), inspector, grid="id")) == set(mine)
    assert await _ids(restrict(Grid.all(), handler, department="street_id")) == street_ids
    assert await _ids(restrict(Grid.all(), citizen, grid="id")) == set()
    assert await _ids(restrict(Grid.all(), stranger, department="street_id")) == set()


async def _ids(query: QuerySet[Grid]) -> set[int]:
    return {int(str(i)) for i in await query.values_list("id", flat=True)}
