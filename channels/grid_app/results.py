"""Results from the phone: an inspector's 核实/核查 result of a task, a handler's move on a
case of their department. Each goes through the state machine with its ledger entry in the
same transaction; one that no longer applies (the task was reassigned or closed, the case
left the department) is refused with the reason, and nothing is written."""

from __future__ import annotations

from typing import Final

from tortoise.transactions import in_transaction

from cases import (
    Action,
    ActionIn,
    ExtendIn,
    NoteIn,
    ResultIn,
    case_view,
    deps_of,
    task_of,
    transition_in_transaction,
)
from channels.grid_app import ledger
from channels.grid_app.const import CaseMove, Outcome
from channels.grid_app.photos import Uploads, resolve
from channels.grid_app.schemas import CaseActionItem, ItemAnswer, TaskResultItem
from core.auth.service import Principal
from core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from core.runtime import Runtime

_MOVES: Final = {
    CaseMove.RECEIVE: Action.RECEIVE,
    CaseMove.HANDLE: Action.HANDLE,
    CaseMove.RETURN: Action.RETURN,
    CaseMove.EXTEND: Action.EXTEND,
    CaseMove.SUSPEND: Action.SUSPEND,
}


async def _task_check(item: TaskResultItem, who: Principal) -> tuple[int, Action]:
    """The task's case and move, if the result still applies to it."""
    task = await task_of(item.task_id)
    if task is None:
        raise ValidationFailed("no such task", code="task_not_found", message="任务不存在")
    if task.status == "cancelled":
        raise Conflict(
            f"task {task.id} cancelled",
            code="task_closed",
            message="该任务已取消（案件已另行处理），结果未提交",
        )
    if task.status == "done":
        raise Conflict(
            f"task {task.id} done",
            code="task_done",
            message="该任务已完成（已有核实/核查结果），本次结果未提交",
        )
    mine = task.inspector_id == who.id
    if not mine and task.grid_id not in who.grid_ids:
        raise Forbidden(
            f"task {task.id} is neither staff {who.id}'s nor of their grids",
            code="not_your_task",
            message="这不是您所负责网格的任务",
        )
    if task.inspector_id is not None and not mine:
        raise Conflict(
            f"task {task.id} is with staff {task.inspector_id}",
            code="task_reassigned",
            message="该任务已改派给其他监督员，结果未提交",
        )
    return task.case_id, Action.VERIFY_RESULT if task.kind == "verify" else Action.CHECK_RESULT


async def _apply(
    item: TaskResultItem | CaseActionItem,
    who: Principal,
    runtime: Runtime,
    case_id: int,
    action: Action,
    inputs: ActionIn,
) -> ItemAnswer:
    """The move and its ledger entry together; the kept answer if it was done before."""
    deps = deps_of(runtime)
    try:
        async with in_transaction():
            row = await ledger.claim(who.id, item.id, item.kind.value)
            case, outbox_ids = await transition_in_transaction(
                case_id, action, inputs, actor=who, deps=deps
            )
            answer = ItemAnswer(
                id=str(item.id),
                kind=item.kind.value,
                outcome=Outcome.CREATED,
                case_id=case.id,
                number=case.number,
                status=case.status.value,
            )
            await ledger.settle(row, answer)
    except ledger.Replayed:
        return await ledger.replayed(who.id, item.id) or ledger.busy(item.id, item.kind.value)
    await deps.kick(outbox_ids)
    return answer


async def task_result(
    item: TaskResultItem, who: Principal, *, runtime: Runtime, uploads: Uploads
) -> ItemAnswer:
    """核实/核查 result of a task that is still this inspector's."""
    case_id, action = await _task_check(item, who)
    photos = await resolve(item.photos, uploads=uploads, staff_id=who.id)
    inputs = ResultIn(passed=item.passed, note=item.note, attachments=tuple(photos))
    return await _apply(item, who, runtime, case_id, action, inputs)


_LEFT: Final = "该案件已不在本部门（已回退或改派），结果未提交"


async def _with_department(case_id: int, who: Principal, runtime: Runtime) -> None:
    """The case is the handler's department's now; else refused the same way whether it left
    or never was (its status is not another department's business)."""
    try:
        await case_view(case_id, viewer=who, deps=deps_of(runtime))
    except NotFound as err:
        raise Forbidden(
            f"case {case_id} is not with staff {who.id}'s department",
            code="not_your_department",
            message=_LEFT,
        ) from err


async def case_action(
    item: CaseActionItem, who: Principal, *, runtime: Runtime, uploads: Uploads
) -> ItemAnswer:
    """签收, 处置, 回退, 延期 or 挂账 of a case still with the handler's department."""
    await _with_department(item.case_id, who, runtime)
    photos = tuple(await resolve(item.photos, uploads=uploads, staff_id=who.id))
    inputs: ActionIn
    if item.action == CaseMove.EXTEND:
        if item.amount is None or item.unit is None:
            raise ValidationFailed(
                "extend needs amount and unit",
                code="extension_unspecified",
                message="申请延期请填写延长的时间（amount 与 unit）",
            )
        inputs = ExtendIn(note=item.note, attachments=photos, amount=item.amount, unit=item.unit)
    else:
        inputs = NoteIn(note=item.note, attachments=photos)
    try:
        return await _apply(item, who, runtime, item.case_id, _MOVES[item.action], inputs)
    except Forbidden as err:
        if err.code == "not_your_department":
            raise Forbidden(
                err.detail,
                code=err.code,
                message=_LEFT,
            ) from err
        raise
