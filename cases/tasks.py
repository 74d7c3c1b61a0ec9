"""核实 and 核查 tasks for the grid's inspector."""

from __future__ import annotations

import datetime as dt
import inspect
from typing import TYPE_CHECKING, Any

from cases.const import TaskKind, TaskStatus
from cases.models import Case, InspectorTask
from core.auth.service import Principal
from core.errors import Conflict, Forbidden, ValidationFailed
from core.org.models import GridAssignment
from core.timeutil import utc

if TYPE_CHECKING:
    from cases.hooks import InspectorChooser


async def open_task(
    case: Case, kind: TaskKind, *, deadline: dt.datetime, chooser: InspectorChooser
) -> InspectorTask:
    """Give one of the grid's inspectors a task (the city's hook picks; none: unassigned)."""
    existing = await InspectorTask.filter(
        case_id=case.id, kind=kind, status=TaskStatus.OPEN
    ).first()
    if existing is not None:
        return existing
    grid_id = case.grid_id
    inspector_id = None
    if grid_id is not None:
        candidates = (
            await GridAssignment.filter(grid_id=grid_id)
            .order_by("id")
            .values_list("staff_id", flat=True)
        )
        asked: dict[str, Any] = {
            "case_id": case.id,
            "grid_id": grid_id,
            "kind": kind.value,
            "candidates": [int(str(c)) for c in candidates],
        }
        if _takes_location(chooser) and case.lon is not None and case.lat is not None:
            asked["location"] = (case.lon, case.lat)
        inspector_id = await chooser.choose(**asked)
    return await InspectorTask.create(
        case_id=case.id,
        kind=kind,
        grid_id=grid_id,
        inspector_id=inspector_id,
        deadline_at=utc(deadline),
    )


def _takes_location(chooser: InspectorChooser) -> bool:
    # A city's chooser written before `location` existed keeps working without it.
    params = inspect.signature(chooser.choose).parameters
    return "location" in params or any(p.kind == p.VAR_KEYWORD for p in params.values())


async def finish_task(
    case: Case,
    kind: TaskKind,
    *,
    actor: Principal | None,
    passed: bool,
    note: str,
    now: dt.datetime,
) -> InspectorTask:
    """Record the inspector's result on the open task: its inspector's, or, unassigned, any
    inspector's of its grid."""
    task = await InspectorTask.filter(case_id=case.id, kind=kind, status=TaskStatus.OPEN).first()
    if task is None:
        raise ValidationFailed(f"no open {kind} task", message="该案件没有待办的核实/核查任务")
    if actor is not None and not _owns(task, actor):
        raise Forbidden(
            f"task {task.id} is not for staff {actor.id}",
            code="not_your_task",
            message="这不是您所负责网格的任务",
        )
    if actor is not None and task.inspector_id not in (None, actor.id):
        # Given to a colleague (or moved to one by 改派): theirs to do, and theirs in the
        # figures; an unassigned task is any of the grid's inspectors'.
        raise Conflict(
            f"task {task.id} is staff {task.inspector_id}'s",
            code="task_reassigned",
            message="该任务已由其他监督员负责（已改派），结果未提交",
        )
    await InspectorTask.filter(id=task.id).update(
        status=TaskStatus.DONE,
        passed=passed,
        note=note,
        done_at=utc(now),
        inspector_id=task.inspector_id or (actor.id if actor else None),
    )
    return task


def _owns(task: InspectorTask, actor: Principal) -> bool:
    inspector = task.inspector_id
    return inspector == actor.id or task.grid_id in actor.grid_ids


async def cancel_open(case: Case, *, now: dt.datetime) -> None:
    """Cancel every open task of a case (it was filed, rejected, closed…)."""
    await InspectorTask.filter(case_id=case.id, status=TaskStatus.OPEN).update(
        status=TaskStatus.CANCELLED, done_at=utc(now)
    )


async def last_check_passed(case: Case) -> bool:
    """Tell whether the latest 核查 is done and passed (a reopened case needs a new one)."""
    task = await InspectorTask.filter(case_id=case.id, kind=TaskKind.CHECK).order_by("-id").first()
    return bool(task and task.status == TaskStatus.DONE and task.passed)


async def has_open(case: Case, kind: TaskKind) -> bool:
    """Tell whether a task of this kind is open on the case."""
    return await InspectorTask.filter(case_id=case.id, kind=kind, status=TaskStatus.OPEN).exists()
