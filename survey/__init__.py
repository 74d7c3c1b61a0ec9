"""Satisfaction callbacks (回访) after 结案, through the reporter's own channel.

On every 结案 each citizen reporter (merged duplicates' too) gets a survey, asked the next
working day at 09:00 through the channel they reported by (公众号 template message, 小程序
subscribe message), else another channel of theirs, else by phone (an agent's callback task
or an SMS); reminders, expiry and quiet hours as the city's [survey] profile says. 不满意 goes
to the shift lead: justified → 重办, else the reason is kept and told. Figures per department,
category, grid, source and period come from the survey rows.
"""

from __future__ import annotations

from pydantic import ValidationError

from core.config import format_errors
from core.errors import ConfigError
from core.packages import Package, config_of
from core.runtime import Runtime
from survey.config import SurveyConfig, SurveyProfile
from survey.deps import SURVEY, SurveyDeps, load_key
from survey.sms import load_provider

NAME = "survey"


def _configure(runtime: Runtime) -> None:
    """Check the [survey] profile section and the SMS provider; hold them in the runtime."""
    settings = runtime.settings
    config = config_of(settings, NAME, SurveyConfig)
    try:
        profile = SurveyProfile.model_validate(settings.profile.survey)
    except ValidationError as err:
        raise ConfigError("\n".join(format_errors(err, "city profile survey"))) from err
    runtime[SURVEY] = SurveyDeps(
        config=config,
        profile=profile,
        calendar=runtime.calendar,
        sms=load_provider(config),
        base_url=config.public_url or f"http://{settings.host}:{settings.port}",
    )


async def _setup(runtime: Runtime) -> None:
    await load_key(runtime[SURVEY])


PACKAGE = Package(
    name=NAME,
    title="回访（满意度回访、不满意重办、满意率统计）",
    routes=("survey.handlers", "survey.views"),
    jobs=("survey.jobs",),
    models=("survey.models",),
    requires=("cases",),
    config=SurveyConfig,
    configure=_configure,
    setup=_setup,
    demo_hint="回访: a closed case is asked the next working day at 09:00; a profile with "
    "[survey] after_workdays = 0 (CITYLOOP_CITY_PROFILE) asks at once",
)

__all__ = ["PACKAGE", "SURVEY", "SurveyDeps"]
