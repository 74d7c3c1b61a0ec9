"""The state machine (cases/states.py): the whole TRANSITIONS table through the HTTP API, then
refusals by role, status and version, and two dispatchers at once."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Final, Literal

import pytest

from cases.const import Action, CaseStatus
from cases.models import Case, CaseEvent
from cases.states import TRANSITIONS, Move
from cases.views import ACTION_ROUTES
from core.auth.const import Role
from tests.cases.helpers import City, actions, codes
from tests.cases.helpers import registered_case as _registered

# --- the table, action by action, from every status and for every role ----------------------

S = CaseStatus
# Each action's path (POST /api/v1/cases/{id}/<path>); the rest of a route does not matter here.
PATHS: Final = {route[0]: route[1] for route in ACTION_ROUTES}
# Who acts in each role. The cases below are in street 1 (inspector1's grids) and, once
# dispatched, 环卫's: every one of these accounts can see them.
ACCOUNT: Final = {
    Role.ADMIN: "admin",
    Role.ACCEPTOR: "acceptor",
    Role.SHIFT_LEAD: "shift_lead",
    Role.DISPATCHER: "dispatcher",
    Role.HANDLER: "handler_hw",
    Role.INSPECTOR: "inspector1",
    Role.AGENT: "agent",
}
# A valid input for each action (a note for all), so that validation never answers before
# the table does: a 422 would fail every assertion below.
NOTE: Final = "现场情况属实"
INPUT: Final[dict[Action, dict[str, Any]]] = {
    Action.VERIFY_RESULT: {"passed": True},
    Action.REGISTER: {"urgency": "B"},
    Action.EXTEND: {"amount": 1, "unit": "day"},
    Action.APPROVE_EXTENSION: {"approved": True},
    Action.CHECK_RESULT: {"passed": True},
    Action.APPROVE_SUSPENSION: {"approved": True},
    Action.MESSAGE: {"text": "请补拍一张近照"},
    Action.LOCATE: {"location": {"lon": 120.1556, "lat": 30.2745}},  # by the demo city's centre
}
# With the input above, these actions take one of their alternatives, not their target.
PICKED: Final = {Action.APPROVE_SUSPENSION: S.SUSPENDED}  # approved: 挂账


ReportedBy = Literal["inspector", "agent", "citizen"]


@dataclass(frozen=True)
class Walk:
    """How a fresh case gets to where an action may be taken by every role the table lists."""

    report: ReportedBy = "inspector"  # who reports it: see _report
    status: CaseStatus | None = None  # then set directly in the database
    steps: tuple[tuple[Action, Role], ...] = ()  # then these moves, over HTTP
    photo: bool = False  # the actor attaches an after-photo of their own


SUSPENDED: Final = ((Action.SUSPEND, Role.HANDLER), (Action.APPROVE_SUSPENSION, Role.SHIFT_LEAD))
CHECKED: Final = ((Action.CHECK, Role.DISPATCHER), (Action.CHECK_RESULT, Role.INSPECTOR))
WALKS: Final = {
    Action.ACCEPT: Walk("agent"),  # 受理 is once, before 立案: a hotline report waits for it
    Action.VERIFY: Walk("agent"),
    Action.VERIFY_RESULT: Walk("citizen"),  # a public report opens inspector1's 核实 task
    Action.REGISTER: Walk("agent"),
    Action.REJECT: Walk("agent"),
    Action.DISPATCH: Walk(status=S.REGISTERED),
    Action.RECEIVE: Walk(),
    Action.RETURN: Walk(),
    Action.EXTEND: Walk(),
    Action.APPROVE_EXTENSION: Walk(steps=((Action.EXTEND, Role.HANDLER),)),
    Action.HANDLE: Walk(photo=True),
    Action.CHECK: Walk(status=S.HANDLED),
    Action.CHECK_RESULT: Walk(status=S.HANDLED, steps=CHECKED[:1]),  # the 核查 task, open
    # inspector1's own 暴露垃圾, a category the demo lets its inspector fix (workflow.self_handle)
    Action.SELF_HANDLE: Walk(status=S.REGISTERED, photo=True),
    Action.CLOSE: Walk(status=S.HANDLED, steps=CHECKED),  # 结案 needs a passed 核查
    Action.CANCEL: Walk("agent"),
    Action.SUSPEND: Walk(),
    Action.APPROVE_SUSPENSION: Walk(steps=SUSPENDED[:1]),
    Action.RESUME: Walk(steps=SUSPENDED),  # a real 挂账: its clock stopped, to restart
    Action.URGE: Walk(),
    Action.REOPEN: Walk(status=S.CLOSED),
    Action.MESSAGE: Walk("citizen"),  # to the citizen who reported it
    Action.LOCATE: Walk("agent"),  # a call: known by its address, placed by the centre
}

REFUSED_STATUSES: Final = [
    pytest.param(action, status, id=f"{action}-from-{status}")
    for action, move in TRANSITIONS.items()
    for status in CaseStatus
    if status not in move.sources
]
REFUSED_ROLES: Final = [
    pytest.param(action, role, id=f"{action}-by-{role}")
    for action, move in TRANSITIONS.items()
    for role in Role
    if role not in move.roles
]
ALLOWED_ROLES: Final = [
    pytest.param(action, role, id=f"{action}-by-{role}")
    for action, move in TRANSITIONS.items()
    for role in Role
    if role in move.roles
]


async def _report(city: City, by: ReportedBy) -> int:
    """A fresh case in street 1. An inspector's is filed and dispatched to 环卫 at once; a
    hotline agent's waits for 受理; a citizen's is 受理'd and goes to inspector1 for 核实."""
    if by == "inspector":
        return int((await city.dispatched(1, "路边有垃圾"))["id"])
    who = await city.login("agent") if by == "agent" else await city.citizen()
    status, out = await city.report(who, await city.point(1), "路边有垃圾没人清")
    assert status == 201, out
    cid = int(out["case"]["id"])
    if by == "citizen":
        await city.ok(cid, "accept", "acceptor")
    return cid


async def _case_in(city: City, status: CaseStatus) -> int:
    cid = await _report(city, "inspector")
    await Case.filter(id=cid).update(status=status)
    return cid


async def _state(case_id: int) -> tuple[CaseStatus, int, int]:
    """What a refused action leaves alone: the status, the version, the timeline's length."""
    case = await Case.get(id=case_id)
    return case.status, case.version, await CaseEvent.filter(case_id=case_id).count()


async def _act(
    city: City, case_id: int, action: Action, role: Role, **extra: Any
) -> tuple[int, dict[str, Any]]:
    """POST an action with a valid input as the demo account of a role."""
    body = {"note": NOTE, **INPUT.get(action, {}), **extra}
    return await city.act(case_id, PATHS[action], ACCOUNT[role], **body)


DECIDING = frozenset({Action.VERIFY, Action.REGISTER, Action.REJECT})


def _first(move: Move) -> tuple[Role, CaseStatus]:
    """A role the move lists and a status it starts from, the first of each in declared order."""
    return next(r for r in Role if r in move.roles), next(s for s in S if s in move.sources)


def test_every_action_of_the_table_has_a_route_and_a_walk() -> None:
    assert set(PATHS) == set(TRANSITIONS) == set(WALKS)
    assert all(status in TRANSITIONS[action].alternatives for action, status in PICKED.items())


@pytest.mark.parametrize(("action", "status"), REFUSED_STATUSES)
async def test_an_action_from_a_status_it_does_not_start_from_is_refused(
    quick_city: City, action: Action, status: CaseStatus
) -> None:
    role, _ = _first(TRANSITIONS[action])
    cid = await _case_in(quick_city, status)
    before = await _state(cid)
    answer, err = await _act(quick_city, cid, action, role)
    # Already where the move leads: someone made it first; else the status does not allow it.
    code = "case_changed" if status == TRANSITIONS[action].target else "invalid_transition"
    assert (answer, err.get("code")) == (409, code), err
    assert (err["status"], err["action"]) == (status.value, action.value)
    assert await _state(cid) == before


@pytest.mark.parametrize(("action", "role"), REFUSED_ROLES)
async def test_a_role_the_action_does_not_list_is_refused(
    quick_city: City, action: Action, role: Role
) -> None:
    _, status = _first(TRANSITIONS[action])
    cid = await _case_in(quick_city, status)
    before = await _state(cid)
    answer, err = await _act(quick_city, cid, action, role)
    assert (answer, err.get("code")) == (403, "role_forbidden"), err
    assert await _state(cid) == before


@pytest.mark.parametrize(("action", "role"), ALLOWED_ROLES)
async def test_a_role_the_action_lists_makes_the_move(
    quick_city: City, action: Action, role: Role
) -> None:
    move, walk = TRANSITIONS[action], WALKS[action]
    cid = await _report(quick_city, walk.report)
    if walk.status is not None:
        await Case.filter(id=cid).update(status=walk.status)
    for step, by in walk.steps:
        answer, out = await _act(quick_city, cid, step, by)
        assert answer == 200, (step, out)
    status, version, events = await _state(cid)
    assert status in move.sources
    extra: dict[str, Any] = {}
    if walk.photo:
        extra["attachments"] = [await quick_city.photo(await quick_city.login(ACCOUNT[role]))]

    # Deciding a report nobody 受理'd yet writes its 受理 first: two rows, two versions.
    case = await Case.get(id=cid)
    moves = 2 if action in DECIDING and (case.status, case.stage) == (S.REPORTED, "accept") else 1
    answer, out = await _act(quick_city, cid, action, role, **extra)
    assert answer == 200, out
    expected = PICKED.get(action, move.target or status)
    assert out["status"] == expected
    assert await _state(cid) == (expected, version + moves, events + moves)


# --- refusals and races, told as people meet them --------------------------------------------


async def test_a_role_without_the_action_is_refused(city: City) -> None:
    case = await city.dispatched(1, "路口有垃圾")
    cid = case["id"]
    refused = [
        await city.act(cid, "dispatch", "acceptor"),
        await city.act(cid, "close", "handler_hw", note="已处理"),
        await city.act(cid, "register", await city.citizen()),
        await city.act(cid, "urge", "inspector1", note="快"),
    ]
    assert codes(refused) == [(403, "role_forbidden")] * 4
    assert all("角色无权" in body["message"] for _, body in refused)
    assert await actions(cid) == ["report", "register", "dispatch"]


async def test_an_action_from_the_wrong_status_names_the_status(city: City) -> None:
    case = await city.dispatched(3, "垃圾")
    status, err = await city.act(case["id"], "close", "acceptor")
    assert (status, err["code"]) == (409, "invalid_transition")
    assert err["message"] == "案件当前状态为“处置中”，不能结案"
    assert (err["status"], err["action"]) == ("dispatched", "close")
    # Resuming a case that runs already: someone resumed it first.
    status, err = await city.act(case["id"], "resume", "shift_lead")
    assert (status, err["code"]) == (409, "case_changed")
    assert err["message"] == "案件已被他人处理（当前状态：处置中），请刷新后查看"


async def test_an_action_on_a_stale_version_is_refused(city: City) -> None:
    cid = await _registered(city)
    seen = (await city.detail(cid))["version"]
    await city.ok(cid, "urge", "shift_lead", note="请尽快派遣")
    status, err = await city.act(cid, "dispatch", "dispatcher", version=seen)
    assert (status, err["code"]) == (409, "case_changed")
    assert (await city.detail(cid))["status"] == "registered"
    fresh = (await city.detail(cid))["version"]
    assert fresh == seen + 1
    out = await city.ok(cid, "dispatch", "dispatcher", version=fresh)
    assert (out["status"], out["version"]) == ("dispatched", fresh + 1)


async def test_two_dispatchers_at_once_dispatch_once(city: City) -> None:
    cid = await _registered(city)
    sz, yl = await city.department("SZ"), await city.department("YL")
    answers = await asyncio.gather(
        city.act(cid, "dispatch", "dispatcher", department_id=sz),
        city.act(cid, "dispatch", "shift_lead", department_id=yl),
    )
    (ok, _), (refused, err) = codes(answers)
    assert (ok, refused) == (200, 409)
    assert err == "case_changed"  # "someone else moved it first", whoever sent a version
    winner = next(body for status, body in answers if status == 200)
    assert (await actions(cid)).count("dispatch") == 1
    assert (await city.detail(cid))["department_id"] == winner["department_id"]
