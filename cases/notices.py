"""Who hears of a move: citizen reporters through their own channel, staff by audience.

Both are subscribers to the case events (core.jobs.events fan-outs): one event becomes a
`notify.<source>` row per citizen reporter (ReporterNotice) and `notify.staff` rows
(StaffNotice) for the department, the task's inspector or the centre. Which moves each
hears of is the city's data (`workflow.told_reporter`, `workflow.told_department`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cases.const import EVENT_PREFIX, NOTIFY_PREFIX, STAFF_NOTICE, Action, Stage, TaskStatus
from cases.models import InspectorTask, Report
from cases.policy import Workflow
from cases.schemas import CaseEventPayload, ReporterNotice, StaffNotice
from core.jobs.events import Row, fan_out

REPORTER_NOTICES = "cases.reporter_notices"
STAFF_NOTICES = "cases.staff_notices"
_DEFAULT = Workflow()


def _workflow(hints: Mapping[str, Any]) -> Workflow:
    deps = hints.get("deps")
    if deps is None and "runtime" in hints:  # a replay from the command line
        from cases.deps import deps_of

        deps = deps_of(hints["runtime"])
    return deps.policy.workflow if deps is not None else _DEFAULT


def _event(payload: dict[str, Any], hints: Mapping[str, Any]) -> CaseEventPayload:
    typed = hints.get("event")
    return (
        typed if isinstance(typed, CaseEventPayload) else CaseEventPayload.model_validate(payload)
    )


async def reporter_rows(payload: dict[str, Any], hints: Mapping[str, Any]) -> list[Row]:
    """One notice per citizen reporter of the case, for their own channel."""
    event = _event(payload, hints)
    # A message from the centre is for the reporters whatever the city chose to tell them.
    if event.action not in _workflow(hints).told_reporter and event.action != Action.MESSAGE:
        return []
    if event.action == Action.ACCEPT and event.data.get("part_of"):
        return []  # a 受理 written with a 立案 or 不予立案: they hear of that decision
    known = hints.get("reporters")
    if known is None:
        rows = (
            await Report.filter(case_id=event.case_id, citizen_id__not_isnull=True)
            .order_by("id")
            .values_list("id", "source", "citizen_id")
        )
        known = tuple((int(i), str(src), int(c)) for i, src, c in rows)
    return [
        Row(
            f"{NOTIFY_PREFIX}{source}",
            ReporterNotice(
                case_id=event.case_id,
                event_id=event.event_id,
                report_id=report_id,
                citizen_id=citizen_id,
                action=event.action,
                status=event.to_status,
                text=_told_text(event),
            ).model_dump(mode="json", exclude_none=True),
            key=f"report:{report_id}",
        )
        for report_id, source, citizen_id in known
    ]


# Moves whose note is written for the reporter: the reason a report is not filed or voided.
_REASONED = frozenset({Action.REJECT, Action.CANCEL})


def _told_text(event: CaseEventPayload) -> str | None:
    if event.action == Action.MESSAGE:
        return str(event.data.get("text") or "") or None
    if event.action in _REASONED:
        return event.note or None
    return None


async def staff_rows(payload: dict[str, Any], hints: Mapping[str, Any]) -> list[Row]:
    """The department of new or returning work, a task's inspector, a late stage's owner."""
    event = _event(payload, hints)
    notices: list[tuple[str, StaffNotice]] = []
    base = {"case_id": event.case_id, "event_id": event.event_id, "action": event.action}
    if "task_id" in event.data:
        inspector = event.data.get("inspector_id")
        # An unassigned task is the centre's to place.
        to: dict[str, Any] = (
            {"audience": "inspector", "inspector_id": inspector}
            if inspector
            else {"audience": "centre"}
        )
        notices.append(("task", StaffNotice(**base, task_id=event.data["task_id"], **to)))
    if event.action in _workflow(hints).told_department and event.department_id:
        notices.append(
            (
                "department",
                StaffNotice(**base, audience="department", department_id=event.department_id),
            )
        )
    if event.action == Action.OVERDUE:
        owner = await late_stage_owner(event.case_id, event.data.get("stage"), event.department_id)
        notices.append(("late", StaffNotice(**base, stage=event.data.get("stage"), **owner)))
    return [
        Row(STAFF_NOTICE, n.model_dump(mode="json", exclude_none=True), key=key)
        for key, n in notices
    ]


async def late_stage_owner(
    case_id: int, stage: str | None, department_id: int | None
) -> dict[str, Any]:
    """Who answers for a late stage: the department, the task's inspector, or the centre."""
    if stage == Stage.HANDLE and department_id:
        return {"audience": "department", "department_id": department_id}
    if stage in (Stage.VERIFY, Stage.CHECK):
        task = await InspectorTask.filter(case_id=case_id, status=TaskStatus.OPEN).first()
        if task is not None and task.inspector_id is not None:
            return {"audience": "inspector", "inspector_id": task.inspector_id}
    return {"audience": "centre"}


_ALL = tuple(EVENT_PREFIX + a.value for a in Action)
fan_out(*_ALL, name=REPORTER_NOTICES, rows=reporter_rows)
fan_out(*_ALL, name=STAFF_NOTICES, rows=staff_rows)
