"""The state machine: a table of moves and the one function that writes a case's status."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Final

from tortoise import timezone
from tortoise.expressions import F
from tortoise.transactions import in_transaction

from cases import effects
from cases.const import ACTION_NAMES, OPEN_STATUSES, STATUS_NAMES, Action, CaseStatus, Stage
from cases.deps import Deps
from cases.errors import CaseChanged, InvalidTransition
from cases.journal import Journal
from cases.models import Case, CaseEvent
from cases.schemas import (
    ActionIn,
    DecisionIn,
    DispatchIn,
    ExtendIn,
    LocateIn,
    MessageIn,
    NoteIn,
    RegisterIn,
    ResultIn,
)
from core.auth.const import Role
from core.auth.service import Principal
from core.errors import Forbidden, NotFound
from core.timeutil import utc

S = CaseStatus
R = Role
CENTRE: Final = frozenset({R.ACCEPTOR, R.SHIFT_LEAD})
# (report id, source, citizen id) of a case's citizen reporters.
Reporters = tuple[tuple[int, str, int], ...]


@dataclass(frozen=True)
class Move:
    """An action: from which statuses, to which (None: unchanged), by which roles, its input."""

    sources: frozenset[CaseStatus]
    target: CaseStatus | None
    roles: frozenset[str]
    input: type[ActionIn]
    # Targets the action may pick from its input instead (e.g. 核查 failed → 返工).
    alternatives: frozenset[CaseStatus] = field(default_factory=frozenset)


def _m(
    sources: set[CaseStatus],
    target: CaseStatus | None,
    *roles: str,
    input: type[ActionIn] = NoteIn,
    alt: frozenset[S] = frozenset(),
) -> Move:
    return Move(frozenset(sources), target, frozenset(roles), input, alt)


TRANSITIONS: Final[dict[Action, Move]] = {
    Action.ACCEPT: _m({S.REPORTED}, None, R.ACCEPTOR, R.SHIFT_LEAD),
    Action.VERIFY: _m({S.REPORTED}, S.VERIFYING, R.ACCEPTOR, R.SHIFT_LEAD, R.DISPATCHER),
    Action.VERIFY_RESULT: _m({S.VERIFYING}, S.REPORTED, R.INSPECTOR, input=ResultIn),
    Action.REGISTER: _m(
        {S.REPORTED, S.VERIFYING}, S.REGISTERED, R.ACCEPTOR, R.SHIFT_LEAD, input=RegisterIn
    ),
    Action.REJECT: _m({S.REPORTED, S.VERIFYING}, S.REJECTED, R.ACCEPTOR, R.SHIFT_LEAD),
    Action.DISPATCH: _m({S.REGISTERED}, S.DISPATCHED, R.DISPATCHER, R.SHIFT_LEAD, input=DispatchIn),
    Action.RECEIVE: _m({S.DISPATCHED}, None, R.HANDLER),
    Action.RETURN: _m({S.DISPATCHED}, S.REGISTERED, R.HANDLER),
    Action.EXTEND: _m({S.DISPATCHED}, None, R.HANDLER, input=ExtendIn),
    Action.APPROVE_EXTENSION: _m(
        {S.DISPATCHED}, None, R.DISPATCHER, R.SHIFT_LEAD, input=DecisionIn
    ),
    Action.HANDLE: _m({S.DISPATCHED}, S.HANDLED, R.HANDLER),
    Action.CHECK: _m({S.HANDLED}, None, R.ACCEPTOR, R.SHIFT_LEAD, R.DISPATCHER),
    Action.CHECK_RESULT: _m(
        {S.HANDLED}, S.CHECKED, R.INSPECTOR, input=ResultIn, alt=frozenset({S.DISPATCHED})
    ),
    # 自行处置 of a small problem its inspector reported and fixed at once (the category must
    # allow it, workflow.self_handle): 待结案, for the centre's review and 结案.
    Action.SELF_HANDLE: _m({S.REGISTERED}, S.CHECKED, R.INSPECTOR),
    # From 待核查 only where no 核查 is needed (no grid, or the city checks none).
    Action.CLOSE: _m({S.HANDLED, S.CHECKED}, S.CLOSED, R.ACCEPTOR, R.SHIFT_LEAD),
    Action.CANCEL: _m({S.REPORTED, S.VERIFYING, S.REGISTERED}, S.CANCELLED, R.SHIFT_LEAD),
    Action.SUSPEND: _m({S.DISPATCHED}, None, R.HANDLER, R.DISPATCHER),
    Action.APPROVE_SUSPENSION: _m(
        {S.DISPATCHED}, None, R.SHIFT_LEAD, input=DecisionIn, alt=frozenset({S.SUSPENDED})
    ),
    Action.RESUME: _m({S.SUSPENDED}, S.DISPATCHED, R.SHIFT_LEAD, R.DISPATCHER),
    Action.URGE: _m(set(OPEN_STATUSES), None, R.SHIFT_LEAD),
    Action.REOPEN: _m({S.CLOSED}, S.DISPATCHED, R.SHIFT_LEAD),
    Action.MESSAGE: _m(set(S), None, R.ACCEPTOR, R.SHIFT_LEAD, R.DISPATCHER, input=MessageIn),
    Action.LOCATE: _m(
        set(OPEN_STATUSES), None, R.ACCEPTOR, R.SHIFT_LEAD, R.DISPATCHER, input=LocateIn
    ),
}


def _allowed(move: Move, actor: Principal | None) -> bool:
    return actor is None or actor.has_any(move.roles)


def allowed_actions(case: Case, actor: Principal) -> list[Action]:
    """The actions this actor's roles allow from the case's status (inputs aside)."""
    return [
        action
        for action, move in TRANSITIONS.items()
        if case.status in move.sources and _allowed(move, actor)
    ]


async def transition(
    case_id: int, action: Action, inputs: ActionIn, *, actor: Principal | None, deps: Deps
) -> Case:
    """Apply an action to a case: check role, status and input, write status, timeline, effects.

    `inputs` is an instance of the action's input model (`TRANSITIONS[action].input`).
    """
    async with in_transaction():
        case, outbox_ids = await apply_in_transaction(
            case_id, action, inputs, actor=actor, deps=deps
        )
    await deps.kick(outbox_ids)
    return case


async def apply_in_transaction(
    case: Case | int,
    action: Action,
    inputs: ActionIn,
    *,
    actor: Principal | None,
    deps: Deps,
    reporters: Reporters | None = None,
    journal: Journal | None = None,
) -> tuple[Case, list[int]]:
    """Do transition's work inside the caller's transaction; return the case and outbox ids.

    A caller that holds the case row it just wrote passes it, to save reading it again, and
    the case's citizen reporters when it knows them (intake, for the case it just made); intake
    passes the journal of a case it has not written yet (its moves are kept there).
    """
    move = TRANSITIONS.get(action)
    if move is None:
        raise InvalidTransition(f"{action} is not a user action")
    await deps.rules.fresh(deps.policy)
    if not isinstance(inputs, move.input):
        raise TypeError(f"{action} takes {move.input.__name__}, not {type(inputs).__name__}")
    if not _allowed(move, actor):
        raise Forbidden(
            f"{action} needs {sorted(move.roles)}",
            code="role_forbidden",
            message=f"当前账号的角色无权执行“{ACTION_NAMES[action]}”",
        )
    if not isinstance(case, Case):
        case = await _load(case)
    _check_state(case, action, move, inputs)
    ids: list[int] = []
    if action in _DECIDING and actor is not None and unaccepted(case):
        # 受理 comes first (GB/T 30428.8): a person deciding a new report accepts it too
        # (自动立案 of an inspector's report is the city's rule, not a 受理 decision).
        case, ids = await _apply(
            case,
            Action.ACCEPT,
            NoteIn(),
            actor=actor,
            deps=deps,
            reporters=reporters,
            data={"part_of": action.value},
            journal=journal,
        )
    case, more = await _apply(
        case, action, inputs, actor=actor, deps=deps, reporters=reporters, journal=journal
    )
    ids += more
    if action == Action.ACCEPT and _verify_next(case, deps):
        case, more = await _apply(
            case,
            Action.VERIFY,
            NoteIn(note="受理后派发核实"),
            actor=None,
            deps=deps,
            reporters=reporters,
            journal=journal,
        )
        ids += more
    return case, ids


# The moves that decide a new report: each is a 受理 as well, when none was written yet.
_DECIDING: Final = frozenset({Action.VERIFY, Action.REGISTER, Action.REJECT})


def unaccepted(case: Case) -> bool:
    """Whether a case waits for its 受理 (a new report: its 受理 clock runs)."""
    return case.status == CaseStatus.REPORTED and case.stage == Stage.ACCEPT


def _verify_next(case: Case, deps: Deps) -> bool:
    """After 受理, a public source's report with a place goes to 核实 (workflow.verify_sources)."""
    return (
        case.status == CaseStatus.REPORTED
        and case.source in deps.policy.workflow.verify_sources
        and case.grid_id is not None
    )


async def _apply(
    case: Case,
    action: Action,
    inputs: ActionIn,
    *,
    actor: Principal | None,
    deps: Deps,
    reporters: Reporters | None,
    data: dict[str, Any] | None = None,
    journal: Journal | None = None,
) -> tuple[Case, list[int]]:
    """One move: its plan, the case row, the timeline row (with `data` beside the plan's),
    its effects; kept in the journal of a case not written yet (cases/journal.py)."""
    move = TRANSITIONS[action]
    plan = await effects.plan(case, action, inputs, actor=actor, deps=deps)
    target = plan.status or case.status
    if target != case.status and target not in {move.target, *move.alternatives}:
        raise InvalidTransition(f"{action} cannot lead to {target}")
    written = plan.fields | {"status": target}
    outbox_ids: list[int] = []
    if journal is not None and journal.pending and plan.open_task is not None:
        outbox_ids = await journal.write(deps)  # a task's row refers to the case's
    held = journal is not None and journal.pending
    if not held:
        await _write(case, written)
    task = await effects.open_task(case, plan, deps=deps)
    row = {
        "case_id": case.id,
        "action": plan.event_action or action,
        "from_status": case.status,
        "to_status": target,
        "actor_id": actor.id if actor and actor.is_staff else None,
        "actor_kind": actor.kind if actor else "system",
        "note": inputs.note,
        "data": plan.event_data | task | (data or {}),
    }
    event = CaseEvent(**row) if held else await CaseEvent.create(**row)
    # Held: the case row is written as it stands in memory, so in UTC as _write stores it.
    for name, value in (_stored(written) if held else written).items():
        setattr(case, name, value)
    case.version += 1
    if journal is not None and held:
        journal.record(case, event, effects.evidence(event, inputs, actor), reporters)
    else:
        outbox_ids += await effects.apply(
            case, event, inputs, actor=actor, deps=deps, reporters=reporters
        )
    return case, outbox_ids


async def _load(case_id: int) -> Case:
    case = await Case.get_or_none(id=case_id)
    if case is None:
        raise NotFound(f"case {case_id}", message="未找到该案件")
    return case


def _check_state(case: Case, action: Action, move: Move, inputs: ActionIn) -> None:
    if inputs.version is not None and inputs.version != case.version:
        raise CaseChanged(f"case {case.id} is at version {case.version}, not {inputs.version}")
    if case.status not in move.sources and case.status == move.target:
        # The case is where this move would take it: someone made it first (a lost race, with
        # or without `version`): one answer for both.
        raise CaseChanged(
            f"case {case.id} is {case.status} already ({action})",
            message=f"案件已被他人处理（当前状态：{STATUS_NAMES[case.status]}），请刷新后查看",
            extra={"status": case.status.value, "action": action.value},
        )
    if case.status not in move.sources:
        raise InvalidTransition(
            f"{action} not allowed from {case.status}",
            message=f"案件当前状态为“{STATUS_NAMES[case.status]}”，不能{ACTION_NAMES[action]}",
            extra={"status": case.status.value, "action": action.value},
        )


def _stored(fields: dict[str, Any]) -> dict[str, Any]:
    """Columns as stored: instants in UTC (SQLite compares datetimes as text)."""
    return {k: utc(v) if isinstance(v, dt.datetime) else v for k, v in fields.items()}


async def _write(case: Case, fields: dict[str, Any]) -> None:
    # Optimistic lock: of two actors that read the same version, exactly one writes.
    stored = _stored(fields)
    updated = await Case.filter(id=case.id, version=case.version).update(
        **stored, version=F("version") + 1, updated_at=timezone.now()
    )
    if not updated:
        raise CaseChanged(f"case {case.id} changed under us")
