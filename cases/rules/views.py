"""The city's rules through the API: dispatch rules, and each category's live rules."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from cases.deps import deps_of
from cases.dispatch import create_rule, delete_rule
from cases.models import DispatchRule
from cases.policy import CategoryPolicy
from cases.rules.service import export_toml, put_rules
from cases.schemas import RuleIn, RuleList, RuleOut
from core.audit.service import Actor
from core.auth.const import Role
from core.auth.scope import CITYWIDE
from core.errors import ValidationFailed
from core.types import ID_ROUTE
from core.web.endpoint import Call, endpoint

routes = web.RouteTableDef()
RULE_EDITORS = frozenset({Role.ADMIN, Role.SHIFT_LEAD})
CATEGORY = "/api/v1/category-rules/{code:[A-Za-z0-9]{1,16}}"


class CategoryRuleIn(CategoryPolicy):
    """A category's rules as a person sets them: reviewed by the city, whatever the body says
    (so that a body read with GET, changed and sent back, counts as reviewed)."""

    reviewed: bool = Field(True, description="ignored: rules set through the API are reviewed")


class CategoryRuleOut(BaseModel):
    code: str
    name: str
    rules: CategoryPolicy


class CategoryRuleList(BaseModel):
    items: list[CategoryRuleOut]


class CategoryRuleQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    department: str | None = Field(
        None,
        max_length=32,
        pattern=r"^[0-9A-Za-z_./-]+$",
        description="a department's code: the categories it owns (处置部门 of the rules)",
    )


@routes.get("/api/v1/dispatch-rules")
@endpoint(roles=CITYWIDE, summary="派遣规则", response=RuleList, tags=["rules"])
async def list_rules(request: web.Request, call: Call) -> RuleList:
    """List dispatch rules."""
    rows = await DispatchRule.all().order_by("category_code", "id")
    return RuleList(items=[RuleOut.model_validate(r) for r in rows])


@routes.post("/api/v1/dispatch-rules")
@endpoint(
    roles=RULE_EDITORS,
    summary="新建派遣规则",
    body=RuleIn,
    response=RuleOut,
    status=201,
    tags=["rules"],
    errors=(409,),
)
async def add_rule(request: web.Request, call: Call) -> RuleOut:
    """Add a rule: category × grid or area → department."""
    body, deps = call.body(RuleIn), deps_of(request)
    if deps.policy.category(body.category_code) is None:
        raise ValidationFailed(
            "unknown category",
            message="案件类别不存在",
            extra={"fields": [{"field": "category_code", "message": "不存在"}]},
        )
    rule = await create_rule(**body.model_dump(), actor=Actor.of(call.who))
    deps.dispatch.invalidate()
    return RuleOut.model_validate(rule)


@routes.delete("/api/v1/dispatch-rules/{rule_id:" + ID_ROUTE + "}")
@endpoint(roles=RULE_EDITORS, summary="删除派遣规则", tags=["rules"], errors=(404,))
async def remove_rule(request: web.Request, call: Call) -> dict[str, bool]:
    """Remove a rule."""
    await delete_rule(int(request.match_info["rule_id"]), actor=Actor.of(call.who))
    deps_of(request).dispatch.invalidate()
    return {"ok": True}


@routes.get("/api/v1/category-rules")
@endpoint(
    roles=CITYWIDE,
    summary="案件类别的本市规则（当前生效；可按处置部门查它负责的类别）",
    query=CategoryRuleQuery,
    response=CategoryRuleList,
    tags=["rules"],
)
async def list_category_rules(request: web.Request, call: Call) -> CategoryRuleList:
    """Every category the city has rules for, with its rules as they are in force now; with
    `department`, the categories that department owns."""
    deps = deps_of(request)
    owner = call.query(CategoryRuleQuery).department
    await deps.rules.fresh(deps.policy)
    items = [
        CategoryRuleOut(code=code, name=cat.name, rules=rules)
        for code, rules in sorted(deps.policy.categories.items())
        if (cat := deps.policy.category(code)) is not None
        and (owner is None or rules.department == owner)
    ]
    return CategoryRuleList(items=items)


@routes.put(CATEGORY)
@endpoint(
    roles=RULE_EDITORS,
    summary="修改一个类别的规则（处置部门、时限、自动立案/派遣、合并、关键词）",
    body=CategoryRuleIn,
    response=CategoryRuleOut,
    tags=["rules"],
)
async def put_category_rules(request: web.Request, call: Call) -> CategoryRuleOut:
    """Replace a category's rules; every process applies them within the cache time."""
    deps = deps_of(request)
    code = request.match_info["code"]
    given = call.body(CategoryRuleIn).model_dump() | {"reviewed": True}
    body = CategoryPolicy.model_validate(given)
    rules = await put_rules(
        code, body, policy=deps.policy, cache=deps.rules, actor=Actor.of(call.who)
    )
    category = deps.policy.category(code)
    return CategoryRuleOut(code=code, name=category.name if category else code, rules=rules)


@routes.get("/api/v1/category-rules/export")
@endpoint(
    roles=RULE_EDITORS,
    summary="导出本市规则为城市配置（TOML 的 [categories] 部分）",
    tags=["rules"],
    produces=("text/plain",),
)
async def export_category_rules(request: web.Request, call: Call) -> web.Response:
    """The live rules as the profile's TOML, loadable as they are."""
    deps = deps_of(request)
    await deps.rules.fresh(deps.policy)
    return web.Response(
        text=export_toml(deps.policy, now=deps.now()),
        content_type="text/plain",
        headers={"Content-Disposition": 'attachment; filename="categories.toml"'},
    )
