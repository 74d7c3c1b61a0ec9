"""A new case's rows, held in memory through its first moves, then written at once.

Intake makes a case and moves it on (自动受理, 自动立案, 自动派遣) in one transaction. Written
move by move, that was an INSERT, an UPDATE for its number, an UPDATE and a timeline INSERT
per move, and every UPDATE re-indexed the row (its status, department and deadline are
indexed, its text has a search index): fifteen statements for one report. The journal lets
the same moves run (states._apply with effects.plan: the same checks, clocks, timeline rows
and events) on the case in memory, and writes the case once in its final state, with ids
taken ahead (core.ids.allocate) so its number is in that INSERT, with its report, its
timeline rows, their photos and the outbox rows of their events: one statement on PostgreSQL,
one per table on SQLite. The transaction is the caller's: a failure anywhere writes nothing.

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
from cases.models import Case, CaseEvent, Report
from cases.photos import Evidence
from core import ids as ids_
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


# Timeline rows an intake writes at most before the case is in the database: its report,
# 立案 and 派遣 (or 受理, whose 核实 writes the journal first). More take ids then.
EVENTS = 4


@dataclass(frozen=True)
class Ids:
    """Ids taken ahead for a new case: its own, its report's, its first timeline rows'."""

    case: int
    report: int
    events: tuple[int, ...]


class Journal:
    """A case not written yet, its report and the timeline rows of its moves so far."""

    def __init__(self, case: Case, ids: Ids, *, stored: bool = False) -> None:
        self.case = case
        self._stored = stored  # a case written before: a report joins it (合并)
        self.report_id = ids.report
        self.report: Report | None = None
        self._event_ids = list(ids.events)
        self._moves: list[_Move] = []
        self.pending = True

    @staticmethod
    async def prepare() -> None:
        """Before intake's transaction: ids for one more report set aside (SQLite; see
        core.ids.reserve), so that taking them inside costs no statement."""
        await ids_.reserve({Case: 1, Report: 1, CaseEvent: EVENTS})

    @classmethod
    async def open(cls, deps: Deps, now: dt.datetime, ids: Ids | None, **fields: Any) -> Journal:
        """A new case with these columns, its number over its id; `ids` taken already
        (cases/dedupe.py on PostgreSQL), or taken now."""
        if ids is None:
            got = await ids_.allocate({Case: 1, Report: 1, CaseEvent: EVENTS})
            ids = Ids(got[Case][0], got[Report][0], tuple(got[CaseEvent]))
        # Human-readable and unique: the city's format over the local date and the row id (no
        # counter to contend on).
        number = deps.policy.workflow.number(
            case_id=ids.case, local_date=to_local(now).date(), city=deps.policy.city_code
        )
        return cls(Case(id=ids.case, number=number, **fields), ids)

    @classmethod
    async def joining(cls, case: Case, ids: Ids | None) -> Journal:
        """The rows of a report that joins a case already written (its id unused here)."""
        if ids is None:
            got = await ids_.allocate({Report: 1, CaseEvent: 1})
            ids = Ids(case.id, got[Report][0], tuple(got[CaseEvent]))
        return cls(case, ids, stored=True)

    def record(
        self, case: Case, event: CaseEvent, evidence: Evidence, reporters: Reporters | None
    ) -> None:
        """Keep a move's timeline row (unsaved), its photos, and the case as the move left it."""
        if not self.pending:
            raise RuntimeError("the journal was written: write moves one by one now")
        if self._event_ids:
            event.id = self._event_ids.pop(0)
        self._moves.append(_Move(copy.copy(case), event, evidence, reporters))

    async def write(self, deps: Deps) -> list[int]:
        """Write the case, its report, its timeline, their photos and the outbox rows of their
        events: one statement on PostgreSQL (core.rows.Together); return the outbox ids to kick
        after commit."""
        if not self.pending:
            return []
        self.pending = False
        moves, self._moves = self._moves, []
        events_ = [m.event for m in moves]
        if any(e.id is None for e in events_):  # more moves than ids taken ahead
            more = await ids_.allocate({CaseEvent: sum(e.id is None for e in events_)})
            for event, id_ in zip(
                (e for e in events_ if e.id is None), more[CaseEvent], strict=True
            ):
                event.id = id_
        batch = rows.Together(Case)
        batch.rows([] if self._stored else [self.case])
        batch.rows([self.report] if self.report is not None else [])
        batch.rows(events_)  # their created_at set now: their events say when
        links = []
        for move in moves:
            link = move.evidence.link(self.case, move.event)
            if link is not None:
                links.append((link, batch.sql(link.sql, link.values)))
        publications = [
            p
            for m in moves
            if (p := events.publication(m.case, m.event, deps=deps, reporters=m.reporters))
        ]
        outbox = await core_events.outbox_rows(publications)
        batch.rows(outbox)
        returned = await batch.send()
        for link, part in links:
            link.check(returned[part])
        return core_events.to_kick(outbox)
