"""Case events: every timeline row is published as `case.<action>` to its subscribers.

Packages subscribe with `on(Action.CLOSE, name="survey.schedule")` (below); the reporter and
staff notices of cases/notices.py are subscribers of the same kind (fan-outs). An event that
nobody subscribes to writes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

from cases import notices  # noqa: F401  (the built-in subscribers: reporter and staff notices)
from cases.const import EVENT_PREFIX, Action, CaseStatus
from cases.models import Case, CaseEvent
from cases.schemas import CaseEventPayload
from core.jobs import events
from core.jobs.registry import JobContext, JobHandler
from core.timeutil import utc

if TYPE_CHECKING:
    from cases.deps import Deps
    from cases.states import Reporters

EventHandler = Callable[[JobContext, CaseEventPayload], Awaitable[None]]


def event_name(action: Action | str) -> str:
    """The event of a move: case.<action>."""
    return EVENT_PREFIX + Action(action).value


def payload_of(case: Case, event: CaseEvent) -> CaseEventPayload:
    """The event of a timeline row of a case (the case as it is after the move)."""
    return CaseEventPayload(
        event=event_name(event.action),
        case_id=case.id,
        event_id=event.id,
        action=Action(event.action),
        from_status=CaseStatus(event.from_status) if event.from_status else None,
        to_status=CaseStatus(event.to_status),
        actor_kind=event.actor_kind,
        actor_id=event.actor_id,
        source=case.source,
        number=case.number,
        category_code=case.category_code,
        grid_id=case.grid_id,
        department_id=case.department_id,
        at=event.created_at,
        data=event.data,
        note=event.note or "",
    )


def publication(
    case: Case, event: CaseEvent, *, deps: Deps | None, reporters: Reporters | None = None
) -> events.Publication | None:
    """The event of this timeline row, ready to publish (None: nobody subscribes to it)."""
    name = event_name(event.action)
    if not events.subscribers(name):
        return None
    typed = payload_of(case, event)
    # What the fan-outs would otherwise read or parse again (never stored).
    hints = {"deps": deps, "reporters": reporters, "event": typed}
    return events.Publication(name, typed.model_dump(mode="json"), f"case_event:{event.id}", hints)


async def publish(
    case: Case,
    event: CaseEvent,
    *,
    deps: Deps | None,
    reporters: Reporters | None = None,
    every_row: bool = False,
) -> list[int]:
    """Write the outbox rows of this event's subscribers; return the ids to kick (or all)."""
    item = publication(case, event, deps=deps, reporters=reporters)
    return [] if item is None else await events.publish_all([item], every_row=every_row)


def on(*actions: Action, name: str) -> Callable[[EventHandler], EventHandler]:
    """Subscribe a job to these moves: it runs once per event, with the typed payload.

    `name` is the subscriber's job kind (unique; `<package>.<what>`). A handler that calls an
    outside service passes `ctx.outbox_id` as its idempotency key.
    """

    def register(fn: EventHandler) -> EventHandler:
        async def run(ctx: JobContext, payload: dict[str, Any]) -> None:
            await fn(ctx, CaseEventPayload.model_validate(payload))

        run.__name__ = run.__qualname__ = getattr(fn, "__name__", name)
        handler: JobHandler = run
        events.subscribe(*(event_name(a) for a in actions), name=name)(handler)
        return fn

    return register


async def past_events(
    since: dt.datetime, *, until: dt.datetime | None = None, batch: int = 1000
) -> AsyncIterator[tuple[str, str, dict[str, Any]]]:
    """The events of timeline rows written since an instant, oldest first (for replay).

    Read a batch of rows at a time: a window of weeks holds hundreds of thousands.
    """
    query = CaseEvent.filter(created_at__gte=utc(since))
    if until is not None:
        query = query.filter(created_at__lt=utc(until))
    after = 0
    while rows := await query.filter(id__gt=after).order_by("id").limit(batch):
        cases = {c.id: c for c in await Case.filter(id__in={r.case_id for r in rows})}
        for r in rows:
            payload = payload_of(cases[r.case_id], r).model_dump(mode="json")
            yield event_name(r.action), f"case_event:{r.id}", payload
        after = rows[-1].id
