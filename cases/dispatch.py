"""Dispatch rules: category × area → department; the most specific area wins."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cases.models import Case, DispatchRule
from core.errors import Conflict, NotFound, ValidationFailed
from core.org.models import Department, DepartmentKind

if TYPE_CHECKING:
    from cases.deps import Deps

OWNER_KINDS = (DepartmentKind.DEPARTMENT, DepartmentKind.UNIT)


async def _ancestors(department_id: int | None) -> list[int]:
    chain: list[int] = []
    while department_id is not None and department_id not in chain:
        chain.append(department_id)
        parent = await Department.filter(id=department_id).values_list("parent_id", flat=True)
        department_id = parent[0] if parent else None  # type: ignore[assignment]
    return chain


async def rule_department(
    category: str, *, grid_id: int | None, street_id: int | None
) -> int | None:
    """Find the department a rule names for this category here: grid, then street, district."""
    rules = await DispatchRule.filter(category_code=category).values(
        "grid_id", "area_id", "department_id"
    )
    if not rules:
        return None
    for rule in rules:
        if grid_id is not None and rule["grid_id"] == grid_id:
            return int(rule["department_id"])
    for area in await _ancestors(street_id):
        for rule in rules:
            if rule["grid_id"] is None and rule["area_id"] == area:
                return int(rule["department_id"])
    return None


async def resolve_department(case: Case, chosen: int | None, *, deps: Deps) -> int:
    """Pick the department: the dispatcher's choice, else the rules, else the category default."""
    if chosen is not None:
        await _owner(chosen)
        return chosen
    category = case.category_code or ""
    found = await rule_department(
        category,
        grid_id=case.grid_id,
        street_id=case.street_id,
    )
    if found is not None:
        return found
    code = deps.policy.for_category(category).department
    default = await Department.get_or_none(code=code) if code else None
    if default is None:
        raise ValidationFailed(
            f"no department for {category}",
            code="no_department",
            message="未找到该类别的处置部门，请手动选择部门",
            extra={"fields": [{"field": "department_id", "message": "必填"}]},
        )
    return default.id


async def _owner(department_id: int) -> Department:
    dep = await Department.get_or_none(id=department_id)
    if dep is None or dep.kind not in OWNER_KINDS:
        raise ValidationFailed(
            f"{department_id} is not a department",
            message="处置部门不存在",
            extra={"fields": [{"field": "department_id", "message": "部门不存在"}]},
        )
    return dep


async def create_rule(
    *, category_code: str, department_id: int, grid_id: int | None, area_id: int | None
) -> DispatchRule:
    """Add a rule; one per category and area."""
    if grid_id is not None and area_id is not None:
        raise ValidationFailed("grid or area, not both", message="网格与区域只能选择其一")
    await _owner(department_id)
    if await DispatchRule.filter(
        category_code=category_code, grid_id=grid_id, area_id=area_id
    ).exists():
        raise Conflict("rule exists", code="rule_exists", message="该类别在该区域已有派遣规则")
    return await DispatchRule.create(
        category_code=category_code, department_id=department_id, grid_id=grid_id, area_id=area_id
    )


async def delete_rule(rule_id: int) -> None:
    """Remove a rule."""
    if not await DispatchRule.filter(id=rule_id).delete():
        raise NotFound(f"rule {rule_id}", message="未找到该派遣规则")
