"""The case core (指挥协调): one door in, the 立案→结案 state machine, dispatch and SLA clocks.

Other packages use only the names below.
"""

from cases.const import Action, CaseStatus, Source, Urgency
from cases.deps import Deps
from cases.intake import IntakeDraft, IntakeResult, Location, Reporter, submit
from cases.policy import CasePolicy, load_policy
from cases.states import Request, transition

__all__ = [
    "Action",
    "CasePolicy",
    "CaseStatus",
    "Deps",
    "IntakeDraft",
    "IntakeResult",
    "Location",
    "Reporter",
    "Request",
    "Source",
    "Urgency",
    "load_policy",
    "submit",
    "transition",
]
