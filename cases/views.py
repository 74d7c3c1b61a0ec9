"""The centre's API: reports in, case lists and details, one endpoint per action."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web

from cases import export, lists, public, service, tasklist
from cases.clock import stage_limit
from cases.const import Action, Stage, Urgency
from cases.deps import deps_of
from cases.intake import source_of, submit
from cases.models import CaseAttachment
from cases.policy import Limit
from cases.schemas import (
    ActionIn,
    CaseDetail,
    CaseOut,
    CasePage,
    CaseQuery,
    CategoryList,
    CategoryOut,
    ExportQuery,
    IntakeDraft,
    Reporter,
    ReportIn,
    SubmitOut,
    TaskAssignIn,
    TaskList,
    TaskOut,
    TaskQuery,
)
from cases.states import TRANSITIONS, transition
from core.audit.service import Actor, record, record_read
from core.auth.const import CITIZEN, Role
from core.auth.scope import CITYWIDE
from core.auth.service import Principal
from core.errors import NotFound
from core.export import MEDIA_TYPES as EXPORT_TYPES
from core.export import XLSX_TYPE
from core.media.service import get_media
from core.media.views import send_original
from core.types import BIGID_ROUTE, ID_ROUTE
from core.web.endpoint import ANY_STAFF, Call, endpoint

routes = web.RouteTableDef()
CASE = "/api/v1/cases/{case_id:" + BIGID_ROUTE + "}"
RULE_EDITORS = frozenset({Role.ADMIN, Role.SHIFT_LEAD})


@routes.post("/api/v1/reports")
@endpoint(
    roles=ANY_STAFF | {CITIZEN},
    summary="上报问题（一门进）",
    body=ReportIn,
    response=SubmitOut,
    status=201,
    tags=["cases"],
    errors=(409,),
    replay=True,
)
async def report(request: web.Request, call: Call) -> web.StreamResponse | SubmitOut:
    """Submit a report; the same idempotency key returns the same case (200)."""
    body, who = call.body(ReportIn), call.who
    source = source_of(who)  # the citizen's channel, or the staff member's client or role
    reporter = Reporter(citizen_id=who.id) if who.kind == CITIZEN else Reporter(staff_id=who.id)
    draft = IntakeDraft(source=source, reporter=reporter, **body.model_dump())
    deps = deps_of(request)
    result = await submit(draft, deps=deps)
    shown = service.case_out(result.case, deps, deps.now())
    if who.kind == CITIZEN:
        shown = public.case_for_citizen(shown, result.report.description)
    out = SubmitOut(
        case=shown,
        report_id=result.report.id,
        created=result.created,
        merged=result.merged,
    )
    if not result.created:
        return web.json_response(out.model_dump(mode="json"), status=200)
    return out


@routes.get("/api/v1/cases")
@endpoint(
    roles=ANY_STAFF | {CITIZEN},
    summary="案件列表",
    query=CaseQuery,
    response=CasePage,
    tags=["cases"],
)
async def list_cases(request: web.Request, call: Call) -> CasePage:
    """List the cases the caller may see, filtered, sorted and paged."""
    return await lists.page(call.who, call.query(CaseQuery), deps_of(request))


@routes.get("/api/v1/cases/export")
@endpoint(
    roles=CITYWIDE,
    summary="导出案件（CSV / XLSX）",
    query=ExportQuery,
    tags=["cases"],
    produces=EXPORT_TYPES,
)
async def export_cases(request: web.Request, call: Call) -> web.StreamResponse:
    """Export the filtered list as CSV (streamed, every row) or XLSX (up to 50,000 rows)."""
    q, deps, who = call.query(ExportQuery), deps_of(request), call.who
    query, _, _ = await lists.listing(who, q, deps, now=deps.now(), counted=False)
    filters = q.model_dump(mode="json", exclude_defaults=True)
    disposition = {"Content-Disposition": f'attachment; filename="cases.{q.format}"'}
    if q.format == "xlsx":
        body, rows = await export.xlsx(query, q, who, deps)
        await _exported(who, filters, rows)
        return web.Response(body=body, content_type=XLSX_TYPE, headers=disposition)
    response = web.StreamResponse(
        headers={"Content-Type": "text/csv; charset=utf-8", **disposition}
    )
    await response.prepare(request)
    tally = export.Tally()
    try:
        async for chunk in export.csv_chunks(query, q, who, deps, tally):
            await response.write(chunk)
    finally:  # a download cut short is on record too, with the rows it took
        await _exported(who, filters, tally.rows, complete=tally.complete)
    await response.write_eof()
    return response


async def _exported(
    who: Principal, filters: dict[str, object], rows: int, *, complete: bool = True
) -> None:
    # An export leaves the platform: who took which rows is on record.
    cut = {} if complete else {"complete": False}
    after = {"filters": filters, "rows": rows, **cut}
    await record(actor=Actor.of(who), action="cases.export", target="cases", after=after)


@routes.get(CASE)
@endpoint(
    roles=ANY_STAFF | {CITIZEN},
    summary="案件详情（时间线、照片、上报、任务）",
    response=CaseDetail,
    tags=["cases"],
    errors=(404,),
)
async def case_detail(request: web.Request, call: Call) -> CaseDetail:
    """Show one case with its timeline."""
    case = await service.get_visible(int(request.match_info["case_id"]), call.who)
    out = await service.detail(case, call.who, deps_of(request))
    shown = (
        [r.id for r in out.reports if r.reporter_phone] if service.reads_phones(call.who) else []
    )
    if shown:  # a reporter's phone number in full: on record
        await record_read(call.who, what="phone", target="case", target_id=case.id, ids=shown)
    return out


@routes.get(CASE + "/media/{media_id:" + ID_ROUTE + "}/original")
@endpoint(
    roles=ANY_STAFF,
    summary="案件照片原图（含 EXIF，能看到该案件的工作人员）",
    tags=["cases"],
    errors=(404,),
)
async def case_original(request: web.Request, call: Call) -> web.Response:
    """Send the original of a photo attached to a case the caller may see."""
    case = await service.get_visible(int(request.match_info["case_id"]), call.who)
    media_id = int(request.match_info["media_id"])
    if not await CaseAttachment.filter(case_id=case.id, media_id=media_id).exists():
        raise NotFound(f"media {media_id} not on case {case.id}", message="未找到该图片")
    sent = await send_original(request, await get_media(media_id))
    # The original keeps its EXIF (where and when, the phone's make): on record.
    await record_read(call.who, what="original", target="case", target_id=case.id, ids=[media_id])
    return sent


@routes.get("/api/v1/inbox")
@endpoint(
    roles={Role.HANDLER},
    summary="部门待办（处置中、挂账）",
    query=CaseQuery,
    response=CasePage,
    tags=["cases"],
)
async def inbox(request: web.Request, call: Call) -> CasePage:
    """List the caller's department's cases being handled."""
    q = call.query(CaseQuery)
    if not q.status:
        q = q.model_copy(update={"status": ["dispatched", "suspended"]})
    return await lists.page(call.who, q, deps_of(request))


@routes.get("/api/v1/tasks")
@endpoint(
    roles=CITYWIDE | {Role.INSPECTOR},
    summary="核实/核查任务（监督员看自己网格的与派给自己的；给出 lon/lat 则由近及远）",
    query=TaskQuery,
    response=TaskList,
    tags=["cases"],
)
async def tasks(request: web.Request, call: Call) -> TaskList:
    """List open inspector tasks, soonest deadline first or nearest first from a point."""
    return await tasklist.page(call.who, call.query(TaskQuery), deps_of(request))


@routes.post("/api/v1/tasks/{task_id:" + ID_ROUTE + "}/assign")
@endpoint(
    roles={Role.ACCEPTOR, Role.SHIFT_LEAD, Role.DISPATCHER},
    summary="改派核实/核查任务（给本网格的另一名监督员）",
    body=TaskAssignIn,
    response=TaskOut,
    tags=["cases"],
    errors=(404, 409, 422),
)
async def assign_task(request: web.Request, call: Call) -> TaskOut:
    """Give an open task to another inspector of its grid."""
    inputs = call.body(TaskAssignIn)
    task_id = int(request.match_info["task_id"])
    return await tasklist.assign(
        task_id, inputs.inspector_id, actor=call.who, deps=deps_of(request)
    )


def _action(action: Action) -> Callable[[web.Request, Call], Awaitable[CaseOut]]:
    model = TRANSITIONS[action].input

    async def act(request: web.Request, call: Call) -> CaseOut:
        inputs: ActionIn = call.body(model)
        deps = deps_of(request)
        case = await service.get_visible(int(request.match_info["case_id"]), call.who)
        done = await transition(case.id, action, inputs, actor=call.who, deps=deps)
        return service.case_out(done, deps, deps.now())

    act.__name__ = act.__qualname__ = f"case_{action.value}"
    act.__doc__ = f"Apply {action.value} to a case."
    return act


# One endpoint per move; its roles and input model come from the state table.
ACTION_ROUTES: tuple[tuple[Action, str, str], ...] = (
    (Action.ACCEPT, "accept", "受理"),
    (Action.VERIFY, "verify", "派发核实"),
    (Action.VERIFY_RESULT, "verify-result", "核实反馈（监督员）"),
    (Action.REGISTER, "register", "立案"),
    (Action.REJECT, "reject", "不予立案"),
    (Action.DISPATCH, "dispatch", "派遣"),
    (Action.RECEIVE, "receive", "签收（处置部门）"),
    (Action.RETURN, "return", "回退（处置部门）"),
    (Action.EXTEND, "extend", "申请延期（处置部门）"),
    (Action.APPROVE_EXTENSION, "extension-approval", "延期审批"),
    (Action.HANDLE, "handle", "处置（附处置后照片）"),
    (Action.CHECK, "check", "派发核查"),
    (Action.CHECK_RESULT, "check-result", "核查反馈（监督员；不通过即返工）"),
    (Action.SELF_HANDLE, "self-handle", "自行处置（上报的监督员，附处置后照片）"),
    (Action.CLOSE, "close", "结案"),
    (Action.CANCEL, "cancel", "作废"),
    (Action.SUSPEND, "suspend", "申请挂账"),
    (Action.APPROVE_SUSPENSION, "suspension-approval", "挂账审批"),
    (Action.RESUME, "resume", "恢复处置"),
    (Action.URGE, "urge", "督办"),
    (Action.REOPEN, "reopen", "重办"),
    (Action.MESSAGE, "message", "联系上报人（经其上报渠道发送消息）"),
    (Action.LOCATE, "locate", "定位（只有地址的案件：定位到网格，之后可派发核实、核查）"),
)

for _act, _path, _summary in ACTION_ROUTES:
    routes.post(f"{CASE}/{_path}")(
        endpoint(
            roles=TRANSITIONS[_act].roles,
            summary=_summary,
            body=TRANSITIONS[_act].input,
            response=CaseOut,
            tags=["case actions"],
            errors=(404, 409),
        )(_action(_act))
    )


@routes.get("/api/v1/categories")
@endpoint(
    roles=ANY_STAFF | {CITIZEN},
    summary="案件类别（所选目录与本市规则）",
    response=CategoryList,
    tags=["cases"],
)
async def categories(request: web.Request, call: Call) -> CategoryList:
    """List the chosen catalog with the city's rules per category."""
    deps = deps_of(request)
    await deps.rules.fresh(deps.policy)
    policy, staff = deps.policy, call.who.kind != CITIZEN
    items = []
    for c in policy.catalog:
        item = CategoryOut(code=c.code, kind=c.kind, major_name=c.major_name, name=c.name)
        if staff:
            rules = policy.for_category(c.code)
            item = item.model_copy(
                update={
                    "department": rules.department,
                    "limits": {u.value: _text(policy.handle_limit(c.code, u)) for u in Urgency},
                    "stage_limits": {
                        s.value: _text(stage_limit(deps, s, category=c.code, urgency=Urgency.B))
                        for s in Stage
                        if s != Stage.HANDLE
                    },
                    "auto_register": sorted(rules.auto_register),
                    "auto_dispatch": sorted(rules.auto_dispatch),
                    "reviewed": rules.reviewed,
                    "source": c.source,
                }
            )
        items.append(item)
    return CategoryList(catalog=policy.catalog.name, items=items)


def _text(limit: Limit) -> str:
    return f"{limit.amount:g} {limit.unit.label}"
