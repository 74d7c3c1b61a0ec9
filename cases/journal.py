"""A new case's rows, held in memory through its first moves, then written at once.

Intake makes a case and moves it on (自动受理, 自动立案, 自动派遣) in one transaction. Written
move by move, that was an INSERT, an UPDATE for its number, an UPDATE and a timeline INSERT
per move, and every UPDATE re-indexed the row (its status, department and deadline are
indexed, its text has a search index): fifteen statements for one report. The journal lets
the same moves run (states._apply with effects.plan: the same checks, clocks, timeline rows
and events) on the case in memory, and writes the case once in its final state, with ids
taken ahead (core.rows.allocate_ids) so its number is in that INSERT; then its report, its
timeline rows in one statement, their photos, and the outbox rows of all their events in one
statement. The transaction is the caller's: a failure anywhere writes nothing.

A move that needs the case in the database (one that opens a 核实/核查 task, whose row
refers to the case's) writes the journal first and goes on move by move.
"""

from __future__ import annotations

import copy
import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cases import events
from cases.deps import Deps
from cases.effects import Evidence
from cases.models import Case, CaseEvent, Report
from core import rows
from core.jobs import events as core_events
from core.timeutil import to_local

if TYPE_CHECKING:
    from cases.states import Reporters


@dataclass(frozen=True)
class _Move:
    case: Case  # as it was after the move: its event says so, not the final state
    event: CaseEvent
    evidence: Evidence
    reporters: Reporters | None


class Journal:
    """A case not written yet, its report and the timeline rows of its moves so far."""

    def __init__(self, case: Case, report_id: int) -> None:
        self.case = case
        self.report_id = report_id
        self.report: Report | None = None
        self._moves: list[_Move] = []
        self.pending = True

    @classmethod
    async def open(
        cls, deps: Deps, now: dt.datetime, ids: tuple[int, int] | None, **fields: Any
    ) -> Journal:
        """A new case with these columns, its number over its id; `ids` (case, report) taken
        already (cases/dedupe.py on PostgreSQL), or taken now."""
        case_id, report_id = ids or await rows.allocate_ids(Case, Report)
        # Human-readable and unique: the city's format over the local date and the row id (no
        # counter to contend on).
        number = deps.policy.workflow.number(
            case_id=case_id, local_date=to_local(now).date(), city=deps.policy.city_code
        )
        return cls(Case(id=case_id, number=number, **fields), report_id)

    def record(
        self, case: Case, event: CaseEvent, evidence: Evidence, reporters: Reporters | None
    ) -> None:
        """Keep a move's timeline row (unsaved), its photos, and the case as the move left it."""
        if not self.pending:
            raise RuntimeError("the journal was written: write moves one by one now")
        self._moves.append(_Move(copy.copy(case), event, evidence, reporters))

    async def write(self, deps: Deps) -> list[int]:
        """Write the case, its report, its timeline, their photos and events; return the ids
        of the outbox rows to kick after commit."""
        if not self.pending:
            return []
        self.pending = False
        await rows.insert([self.case])
        if self.report is not None:
            await rows.insert([self.report])
        moves, self._moves = self._moves, []
        await rows.insert([m.event for m in moves])
        publications = []
        for move in moves:
            await move.evidence.attach(self.case, move.event)
            item = events.publication(move.case, move.event, deps=deps, reporters=move.reporters)
            if item is not None:
                publications.append(item)
        return await core_events.publish_all(publications)
