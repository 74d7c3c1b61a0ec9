"""The 核实/核查 task list: an inspector's open tasks with their cases, nearest first from
where the phone is; the centre's reassignment of a task to another of the grid's inspectors."""

from __future__ import annotations

from typing import Final

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from cases.const import TaskKind, TaskStatus
from cases.deps import Deps
from cases.models import Case, CaseEvent, InspectorTask
from cases.schemas import StaffNotice, TaskItem, TaskList, TaskOut, TaskQuery
from cases.service import case_out, shown_case, task_out, text_for
from core.audit.service import Actor, record
from core.auth.const import Role
from core.auth.models import Staff
from core.auth.scope import CITYWIDE
from core.auth.service import Principal
from core.errors import Conflict, NotFound, ValidationFailed
from core.geo import distance_m, to_wgs84
from core.jobs import outbox
from core.org.models import GridAssignment

# Sorting by distance reads the open tasks of the query into memory: an inspector has tens,
# the whole city a few thousand at most; beyond this many the nearest are among the soonest.
NEAR_LIMIT: Final = 5000
_ACTION_OF: Final = {TaskKind.VERIFY: "verify", TaskKind.CHECK: "check"}


def _visible(who: Principal) -> Q:
    """The centre sees every task; an inspector those given to them and their grids' tasks
    given to nobody yet (a colleague's are the colleague's to do)."""
    if who.has_any(CITYWIDE):
        return Q()
    unassigned = Q(inspector_id=None, grid_id__in=sorted(who.grid_ids) or [-1])
    return Q(inspector_id=who.id) | unassigned


async def page(who: Principal, q: TaskQuery, deps: Deps) -> TaskList:
    """Open tasks the caller may see: soonest deadline first, or nearest first from a point."""
    query = InspectorTask.filter(_visible(who), status=TaskStatus.OPEN)
    if q.case_id is not None:
        query = query.filter(case_id=q.case_id)
    if q.kind is not None:
        query = query.filter(kind=q.kind)
    total = await query.count()
    ordered = query.order_by("deadline_at", "id")
    if q.lon is None or q.lat is None:
        rows = await ordered.offset((q.page - 1) * q.page_size).limit(q.page_size)
        return TaskList(items=await _items(rows, who, deps, None), total=total)
    here = to_wgs84(q.lon, q.lat, q.crs)
    rows = await ordered.limit(NEAR_LIMIT)
    items = await _items(rows, who, deps, here)
    items.sort(key=lambda t: (t.distance_m is None, t.distance_m or 0.0, t.deadline_at, t.id))
    start = (q.page - 1) * q.page_size
    return TaskList(items=items[start : start + q.page_size], total=total)


async def _items(
    rows: list[InspectorTask], who: Principal, deps: Deps, here: tuple[float, float] | None
) -> list[TaskItem]:
    cases = {c.id: c for c in await Case.filter(id__in=sorted({t.case_id for t in rows}))}
    now, text = deps.now(), text_for(who)
    items = []
    for task in rows:
        case = cases[task.case_id]
        far = None
        if here is not None and case.lon is not None and case.lat is not None:
            far = round(distance_m(here[0], here[1], case.lon, case.lat), 1)
        shown = shown_case(case_out(case, deps, now), text)
        items.append(TaskItem(**task_out(task, text).model_dump(), case=shown, distance_m=far))
    return items


async def task_of(task_id: int) -> TaskOut | None:
    """One task as it stands now (open, done or cancelled, and whose), or None."""
    task = await InspectorTask.get_or_none(id=task_id)
    return task_out(task) if task is not None else None


async def assign(task_id: int, inspector_id: int, *, actor: Principal, deps: Deps) -> TaskOut:
    """Give an open task to another inspector of its grid, who hears of it (notify.staff)."""
    task = await InspectorTask.get_or_none(id=task_id)
    if task is None:
        raise NotFound(f"task {task_id}", message="未找到该任务")
    staff = await Staff.get_or_none(id=inspector_id, is_active=True)
    if staff is None or Role.INSPECTOR.value not in staff.roles:
        raise _bad_inspector("not an active inspector", "该人员不是在岗的监督员")
    covers = await GridAssignment.filter(staff_id=inspector_id, grid_id=task.grid_id).exists()
    if task.grid_id is not None and not covers:
        raise _bad_inspector("not the grid's inspector", "该监督员不负责此任务所在网格")
    async with in_transaction():
        # Only while open: a result that arrived meanwhile wins, and the caller hears so.
        changed = await InspectorTask.filter(id=task_id, status=TaskStatus.OPEN).update(
            inspector_id=inspector_id
        )
        if not changed:
            raise Conflict(
                f"task {task_id} is no longer open",
                code="task_closed",
                message="该任务已完成或已取消，不能改派",
            )
        await record(
            actor=Actor.of(actor),
            action="task.assign",
            target="task",
            target_id=task_id,
            before={"inspector_id": task.inspector_id},
            after={"inspector_id": inspector_id},
        )
        last = await CaseEvent.filter(case_id=task.case_id).order_by("-id").first()
        notice = StaffNotice(
            case_id=task.case_id,
            event_id=last.id if last else 0,
            action=_ACTION_OF[task.kind],
            audience="inspector",
            inspector_id=inspector_id,
            task_id=task_id,
        )
        row = await outbox.add("notify.staff", notice.model_dump(mode="json", exclude_none=True))
    await deps.kick(outbox.kickable(row))
    return task_out(await InspectorTask.get(id=task_id))


def _bad_inspector(detail: str, message: str) -> ValidationFailed:
    return ValidationFailed(
        detail,
        code="not_grid_inspector",
        message=message,
        extra={"fields": [{"field": "inspector_id", "message": message}]},
    )
