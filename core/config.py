"""Settings from the environment (CITYLOOP_*) and the city profile from an optional TOML file."""

from __future__ import annotations

import datetime as dt
import difflib
import ipaddress
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.const import ENV_PREFIX
from core.errors import ConfigError

HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
# Environment variables under our prefix that belong to the test suite, not to the server.
_NOT_SETTINGS = ("CITYLOOP_TEST_",)


class CityProfile(BaseModel):
    """What differs between cities: read from the TOML file named by CITYLOOP_CITY_PROFILE."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(
        "330100", description="行政区划代码 of the city or district, 6 digits (GB/T 2260)"
    )
    name: str = Field("示范市", description="city name as shown to people")
    center: tuple[float, float] = Field(
        (120.1551, 30.2741), description="WGS-84 lon, lat of the city centre (demo data, maps)"
    )
    working_periods: tuple[tuple[str, str], ...] = Field(
        (("08:00", "12:00"), ("14:00", "18:00")),
        description="working periods of a working day, 'HH:MM' pairs in local time",
    )
    extra_holidays: tuple[dt.date, ...] = Field(
        (), description="days off beyond the statutory calendar (or for years it does not cover)"
    )
    extra_workdays: tuple[dt.date, ...] = Field(
        (), description="调休 working days beyond the statutory calendar"
    )
    catalog: Literal["gbt47678", "gbt30428"] = Field(
        "gbt47678",
        description="category catalog: GB/T 47678.5-2026 or the legacy GB/T 30428.2 / CJ/T 214",
    )

    # The case core (cases/policy.py) validates these; core keeps them as data.
    categories: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="per category (code or 小类 name): department, limits, auto 立案/派遣, dedupe…",
    )
    extensions: tuple[dict[str, Any], ...] = Field(
        (), description="local 扩展部件/事件: code, kind, major_name, minor_name"
    )
    workflow: dict[str, Any] = Field(
        default_factory=dict,
        description="stage limits, 核实/核查 task settings, who hears of which move, numbering",
    )
    channels: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="per channel (wechat_oa…): its city data, e.g. template ids; the channel "
        "validates its own section",
    )
    survey: dict[str, Any] = Field(
        default_factory=dict,
        description="satisfaction callbacks (回访): when to ask, reminders, expiry, quiet hours, "
        "the questions; the survey package validates it",
    )
    hooks: dict[str, str] = Field(
        default_factory=dict,
        description="named hooks of the case core (cases/hooks.py): name → 'module:attribute'",
    )

    @field_validator("code")
    @classmethod
    def _six_digits(cls, value: str) -> str:
        if not re.fullmatch(r"\d{6}", value):
            raise ValueError("must be a 6-digit 行政区划代码")
        return value

    @field_validator("working_periods")
    @classmethod
    def _periods(cls, value: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
        if not value:
            raise ValueError("at least one working period is needed")
        last = "00:00"
        for start, end in value:
            if not (HHMM.match(start) and HHMM.match(end)):
                raise ValueError(f"'{start}'–'{end}' is not 'HH:MM'–'HH:MM'")
            if not last <= start < end:
                raise ValueError("periods must be ordered, non-overlapping and start before end")
            last = end
        return value


class Settings(BaseSettings):
    """Process settings; every field can be set as CITYLOOP_<NAME>."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", frozen=True)

    database_url: str = Field(
        "sqlite://./var/cityloop.sqlite3",
        description="tortoise URL: sqlite://PATH or postgres://user:pass@host:port/db",
    )
    redis_url: SecretStr | None = Field(
        None, description="redis://host:port/db; unset: jobs run inside the web process"
    )
    host: str = Field("127.0.0.1", description="address `cityloop serve` listens on")
    port: int = Field(8080, ge=1, le=65535, description="port `cityloop serve` listens on")
    media_dir: Path = Field(Path("./var/media"), description="where uploaded files are kept")
    database_pool_size: int = Field(
        16,
        ge=1,
        le=200,
        description="PostgreSQL connections each process may hold (`serve --workers N`: N times "
        "this, and each worker as many); a URL's own ?maxsize= wins",
    )
    event_loop: Literal["uvloop", "asyncio"] = Field(
        "uvloop",
        description="the server's event loop: uvloop (libuv; a tenth less CPU per request) or "
        "Python's own asyncio (where uvloop is not installed, as on Windows)",
    )
    city_profile: Path | None = Field(None, description="TOML file with the city profile")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="log level")
    log_format: Literal["json", "text"] = Field("json", description="one JSON object per line")
    token_ttl_hours: int = Field(12, ge=1, le=24 * 90, description="bearer token lifetime")
    password_time_cost: int = Field(3, ge=1, le=10, description="argon2id passes per hash")
    password_memory_kib: int = Field(
        65536, ge=1024, description="argon2id memory per hash (KiB); lower only for tests"
    )
    password_min_length: int = Field(
        10, ge=10, le=128, description="shortest password a person may choose (never the username)"
    )
    audit_retention_days: int = Field(
        365, ge=180, description="how long audit rows are kept (等保 asks for at least 6 months)"
    )
    login_max_failures: int = Field(
        5, ge=1, description="tries at one username from one address before it waits"
    )
    login_lock_minutes: int = Field(
        15, ge=1, description="the window of both login throttles, and how long they hold"
    )
    login_address_max_failures: int = Field(
        30, ge=1, description="failed logins from one client address (any username) per window"
    )
    password_workers: int = Field(
        2, ge=1, le=32, description="threads hashing passwords (argon2id), apart from all else"
    )
    password_max_waiting: int = Field(
        64, ge=1, description="password checks queued beyond these answer 503 login_busy"
    )
    trusted_proxies: tuple[str, ...] = Field(
        ("127.0.0.1/32", "::1/128"),
        description="proxies whose X-Forwarded-For names the client (CIDR list)",
    )
    upload_max_bytes: int = Field(10 * 1024 * 1024, ge=1024, description="largest upload")
    upload_max_pixels: int = Field(
        40_000_000, ge=10_000, description="largest image, width × height (decompression bombs)"
    )
    upload_max_pixels_citizen: int = Field(
        25_000_000,
        ge=10_000,
        description="largest image a citizen may send (phones: 12-24 megapixels; WeChat less)",
    )
    image_workers: int = Field(
        2, ge=1, le=32, description="threads decoding images at once (bounds decode memory)"
    )
    job_timeout_s: int = Field(60, ge=1, description="longest a job may run")
    job_max_attempts: int = Field(
        10, ge=1, le=100, description="attempts of an outbox row before it is marked failed"
    )
    job_retry_base_s: float = Field(
        5, gt=0, le=3600, description="first retry wait; it doubles per attempt, at most 1 h"
    )
    outbox_sweep_s: int = Field(
        30, ge=1, description="how often unfinished outbox rows are re-queued"
    )
    outbox_stale_s: int = Field(
        60, ge=1, description="an outbox row this old and not done is queued again by the sweeper"
    )
    queue_name: str = Field("cityloop:queue", description="arq queue name in Redis")
    job_modules: tuple[str, ...] = Field(
        (), description="extra modules whose @job handlers the worker loads (plug-ins)"
    )
    disabled_packages: tuple[str, ...] = Field(
        (), description="installed packages to turn off: they mount and run nothing"
    )
    demo: bool = Field(False, description="seeded demo city; set by `cityloop serve --demo`")
    profile: CityProfile = Field(
        default_factory=CityProfile, description="loaded from city_profile; not an env var"
    )
    package_configs: dict[str, BaseSettings] = Field(
        default_factory=dict,
        description="each package's own settings (CITYLOOP_<PACKAGE>_*); not an env var",
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError as err:
                raise ValueError(f"{item!r} is not an address or CIDR network") from err
        return value

    @property
    def redis_dsn(self) -> str | None:
        return self.redis_url.get_secret_value() if self.redis_url else None


# Fields filled in by load_settings, not read from the environment.
_NOT_ENV = frozenset({"profile", "package_configs"})


def _unknown_env(environ: Mapping[str, str], package_env: set[str]) -> list[str]:
    known = {ENV_PREFIX + name.upper() for name in Settings.model_fields if name not in _NOT_ENV}
    known |= package_env
    problems = []
    for key in environ:
        if key.startswith(ENV_PREFIX) and key not in known and not key.startswith(_NOT_SETTINGS):
            hint = difflib.get_close_matches(key, known, n=1)
            problems.append(
                f"{key}: unknown setting" + (f" (did you mean {hint[0]}?)" if hint else "")
            )
    return problems


def format_errors(err: ValidationError, where: str, *, prefix: str = ENV_PREFIX) -> list[str]:
    """One line per problem: the environment variable (where="env") or `where: field`."""
    lines = []
    for item in err.errors():
        loc = ".".join(str(p) for p in item["loc"])
        name = (prefix + loc).upper() if where == "env" else f"{where}: {loc}"
        got = item.get("input")
        shown = "" if isinstance(got, dict) or got is None else f" (got {got!r})"
        lines.append(f"{name}: {item['msg']}{shown}")
    return lines


def load_profile(path: Path) -> CityProfile:
    """Read and validate a city profile TOML file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise ConfigError(f"CITYLOOP_CITY_PROFILE: file not found: {path}") from err
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ConfigError(f"CITYLOOP_CITY_PROFILE: {path} is not valid TOML: {err}") from err
    try:
        return CityProfile.model_validate(data)
    except ValidationError as err:
        raise ConfigError("\n".join(format_errors(err, f"city profile {path}"))) from err


def load_settings(**overrides: Any) -> Settings:
    """Build Settings from the environment; raise ConfigError naming each bad setting."""
    from core import packages

    problems = _unknown_env(os.environ, packages.env_names())
    if problems:
        raise ConfigError("\n".join(problems))
    try:
        settings = Settings(**overrides)
    except ValidationError as err:
        raise ConfigError("\n".join(format_errors(err, "env"))) from err
    unknown = packages.check_names(settings.disabled_packages)
    if unknown:
        raise ConfigError("CITYLOOP_DISABLED_PACKAGES: " + "; ".join(unknown))
    update: dict[str, Any] = {"package_configs": packages.load_configs()}
    if settings.city_profile is not None:
        update["profile"] = load_profile(settings.city_profile)
    return settings.model_copy(update=update)
