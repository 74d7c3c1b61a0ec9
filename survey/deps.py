"""What the survey's services need from the running process, held in its runtime."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from tortoise.exceptions import IntegrityError

from core.calendar import WorkCalendar
from core.jobs.registry import RetryAfter
from core.runtime import Runtime, ServiceKey
from survey.config import SurveyConfig, SurveyProfile
from survey.models import SurveyKey
from survey.sms import SmsProvider

KEY_NAME = "answer_links"


@dataclass
class SurveyDeps:
    """The survey's settings, profile section, calendar, SMS provider and link key."""

    config: SurveyConfig
    profile: SurveyProfile
    calendar: WorkCalendar
    sms: SmsProvider
    base_url: str  # where citizens' phones reach this server
    key: bytes | None = None  # set at setup (from the settings, or the database)

    def signing_key(self) -> bytes:
        """The key of the answer links (known once the process has started)."""
        if self.key is None:
            raise RuntimeError("the survey key is read at start-up (survey setup)")
        return self.key

    def answer_url(self, token: str) -> str:
        """The answer page of a token."""
        return f"{self.base_url}/survey/{token}"


SURVEY: ServiceKey[SurveyDeps] = ServiceKey("survey.deps", SurveyDeps)


def survey_of(runtime: Runtime) -> SurveyDeps:
    """The survey's deps; a job in a process where survey is off waits."""
    if SURVEY not in runtime:
        raise RetryAfter(600, "survey is not enabled in this process", counts=False)
    return runtime[SURVEY]


async def load_key(deps: SurveyDeps) -> None:
    """Use CITYLOOP_SURVEY_SECRET, else the key kept in the database (made once)."""
    if deps.config.secret is not None:
        deps.key = deps.config.secret.get_secret_value().encode()
        return
    row = await SurveyKey.get_or_none(name=KEY_NAME)
    if row is None:
        try:
            row = await SurveyKey.create(name=KEY_NAME, value=secrets.token_urlsafe(48))
        except IntegrityError:  # another process made it first
            row = await SurveyKey.get(name=KEY_NAME)
    deps.key = row.value.encode()
