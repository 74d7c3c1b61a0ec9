"""The moves the system makes on a new report, where the city's profile allows them:
立案 of what its staff reporter fixes on the spot (自行处置); 自动立案 and 自动派遣 for a
source (an inspector's, a camera's), else 自动受理
(`workflow.auto_accept`); else the report waits for a person's 受理. They run through the
state machine like anyone's moves, kept in the new case's journal (cases/journal.py)."""

from __future__ import annotations

import logging

from cases import dispatch
from cases.catalog import Category
from cases.const import Action
from cases.deps import Deps
from cases.journal import Journal
from cases.models import Case
from cases.schemas import ActionIn, DispatchIn, IntakeDraft, NoteIn, RegisterIn
from cases.states import Reporters, apply_in_transaction
from core.errors import ValidationFailed
from core.org.service import Place

log = logging.getLogger(__name__)


async def departments(
    draft: IntakeDraft, category: Category | None, place: Place | None, deps: Deps
) -> list[int]:
    """The departments this report's 自动派遣 may go to (none where it is not automatic)."""
    if category is None or draft.self_handle:
        return []
    rules = deps.policy.for_category(category.code)
    if draft.source not in rules.auto_register or draft.source not in rules.auto_dispatch:
        return []
    return await dispatch.candidates(
        category.code,
        grid_id=place.grid_id if place else None,
        street_id=place.street_id if place else None,
        deps=deps,
    )


async def first_moves(
    case: Case,
    draft: IntakeDraft,
    category: Category | None,
    deps: Deps,
    reporters: Reporters,
    journal: Journal,
) -> tuple[Case, list[int]]:
    """自动立案/自动派遣 where the profile allows it for this source; else 自动受理 where the
    city wants it; else the report waits for a person's 受理."""

    async def by_system(action: Action, inputs: ActionIn) -> tuple[Case, list[int]]:
        return await apply_in_transaction(
            case, action, inputs, actor=None, deps=deps, reporters=reporters, journal=journal
        )

    rules = deps.policy.for_category(category.code) if category else None
    ids: list[int] = []
    if draft.self_handle:  # its reporter fixes it: filed, never dispatched
        case, ids = await by_system(Action.REGISTER, RegisterIn(note="监督员自行处置，系统立案"))
    elif rules is not None and draft.source in rules.auto_register:
        case, ids = await by_system(Action.REGISTER, RegisterIn(note="自动立案"))
        if draft.source in rules.auto_dispatch:
            try:
                case, more = await by_system(Action.DISPATCH, DispatchIn(note="自动派遣"))
                ids += more
            except ValidationFailed as err:
                # No department known for this category here: it waits for a dispatcher.
                log.warning("case %s not dispatched automatically: %s", case.id, err.detail)
    elif draft.source in deps.policy.workflow.auto_accept:
        # 自动受理 where the city wants it (a public report with a place then goes to 核实).
        case, ids = await by_system(Action.ACCEPT, NoteIn(note="自动受理"))
    return case, ids
