"""Who hears of a move: citizen reporters through their own channel, staff by audience."""

from __future__ import annotations

from typing import Any

from cases.const import NOTIFY_PREFIX, STAFF_NOTICE, Action
from cases.models import Case, CaseEvent, Report
from core.jobs import outbox

# Reporters hear of these moves through their own channel.
TOLD_TO_REPORTER = frozenset(
    {
        Action.REGISTER,
        Action.REJECT,
        Action.DISPATCH,
        Action.HANDLE,
        Action.CLOSE,
        Action.CANCEL,
        Action.REOPEN,
    }
)
# The department hears of new or returning work, and of 督办.
TOLD_TO_DEPARTMENT = frozenset(
    {Action.DISPATCH, Action.REWORK, Action.REOPEN, Action.RESUME, Action.URGE}
)


async def to_staff(case: Case, event: CaseEvent, to: dict[str, Any]) -> list[int]:
    """Write a staff notice (payload `audience`: department, inspector or centre)."""
    item = await outbox.add(
        STAFF_NOTICE, {"case_id": case.id, "event_id": event.id, "action": event.action, **to}
    )
    return outbox.kickable(item)


async def to_reporters(
    case_id: int, event: CaseEvent, *, known: tuple[tuple[int, str, int], ...] | None = None
) -> list[int]:
    """Write one outbox row per citizen reporter of the case, for their own channel."""
    if known is None:
        rows = await Report.filter(case_id=case_id, citizen_id__not_isnull=True).values_list(
            "id", "source", "citizen_id"
        )
        known = tuple((int(i), str(src), int(c)) for i, src, c in rows)
    ids = []
    for report_id, source, citizen_id in known:
        item = await outbox.add(
            f"{NOTIFY_PREFIX}{source}",
            {
                "case_id": case_id,
                "event_id": event.id,
                "report_id": report_id,
                "citizen_id": citizen_id,
                "action": event.action,
                "status": event.to_status,
            },
        )
        ids += outbox.kickable(item)
    return ids
