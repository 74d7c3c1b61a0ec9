"""Who made each move, as a viewer may see it: staff see the person (name, the role they acted
in, their department); a citizen sees the role only (受理员, 处置人员…), never a name."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from cases.const import Action
from cases.models import CaseEvent
from cases.states import TRANSITIONS
from core.auth.const import ROLE_NAMES, Role
from core.auth.models import Staff
from core.org.models import Department

SYSTEM = "系统"
CITIZEN_ROLE = "市民"


@dataclass(frozen=True)
class Actor:
    """One move's actor as staff read it."""

    name: str | None
    role: str | None
    department: str | None


async def actors(events: Iterable[CaseEvent]) -> dict[int, Actor]:
    """The actor of each timeline row, by row id."""
    rows = list(events)
    staff_ids = {e.actor_id for e in rows if e.actor_id}
    staff = {s.id: s for s in await Staff.filter(id__in=sorted(staff_ids))}
    dept_ids = sorted({s.department_id for s in staff.values() if s.department_id})
    departments = dict(await Department.filter(id__in=dept_ids).values_list("id", "name"))
    found = {}
    for e in rows:
        person = staff.get(e.actor_id) if e.actor_id else None
        if person is not None:
            found[e.id] = Actor(
                name=person.display_name,
                role=_acting_role(e.action, person.roles),
                department=departments.get(person.department_id) if person.department_id else None,
            )
        elif e.actor_kind == "citizen":
            found[e.id] = Actor(None, CITIZEN_ROLE, None)
        else:
            found[e.id] = Actor(SYSTEM if e.actor_kind == "system" else None, SYSTEM, None)
    return found


def _acting_role(action: str, roles: list[str]) -> str | None:
    """The role the move was made in: the first of theirs the move lists (else their first)."""
    move = TRANSITIONS.get(Action(action))
    acting = [r for r in roles if move is None or r in move.roles] or roles
    return ROLE_NAMES.get(Role(acting[0])) if acting and acting[0] in ROLE_NAMES else None
