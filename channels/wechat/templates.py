"""Template messages' fields, as a city's profile words them (shared by both WeChat channels)."""

from __future__ import annotations

import string
from typing import Final

from pydantic import BaseModel, ConfigDict, Field, field_validator
from tortoise import timezone

from cases import ACTION_NAMES, STATUS_NAMES, CaseView, ReporterNotice
from core.messaging import Invitation, Purpose
from core.timeutil import to_local

# What a template field's text may name (the channels fill them in).
TEMPLATE_VARIABLES: Final = frozenset(
    {"number", "status", "action", "category", "address", "time", "text", "city", "description"}
)
# WeChat's limits on a template field's value, by the field's kind (its name's prefix).
FIELD_LIMITS: Final = {"thing": 20, "character_string": 32, "phrase": 5, "number": 32, "letter": 32}


class Template(BaseModel):
    """One template message: its id on the account and what each of its fields says."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    template_id: str = Field(min_length=1, max_length=128)
    data: dict[str, str] = Field(
        description="template field → text with {number}, {status}, {category}, {time}…"
    )

    @field_validator("data")
    @classmethod
    def _variables(cls, value: dict[str, str]) -> dict[str, str]:
        for key, text in value.items():
            names = {n for _, n, _, _ in string.Formatter().parse(text) if n is not None}
            unknown = names - TEMPLATE_VARIABLES
            if unknown:
                raise ValueError(
                    f"{key}: unknown variable(s) {sorted(unknown)}; "
                    f"known: {sorted(TEMPLATE_VARIABLES)}"
                )
        return value

    def filled(self, values: dict[str, str]) -> dict[str, str]:
        """Each field's text with the values, cut to what WeChat accepts for its kind."""
        return {key: fit(key, text.format(**values)) for key, text in self.data.items()}


def fit(key: str, value: str) -> str:
    """Cut a value to what WeChat accepts for its field kind (thing ≤ 20 characters…)."""
    limit = FIELD_LIMITS.get(key.rstrip("0123456789"), 200)
    return value if len(value) <= limit else value[: limit - 1] + "…"


def notice_values(view: CaseView, notice: ReporterNotice, *, city: str) -> dict[str, str]:
    """What a template's fields may name, for one notice of one case."""
    return {
        "number": view.number or str(view.id),
        # The status the move led to: the case may have moved on by the time this runs.
        "status": STATUS_NAMES[notice.status],
        "action": ACTION_NAMES[notice.action],
        "category": view.category_name or "待确定",
        "address": view.address or "—",
        "time": f"{to_local(timezone.now()):%Y-%m-%d %H:%M}",
        "text": notice.text or "",
        "city": city,
        "description": view.description,
    }


# A channel's template of each invitation purpose; a reminder without one uses the survey's.
PURPOSE_FALLBACK: Final = {Purpose.SURVEY_REMINDER: Purpose.SURVEY}


def invitation_values(invitation: Invitation, *, city: str) -> dict[str, str]:
    """What a template's fields may name, for an invitation (a 回访 and its reminder)."""
    return {
        "number": invitation.number,
        "status": "已办结",
        "action": invitation.title,
        "category": "",
        "address": "",
        "time": f"{to_local(timezone.now()):%Y-%m-%d %H:%M}",
        "text": invitation.text,
        "city": city,
        "description": "",
    }
