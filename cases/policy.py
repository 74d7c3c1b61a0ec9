"""The city's rules per category and for the workflow, validated from the city profile."""

from __future__ import annotations

import datetime as dt
import logging
import tomllib
from importlib.resources import files
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from cases.catalog import Catalog, Category, load_catalog
from cases.const import Action, Source, Stage, Urgency
from core.calendar import TimeUnit
from core.config import CityProfile
from core.errors import ConfigError

log = logging.getLogger(__name__)


class Limit(BaseModel):
    """A time limit: an amount in a unit (工作时, 工作日, 小时, 天)."""

    model_config = ConfigDict(frozen=True)

    amount: float = Field(gt=0)
    unit: TimeUnit

    @model_validator(mode="before")
    @classmethod
    def _pair(cls, value: Any) -> Any:
        # TOML writes a limit as [amount, "unit"]: take it as {amount, unit}.
        if isinstance(value, list | tuple) and len(value) == 2:
            return {"amount": value[0], "unit": value[1]}
        return value


class CategoryPolicy(BaseModel):
    """What a city decides for one category."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    department: str | None = Field(None, description="code of the owning department")
    register_condition: str = Field("", description="立案条件")
    close_condition: str = Field("", description="结案条件")
    limits: dict[Urgency, Limit] = Field(default_factory=dict, description="处置时限 per class")
    auto_register: frozenset[Source] = Field(frozenset(), description="自动立案 for these sources")
    auto_dispatch: frozenset[Source] = Field(frozenset(), description="自动派遣 for these sources")
    duplicate_radius_m: float = Field(30, ge=0, description="merge reports this close…")
    duplicate_window_h: float = Field(24, ge=0, description="…and this recent")
    keywords: tuple[str, ...] = Field((), description="words that suggest this category")
    reviewed: bool = Field(False, description="false: a demo default the city has not reviewed")


class Workflow(BaseModel):
    """Stage limits and inspector task settings."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    verify_sources: frozenset[Source] = Field(
        frozenset({Source.WECHAT_OA, Source.WECHAT_MP, Source.WEB}),
        description="public sources whose reports go to 核实 once 受理'd (when they have a place)",
    )
    auto_accept: frozenset[Source] = Field(
        frozenset(),
        description="sources whose reports the system accepts at intake (自动受理; the timeline "
        "names the system); default none: a person 受理s every report (GB/T 30428.8)",
    )
    check_after_handle: bool = Field(True, description="a 核查 task after every 处置")
    self_handle: frozenset[str] = Field(
        # Demo defaults, to review like the categories': the two problems inspectors most
        # often clear themselves (tearing down a 小广告, picking up a little litter).
        frozenset({"非法小广告", "暴露垃圾"}),
        description="categories (codes or 小类 names) an inspector may 自行处置: fix on the "
        "spot what they reported and close it with after-photos",
    )
    self_handle_review: bool = Field(
        True,
        description="a 自行处置 waits in 待结案 for the centre's 结案; false: the system closes it",
    )
    task_minutes: int = Field(30, ge=1, description="deadline of 核实/核查 tasks, in task_unit")
    task_unit: TimeUnit = Field(
        TimeUnit.WORK_HOUR,
        description="work_hour: the minutes count in working periods (an inspector's day); "
        "hour: on the wall clock",
    )
    stage_limits: dict[Stage, Limit] = Field(
        default_factory=lambda: {
            Stage.ACCEPT: Limit(amount=1, unit=TimeUnit.WORK_HOUR),
            Stage.REGISTER: Limit(amount=1, unit=TimeUnit.WORK_HOUR),
            Stage.DISPATCH: Limit(amount=1, unit=TimeUnit.WORK_HOUR),
        },
        description="受理, 立案, 派遣, 结案 limits (核实/核查: task_minutes, 处置: the category)",
    )
    default_limits: dict[Urgency, Limit] = Field(
        default_factory=lambda: {
            Urgency.A: Limit(amount=2, unit=TimeUnit.HOUR),
            Urgency.B: Limit(amount=1, unit=TimeUnit.WORK_DAY),
            Urgency.C: Limit(amount=3, unit=TimeUnit.WORK_DAY),
        },
        description="处置时限 for categories without their own",
    )
    case_number: str = Field(
        "{date:%Y%m%d}{id:08d}",
        description="案件编号: a format with {date} (local), {id} (row id), {city} (行政区划代码)",
    )
    told_reporter: frozenset[Action] = Field(
        frozenset(
            {
                Action.ACCEPT,
                Action.REGISTER,
                Action.REJECT,
                Action.DISPATCH,
                Action.HANDLE,
                Action.CLOSE,
                Action.CANCEL,
                Action.REOPEN,
            }
        ),
        description="moves a citizen reporter hears of through their own channel",
    )
    told_department: frozenset[Action] = Field(
        frozenset({Action.DISPATCH, Action.REWORK, Action.REOPEN, Action.RESUME, Action.URGE}),
        description="moves the case's department hears of (new or returning work, 督办)",
    )
    citizen_sees: frozenset[Action] = Field(
        frozenset(
            {
                Action.REPORT,
                Action.DUPLICATE,
                Action.ACCEPT,
                Action.VERIFY,
                Action.REGISTER,
                Action.REJECT,
                Action.DISPATCH,
                Action.HANDLE,
                Action.REWORK,
                Action.CLOSE,
                Action.CANCEL,
                Action.REOPEN,
            }
        ),
        description="moves shown on a citizen's timeline (without staff notes)",
    )

    @field_validator("task_unit")
    @classmethod
    def _task_unit(cls, value: TimeUnit) -> TimeUnit:
        if value not in (TimeUnit.WORK_HOUR, TimeUnit.HOUR):
            raise ValueError("work_hour or hour (a task's limit is minutes)")
        return value

    @field_validator("case_number")
    @classmethod
    def _number_format(cls, value: str) -> str:
        try:
            sample = value.format(date=dt.date(2026, 12, 31), id=123, city="330100")
        except (KeyError, IndexError, ValueError) as err:
            raise ValueError(f"not a format of date, id and city: {err}") from err
        if "{id" not in value or not 1 <= len(sample) <= 24:
            raise ValueError("must contain {id} and give at most 24 characters")
        return value

    def number(self, *, case_id: int, local_date: dt.date, city: str) -> str:
        """The case number of a new case."""
        return self.case_number.format(date=local_date, id=case_id, city=city)


class CasePolicy:
    """The catalog the city chose, its extensions, and the rules per category."""

    def __init__(
        self,
        catalog: Catalog,
        categories: dict[str, CategoryPolicy],
        workflow: Workflow,
        *,
        city_code: str = "330100",
    ) -> None:
        self.city_code = city_code
        self.catalog = catalog
        self.categories = categories
        self.workflow = workflow
        self._default = CategoryPolicy()

    def category(self, code: str) -> Category | None:
        """Return a category of the chosen catalog (or a local extension)."""
        return self.catalog.get(code)

    def for_category(self, code: str) -> CategoryPolicy:
        """Return the city's rules for a category (empty rules where it set none)."""
        return self.categories.get(code, self._default)

    def handle_limit(self, code: str, urgency: Urgency) -> Limit:
        """Return the 处置 limit of a category in a class."""
        own = self.for_category(code).limits.get(urgency)
        if own is not None:
            return own
        cat = self.catalog.get(code)
        if urgency == Urgency.B and cat and cat.limit_amount and cat.limit_unit:
            return Limit(amount=cat.limit_amount, unit=cat.limit_unit)
        return self.workflow.default_limits[urgency]

    def suggest(self, text: str) -> Category | None:
        """Suggest a category from free text: the longest matching keyword wins."""
        best: tuple[int, str] | None = None
        for code, rules in self.categories.items():
            for word in rules.keywords:
                if word and word in text and (best is None or len(word) > best[0]):
                    best = (len(word), code)
        return self.catalog.get(best[1]) if best else None

    def unreviewed(self) -> list[str]:
        """List the categories still on demo defaults."""
        return sorted(code for code, rules in self.categories.items() if not rules.reviewed)


def load_policy(profile: CityProfile) -> CasePolicy:
    """Validate the profile's categories and workflow against the chosen catalog."""
    catalog = _with_extensions(load_catalog(profile.catalog), profile.extensions)
    own = bool(profile.categories)
    raw = profile.categories if own else _defaults()
    categories: dict[str, CategoryPolicy] = {}
    for key, section in raw.items():
        category = catalog.resolve(key)
        if category is None:
            if own:
                raise ConfigError(
                    f"city profile: categories.{key}: "
                    f"not a code or a unique 小类 name of the {catalog.name} catalog"
                )
            continue  # a demo default for a category the chosen catalog does not have
        categories[category.code] = _validated(f"categories.{key}", section)
    try:
        workflow = Workflow.model_validate(profile.workflow)
    except ValidationError as err:
        raise ConfigError(_problems("workflow", err)) from err
    workflow = _self_handled(workflow, catalog, own="self_handle" in profile.workflow)
    policy = CasePolicy(catalog, categories, workflow, city_code=profile.code)
    unreviewed = tuple(policy.unreviewed())
    if unreviewed and unreviewed not in _WARNED:
        # Once per process: the web app, the demo seeder and the CLI each load the policy.
        _WARNED.add(unreviewed)
        log.warning(
            "%d categories use demo defaults a city must review: %s",
            len(unreviewed),
            ", ".join(unreviewed),
        )
    return policy


_WARNED: set[tuple[str, ...]] = set()


def _self_handled(workflow: Workflow, catalog: Catalog, *, own: bool) -> Workflow:
    """workflow.self_handle as codes: each a code or a unique 小类 name of the catalog (a
    demo default the chosen catalog lacks is left out)."""
    codes = set()
    for key in sorted(workflow.self_handle):
        category = catalog.resolve(key)
        if category is None and not own:
            continue
        if category is None:
            raise ConfigError(
                f"city profile: workflow.self_handle: {key!r} is not a code or a unique 小类 "
                f"name of the {catalog.name} catalog"
            )
        codes.add(category.code)
    return workflow.model_copy(update={"self_handle": frozenset(codes)})


def _validated(where: str, section: dict[str, Any]) -> CategoryPolicy:
    try:
        return CategoryPolicy.model_validate(section)
    except ValidationError as err:
        raise ConfigError(_problems(where, err)) from err


def _problems(where: str, err: ValidationError) -> str:
    return "\n".join(
        f"city profile: {where}.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
        for e in err.errors()
    )


def _defaults() -> dict[str, dict[str, Any]]:
    text = files("cases").joinpath("data/default_policy.toml").read_text(encoding="utf-8")
    categories: dict[str, dict[str, Any]] = tomllib.loads(text)["categories"]
    return categories


def _with_extensions(catalog: Catalog, extensions: tuple[dict[str, Any], ...]) -> Catalog:
    if not extensions:
        return catalog
    extra = []
    for i, ext in enumerate(extensions):
        try:
            kind = ext["kind"]
            extra.append(
                Category(
                    catalog=catalog.name,
                    code=str(ext["code"]),
                    kind=kind,
                    major_code=str(ext.get("major_code", "90")),
                    major_name=str(ext.get("major_name", "扩展")),
                    minor_code=str(ext.get("minor_code", ext["code"])),
                    minor_name=str(ext["minor_name"]),
                    typical_department=str(ext.get("department", "")),
                    limit_amount=None,
                    limit_unit=None,
                    source="city profile extension (扩展部件/事件)",
                )
            )
        except KeyError as err:
            raise ConfigError(f"city profile: extensions[{i}]: missing {err}") from err
        if kind not in {"component", "event"} or catalog.get(str(ext["code"])):
            raise ConfigError(
                f"city profile: extensions[{i}]: kind must be component or event and "
                "the code must be new"
            )
    return Catalog(catalog.name, [*catalog, *extra])
