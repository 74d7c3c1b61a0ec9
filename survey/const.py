"""Names of the survey package: answers, statuses, job kinds."""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class Answer(StrEnum):
    """The overall answer (and each aspect's): Chinese 12345 practice's three grades."""

    SATISFIED = "satisfied"  # 满意
    BASIC = "basic"  # 基本满意
    UNSATISFIED = "unsatisfied"  # 不满意


ANSWER_NAMES: Final = {
    Answer.SATISFIED: "满意",
    Answer.BASIC: "基本满意",
    Answer.UNSATISFIED: "不满意",
}


class SurveyStatus(StrEnum):
    """Where one reporter's survey stands."""

    SCHEDULED = "scheduled"  # waits for its time (the next working day, 09:00)
    ASKED = "asked"  # sent (or on an agent's callback list); waits for the answer
    ANSWERED = "answered"
    EXPIRED = "expired"  # no answer in time: 未回访, never 满意
    UNREACHABLE = "unreachable"  # no channel reached them: 未回访
    VOIDED = "voided"  # the case was reopened (重办) before the answer


STATUS_NAMES: Final = {
    SurveyStatus.SCHEDULED: "待回访",
    SurveyStatus.ASKED: "回访中",
    SurveyStatus.ANSWERED: "已回访",
    SurveyStatus.EXPIRED: "未回访（超时）",
    SurveyStatus.UNREACHABLE: "未回访（无法联系）",
    SurveyStatus.VOIDED: "已作废（重办）",
}
OPEN_STATUSES: Final = frozenset({SurveyStatus.SCHEDULED, SurveyStatus.ASKED})


class Review(StrEnum):
    """The shift lead's decision on a 不满意."""

    PENDING = "pending"  # in the shift lead's queue
    JUSTIFIED = "justified"  # 重办: the case goes back to its department
    UNJUSTIFIED = "unjustified"  # recorded with the reason, shown to the reporter


class Via(StrEnum):
    """How a survey reached its reporter (a channel's name, or these two)."""

    SMS = "sms"
    CALLBACK = "callback"  # an agent's callback task (回访电话)


class Attempt(StrEnum):
    """What one attempt to reach a reporter did (the audit trail)."""

    SENT = "sent"
    UNREACHABLE = "unreachable"
    NO_ANSWER = "no_answer"  # an agent called and nobody answered
    ANSWERED = "answered"  # an agent called and recorded the answer


# Outbox kinds (jobs.py); the subscribers are survey.schedule and survey.void.
ASK: Final = "survey.ask"  # first ask and every reminder of one survey
EXPIRE: Final = "survey.expire"
TELL_REVIEW: Final = "survey.tell_review"  # a 不满意 not justified: tell the reporter why

TOKEN_VERSION: Final = "1"  # noqa: S105  (the first part of a token, not a secret)
NONCE_BYTES: Final = 16
