"""What each action does to a case besides its status: clocks, tasks, requests, notices."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from cases import clock, events, photos, sla, tasks
from cases.const import (
    Action,
    AttachmentKind,
    CaseStatus,
    Stage,
    TaskKind,
)
from cases.deps import Deps
from cases.dispatch import resolve_department
from cases.errors import InvalidTransition
from cases.models import Case, CaseEvent, Report
from cases.policy import Limit
from cases.schemas import (
    ActionIn,
    DecisionIn,
    DispatchIn,
    ExtendIn,
    LocateIn,
    MessageIn,
    RegisterIn,
    ResultIn,
)
from core.auth.const import Role
from core.auth.service import Principal
from core.errors import Forbidden, ValidationFailed
from core.timeutil import to_local

if TYPE_CHECKING:
    from cases.states import Reporters

S = CaseStatus
InputT = TypeVar("InputT", bound=ActionIn)
ATTACHMENT_KIND = {
    Action.VERIFY_RESULT: AttachmentKind.VERIFY,
    Action.RECEIVE: AttachmentKind.BEFORE,
    Action.HANDLE: AttachmentKind.AFTER,
    Action.SELF_HANDLE: AttachmentKind.AFTER,
    Action.CHECK_RESULT: AttachmentKind.CHECK,
    Action.REWORK: AttachmentKind.CHECK,  # a failed 核查's photos
}


@dataclass
class Plan:
    """The decided outcome of an action, written by states.transition."""

    status: CaseStatus | None = None
    fields: dict[str, Any] = field(default_factory=dict)
    event_data: dict[str, Any] = field(default_factory=dict)
    event_action: Action | None = None
    open_task: TaskKind | None = None


def _as(inputs: ActionIn, kind: type[InputT]) -> InputT:
    # TRANSITIONS names each action's input model and transition() checks it.
    if not isinstance(inputs, kind):
        raise TypeError(f"expected {kind.__name__}, got {type(inputs).__name__}")
    return inputs


def _need_note(inputs: ActionIn, what: str) -> None:
    if len(inputs.note.strip()) < 2:
        raise ValidationFailed(
            f"{what} needs a note",
            code="note_required",
            message=f"请填写{what}的理由",
            extra={"fields": [{"field": "note", "message": "必填", "type": "missing"}]},
        )


def _need_grid(case: Case, what: str) -> None:
    if case.grid_id is None:
        raise ValidationFailed(
            f"case {case.id} has no grid",
            code="no_grid",
            message=f"该案件没有定位到网格，无法派发{what}任务",
        )


async def _locate(case: Case, inputs: LocateIn, deps: Deps) -> Plan:
    if deps.grids is None:
        raise ValidationFailed("no grid index", message="定位服务不可用")
    loc = inputs.location
    place = await deps.grids.locate(loc.lon, loc.lat, loc.crs)
    if place.grid_id is None:
        raise ValidationFailed(
            "outside every grid",
            code="location_outside_city",
            message="该位置不在本市管辖的网格内",
            extra={"fields": [{"field": "location", "message": "不在任何单元网格内"}]},
        )
    fields: dict[str, Any] = {
        "lon": place.lon,
        "lat": place.lat,
        "grid_id": place.grid_id,
        "street_id": place.street_id,
    }
    if inputs.address is not None:
        fields["address"] = inputs.address
    # Handled while it had no grid: the 核查 it waits for can be sent now.
    needs_check = (
        case.status == S.HANDLED
        and deps.policy.workflow.check_after_handle
        and not await tasks.has_open(case, TaskKind.CHECK)
    )
    data = {"grid_code": place.grid_code, "was_grid_id": case.grid_id}
    return Plan(fields=fields, event_data=data, open_task=TaskKind.CHECK if needs_check else None)


async def _self_handled(case: Case, inputs: ActionIn, actor: Principal | None, deps: Deps) -> None:
    """自行处置 is for a category the city allows, by the inspector who reported the case,
    with after-photos."""
    if case.category_code not in deps.policy.workflow.self_handle:
        raise Forbidden(
            f"category {case.category_code} is not self-handled",
            code="self_handle_not_allowed",
            message="该类别的问题不能由监督员自行处置，请等待派遣",
        )
    if actor is not None:
        first = await Report.filter(case_id=case.id).order_by("id").first()
        if first is None or first.staff_id != actor.id:
            raise Forbidden(
                f"case {case.id} was not reported by staff {actor.id}",
                code="not_your_report",
                message="只能自行处置您本人上报的问题",
            )
    if not inputs.attachments:
        raise ValidationFailed(
            "self_handle needs after-photos",
            message="请上传处置后照片",
            extra={"fields": [{"field": "attachments", "message": "必填"}]},
        )


def _own_department(case: Case, actor: Principal | None) -> None:
    if actor is None or Role.HANDLER not in actor.roles:
        return
    if actor.department_id is None or actor.department_id != case.department_id:
        raise Forbidden(
            f"case {case.id} is not with department {actor.department_id}",
            code="not_your_department",
            message="该案件不属于您的部门",
        )


async def plan(  # noqa: C901  (one arm per action reads better than a dispatch table of helpers)
    case: Case, action: Action, inputs: ActionIn, *, actor: Principal | None, deps: Deps
) -> Plan:
    """Decide the new status and columns for an action, checking its inputs."""
    now = deps.now()
    reg = inputs if isinstance(inputs, RegisterIn) else None
    urgency = (reg.urgency if reg else None) or case.urgency
    category = (reg.category_code if reg else None) or case.category_code

    def restart(stage: Stage) -> dict[str, Any]:
        return clock.start(deps, stage, category=category, urgency=urgency, now=now)

    match action:
        case Action.ACCEPT:  # 受理, once: the register clock starts
            if case.stage != Stage.ACCEPT:
                raise InvalidTransition(
                    "already accepted", code="already_accepted", message="该案件已受理"
                )
            return Plan(fields=restart(Stage.REGISTER))
        case Action.VERIFY:  # 核实 asked of the grid's inspector
            _need_grid(case, "核实")
            return Plan(S.VERIFYING, restart(Stage.VERIFY), open_task=TaskKind.VERIFY)
        case Action.VERIFY_RESULT:  # back to the acceptor, with the finding
            passed = _as(inputs, ResultIn).passed
            await tasks.finish_task(
                case, TaskKind.VERIFY, actor=actor, passed=passed, note=inputs.note, now=now
            )
            return Plan(S.REPORTED, restart(Stage.REGISTER), {"passed": passed})
        case Action.REGISTER:  # 立案: needs a known category
            if not category or deps.policy.category(category) is None:
                raise ValidationFailed(
                    "unknown category (category_code)",  # the field, never the value
                    message="请选择有效的案件类别",
                    extra={"fields": [{"field": "category_code", "message": "类别不存在"}]},
                )
            name = deps.policy.category(category).name  # type: ignore[union-attr]
            if case.status == S.VERIFYING:  # only then can a task be open
                await tasks.cancel_open(case, now=now)
            return Plan(
                S.REGISTERED,
                restart(Stage.DISPATCH)
                | {
                    "category_code": category,
                    "category_name": name,
                    "urgency": urgency,
                    "registered_at": now,
                },
                {"category_code": category, "urgency": urgency.value},
            )
        case Action.REJECT | Action.CANCEL:  # 不予立案 / 作废
            _need_note(inputs, "不予立案" if action == Action.REJECT else "作废")
            if case.status == S.VERIFYING:
                await tasks.cancel_open(case, now=now)
            return Plan(S.REJECTED if action == Action.REJECT else S.CANCELLED, clock.fields(None))
        case Action.DISPATCH:  # 派遣 to the owning department
            chosen = _as(inputs, DispatchIn).department_id
            department = await resolve_department(case, chosen, deps=deps)
            return Plan(
                S.DISPATCHED,
                restart(Stage.HANDLE)
                | {"department_id": department, "dispatched_at": now, "pending_request": None},
                {"department_id": department},
            )
        case Action.RECEIVE:  # 签收
            _own_department(case, actor)
            # Shown to people as it is stored in the row's data: local time.
            return Plan(event_data={"received_at": to_local(now).isoformat()})
        case Action.RETURN:  # 回退: not ours, back to the dispatcher
            _own_department(case, actor)
            _need_note(inputs, "回退")
            return Plan(
                S.REGISTERED,
                restart(Stage.DISPATCH) | {"department_id": None, "pending_request": None},
                {"department_id": case.department_id},
            )
        case Action.EXTEND | Action.SUSPEND:  # asked by the department, approved by the centre
            _own_department(case, actor)
            _need_note(inputs, "延期" if action == Action.EXTEND else "挂账")
            pending = _pending(case, inputs)
            return Plan(fields={"pending_request": pending}, event_data=pending)
        case Action.APPROVE_EXTENSION:
            return _approve_extension(case, deps, _as(inputs, DecisionIn), now)
        case Action.APPROVE_SUSPENSION:  # 挂账 stops the clock
            _pending_of(case, "suspend")
            approved = _as(inputs, DecisionIn).approved
            running = clock.clock_of(case)
            stopped = (
                clock.fields(sla.pause(deps.calendar, running, now)) if approved and running else {}
            )
            return Plan(
                S.SUSPENDED if approved else None,
                stopped | {"pending_request": None},
                {"approved": approved},
            )
        case Action.RESUME:
            running = clock.clock_of(case)
            resumed = clock.fields(sla.resume(deps.calendar, running, now)) if running else {}
            return Plan(S.DISPATCHED, resumed)
        case Action.HANDLE:  # 处置, with after-photos as evidence
            _own_department(case, actor)
            if not inputs.attachments:
                raise ValidationFailed(
                    "handle needs after-photos",
                    message="请上传处置后照片",
                    extra={"fields": [{"field": "attachments", "message": "必填"}]},
                )
            check = deps.policy.workflow.check_after_handle
            return Plan(
                S.HANDLED,
                (restart(Stage.CHECK) if check else clock.fields(None))
                | {"handled_at": now, "pending_request": None},
                # Without a grid there is no inspector yet: 定位 opens the task then.
                open_task=TaskKind.CHECK if check and case.grid_id is not None else None,
            )
        case Action.CHECK:  # 核查 asked (once: handle opened one already, as may a person)
            _need_grid(case, "核查")
            if await tasks.has_open(case, TaskKind.CHECK):
                raise InvalidTransition(
                    "a 核查 task is open", code="task_open", message="核查任务已派发，正在进行中"
                )
            return Plan(fields=restart(Stage.CHECK), open_task=TaskKind.CHECK)
        case Action.CHECK_RESULT:  # passed: ready to close; failed: 返工, with its reason
            passed = _as(inputs, ResultIn).passed
            if not passed:
                _need_note(inputs, "返工")
            await tasks.finish_task(
                case, TaskKind.CHECK, actor=actor, passed=passed, note=inputs.note, now=now
            )
            if passed:  # 待结案, on the 结案 clock
                return Plan(S.CHECKED, restart(Stage.CLOSE), {"passed": True})
            return Plan(
                S.DISPATCHED,
                restart(Stage.HANDLE) | {"handled_at": None},
                {"passed": False},
                event_action=Action.REWORK,
            )
        case Action.SELF_HANDLE:  # 自行处置: the inspector who reported it fixed it
            await _self_handled(case, inputs, actor, deps)
            return Plan(S.CHECKED, restart(Stage.CLOSE) | {"handled_at": now})
        case Action.CLOSE:  # 结案 once the 核查 passed (待结案), where the city checks
            needs_check = deps.policy.workflow.check_after_handle and case.status != S.CHECKED
            if needs_check and not await tasks.last_check_passed(case):
                if case.grid_id is None:
                    raise ValidationFailed(
                        "no grid, no check",
                        code="location_required",
                        message="该案件尚未定位，无法核查：请先定位，核查通过后结案",
                    )
                raise ValidationFailed(
                    "no passed check", code="check_not_passed", message="核查尚未通过，不能结案"
                )
            await tasks.cancel_open(case, now=now)
            return Plan(S.CLOSED, clock.fields(None) | {"closed_at": now})
        case Action.MESSAGE:  # 联系上报人: through each citizen reporter's own channel
            if not await Report.filter(case_id=case.id, citizen_id__not_isnull=True).exists():
                raise InvalidTransition(
                    "no citizen reporter",
                    code="no_reporter",
                    message="该案件没有可联系的市民上报人",
                )
            return Plan(event_data={"text": _as(inputs, MessageIn).text.strip()})
        case Action.LOCATE:  # 定位: a grid, so an inspector, for a case known by address
            return await _locate(case, _as(inputs, LocateIn), deps)
        case Action.URGE:  # 督办
            return Plan(fields={"urge_count": case.urge_count + 1})
        case Action.REOPEN:  # 重办 after a justified 不满意
            _need_note(inputs, "重办")
            return Plan(
                S.DISPATCHED,
                restart(Stage.HANDLE)
                | {"closed_at": None, "handled_at": None, "reopen_count": case.reopen_count + 1},
            )
    raise ValidationFailed(f"{action} has no plan")


def _pending(case: Case, inputs: ActionIn) -> dict[str, Any]:
    if case.pending_request:
        raise ValidationFailed(
            "a request is pending", code="request_pending", message="已有待审批的申请"
        )
    if not isinstance(inputs, ExtendIn):  # 挂账
        return {"kind": "suspend"}
    limit = Limit(amount=inputs.amount, unit=inputs.unit)
    return {"kind": "extend", "amount": limit.amount, "unit": limit.unit.value}


def _pending_of(case: Case, kind: str) -> dict[str, Any]:
    pending = case.pending_request or {}
    if pending.get("kind") != kind:
        raise ValidationFailed(
            f"no pending {kind}", code="no_pending_request", message="没有待审批的申请"
        )
    return pending


def _approve_extension(case: Case, deps: Deps, inputs: DecisionIn, now: dt.datetime) -> Plan:
    pending = _pending_of(case, "extend")
    approved = inputs.approved
    running = clock.clock_of(case)
    fields: dict[str, Any] = {"pending_request": None}
    if approved and running is not None:
        extra = Limit(amount=pending["amount"], unit=pending["unit"])
        fields |= clock.fields(sla.extend(deps.calendar, running, extra, now)) | {"overdue": False}
    return Plan(fields=fields, event_data={"approved": approved, **pending})


async def open_task(case: Case, plan: Plan, *, deps: Deps) -> dict[str, Any]:
    """Open the 核实/核查 task the plan asks for; return what the timeline row records of it."""
    if plan.open_task is None:
        return {}
    if "grid_id" in plan.fields:  # 定位 gave the case its grid: the task goes to its inspector
        case.grid_id = plan.fields["grid_id"]
    # The task is due when its stage's clock says (the city's unit: working time by default).
    stage = Stage.VERIFY if plan.open_task == TaskKind.VERIFY else Stage.CHECK
    limit = clock.stage_limit(deps, stage, category=case.category_code, urgency=case.urgency)
    now = deps.now()
    task = await tasks.open_task(
        case,
        plan.open_task,
        deadline=deps.calendar.deadline(now, limit.amount, limit.unit),
        chooser=deps.hooks.inspector,
    )
    return {"task_id": task.id, "inspector_id": task.inspector_id}


def evidence(event: CaseEvent, inputs: ActionIn, actor: Principal | None) -> photos.Evidence:
    """The photos of a move, by the actor (the system's moves may link any)."""
    staff = actor.id if actor is not None and actor.is_staff else None
    citizen = actor.id if actor is not None and not actor.is_staff else None
    kind = ATTACHMENT_KIND.get(Action(event.action), AttachmentKind.OTHER)
    return photos.Evidence(inputs.attachments, kind, citizen, staff)


async def apply(
    case: Case,
    event: CaseEvent,
    inputs: ActionIn,
    *,
    actor: Principal | None,
    deps: Deps,
    reporters: Reporters | None,
) -> list[int]:
    """Attach the move's photos and publish its event; return the outbox ids to kick."""
    await evidence(event, inputs, actor).attach(case, event)
    return await events.publish(case, event, deps=deps, reporters=reporters)
