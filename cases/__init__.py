"""The case core (指挥协调): one door in, the 立案→结案 state machine, dispatch and SLA clocks.

Other packages (channels, hotline, survey, vision, a city's plug-ins) use only the names
below; the import contract in pyproject.toml forbids them the modules behind these names.
"""

from cases.const import (
    ACTION_NAMES,
    SOURCE_NAMES,
    STATUS_NAMES,
    Action,
    CaseStatus,
    Source,
    Urgency,
)
from cases.deps import DEPS as _DEPS
from cases.deps import Deps, deps_of, offer_hook
from cases.deps import configure as _configure_deps
from cases.errors import CaseChanged, InvalidTransition
from cases.events import event_name, on
from cases.intake import IntakeResult, source_of, submit
from cases.lists import page as case_page
from cases.public import citizen_reporters, open_near
from cases.schemas import (
    ActionIn,
    CaseEventPayload,
    CaseOut,
    CasePage,
    CaseQuery,
    CaseReporter,
    CaseView,
    DecisionIn,
    DispatchIn,
    ExtendIn,
    IntakeDraft,
    Location,
    MessageIn,
    NearbyCase,
    NoteIn,
    RegisterIn,
    Reporter,
    ReporterNotice,
    ResultIn,
    StaffNotice,
    TaskList,
    TaskOut,
    TaskQuery,
)
from cases.service import case_brief, case_view, citizen_viewer, sees_photo
from cases.states import TRANSITIONS, allowed_actions, transition
from cases.states import apply_in_transaction as transition_in_transaction
from cases.tasklist import page as task_page
from cases.tasklist import task_of
from core.media.access import add_media_access
from core.packages import Package
from core.runtime import Runtime


def _configure(runtime: Runtime) -> None:
    _configure_deps(runtime)
    add_media_access(runtime, sees_photo)


async def _setup(runtime: Runtime) -> None:
    # The profile's category rules seed an empty table; from then on the table is the truth.
    from cases.rules.service import seed

    deps = runtime[_DEPS]
    await seed(deps.policy)
    await deps.rules.fresh(deps.policy)


PACKAGE = Package(
    name="cases",
    title="案件核心（受理、立案、派遣、处置、核查、结案）",
    routes=("cases.views", "cases.rules.views"),
    jobs=("cases.jobs", "cases.notices"),
    models=("cases.models",),
    demo=("cases.demo",),
    history="cases.events:past_events",
    holds="cases.usage:holds",
    configure=_configure,
    setup=_setup,
)


__all__ = [
    "ACTION_NAMES",  # Action → its Chinese name (受理, 立案, …), for wording messages
    "PACKAGE",  # the case core's declaration to the platform (entry point `cases`)
    "SOURCE_NAMES",  # Source → its Chinese name (微信公众号, 热线, …)
    "STATUS_NAMES",  # CaseStatus → its Chinese name (待受理, 处置中, …)
    "TRANSITIONS",  # the state table: per Action its sources, target, roles and input model
    "Action",  # every move of a case (accept, dispatch, close, …)
    "ActionIn",  # the base of every action's input: version, note, attachments
    "CaseChanged",  # 409: the case changed since the version the caller saw
    "CaseEventPayload",  # what a case-event subscriber receives (case.<action>)
    "CaseOut",  # one case in a list (number, status name, light, times)
    "CasePage",  # a page of CaseOut with the total
    "CaseQuery",  # filters, sort and page of a case list
    "CaseReporter",  # a citizen who reported a case (citizen_reporters)
    "CaseStatus",  # the statuses of a case
    "CaseView",  # one case as a citizen or a staff member sees it (case_view)
    "DecisionIn",  # input of extension/suspension approvals: approved
    "Deps",  # what the case services need (policy, calendar, queue, grids, clock, hooks)
    "DispatchIn",  # input of dispatch: department_id, or the rules decide
    "ExtendIn",  # input of extend: amount and unit
    "IntakeDraft",  # what a channel submits through the one door in
    "IntakeResult",  # what submit did: case, report, created, merged
    "InvalidTransition",  # 409: the case's status does not allow this action
    "Location",  # a point with its coordinate system (convert at the edge: we do)
    "MessageIn",  # input of message: the centre's words to the citizen reporters
    "NearbyCase",  # an open problem near a point, as anyone may see it
    "NoteIn",  # input of actions that take only a note and photos
    "RegisterIn",  # input of register: category_code, urgency
    "Reporter",  # a draft's reporter: citizen_id or staff_id
    "ReporterNotice",  # payload of notify.<channel>: a citizen reporter hears of a move
    "ResultIn",  # input of verify_result / check_result: passed
    "Source",  # where a report came from (wechat_oa, wechat_mp, grid_app, hotline, video…)
    "StaffNotice",  # payload of notify.staff: department, inspector or centre hears of a move
    "TaskList",  # a page of open 核实/核查 tasks with their cases (task_page)
    "TaskOut",  # one 核实/核查 task: kind, status, whose, deadline
    "TaskQuery",  # filters of task_page: case, kind, a point to sort by distance
    "Urgency",  # 立案条件 class A/B/C
    "allowed_actions",  # the actions an actor's roles allow from a case's status
    "case_brief",  # one case as the centre lists it (CaseOut), one row read; None: no such case
    "case_page",  # a page of the cases a viewer may see (a citizen: their own reports')
    "case_view",  # read one case as a viewer sees it (None: the centre's view)
    "citizen_reporters",  # the citizens who reported a case, one per report (merged ones too)
    "citizen_viewer",  # the viewer to read a case as for a citizen (a notice's citizen_id)
    "deps_of",  # Deps of a request, app, job context, periodic context or runtime
    "event_name",  # case.<action> of an Action
    "offer_hook",  # a package's default for a named hook (the profile's choice wins)
    "on",  # subscribe a job to case events: @on(Action.CLOSE, name="survey.schedule")
    "open_near",  # open cases near a point, nearest first (NearbyCase)
    "source_of",  # the Source of a report by a caller (their channel, client or role)
    "submit",  # the one door in: IntakeDraft → IntakeResult (idempotent)
    "task_of",  # one task as it stands now (None: no such task)
    "task_page",  # the open tasks a viewer may see, soonest or nearest first
    "transition",  # apply an action with its typed input; the only writer of a status
    "transition_in_transaction",  # the same in the caller's transaction: kick the ids after
]
