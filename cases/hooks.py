"""City hooks of the case core, each with its default, documented in one place.

Where data suffices, the hook is data in the city profile (`[workflow]`, validated in
cases/policy.py); where it does not, it is a named hook: a `Protocol` with a default
implementation, replaced in the profile by `[hooks] <name> = "module:attribute"`.

- case number format: `workflow.case_number`, default `"{date:%Y%m%d}{id:08d}"` (the local
  date, then the row id); `{city}` is the 行政区划代码.
- who hears of which move: `workflow.told_reporter` (default 受理, 立案, 不予立案, 派遣, 处置,
  结案, 作废, 重办) and `workflow.told_department` (派遣, 返工, 重办, 恢复, 督办); a task always
  tells its inspector (or the centre, when the grid has none), lateness tells its owner.
- what a citizen sees of the timeline: `workflow.citizen_sees` (default 上报, 合并, 受理, 核实,
  立案, 不予立案, 派遣, 处置, 返工, 结案, 作废, 重办; never staff notes, actors or internal data).
- 受理 is a person's: a new report waits for it (verify, register and reject of a new report
  write it first, naming the same person); `workflow.auto_accept` names sources the system
  accepts at intake (default none).
- which public sources go to 核实 once 受理'd: `workflow.verify_sources` (wechat_oa, wechat_mp,
  web; when the report has a place, hence a grid).
- 自动立案 / 自动派遣 per source: `categories.<code>.auto_register` / `auto_dispatch` (none).
- which inspector gets a 核实/核查 task: the named hook `hooks.inspector`, an
  `InspectorChooser`; default `FirstAssigned`, the grid's first assigned inspector. An
  installed package may offer its own default (`offer_hook`: the field app's nearest
  on-duty inspector); the profile's choice always wins.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Protocol, runtime_checkable

from core.config import CityProfile
from core.errors import ConfigError


@runtime_checkable
class InspectorChooser(Protocol):
    """Pick the inspector for a 核实/核查 task among the grid's assigned inspectors."""

    async def choose(
        self,
        *,
        case_id: int,
        grid_id: int,
        kind: str,
        candidates: Sequence[int],
        location: tuple[float, float] | None = None,
    ) -> int | None:
        """Return a staff id from candidates (in assignment order), or None: unassigned.

        `location` is the case's WGS-84 (lon, lat), when it has one.
        """
        ...


class FirstAssigned:
    """The default: the inspector assigned to the grid first."""

    async def choose(
        self,
        *,
        case_id: int,
        grid_id: int,
        kind: str,
        candidates: Sequence[int],
        location: tuple[float, float] | None = None,
    ) -> int | None:
        """Return the first candidate."""
        return candidates[0] if candidates else None


@dataclass(frozen=True)
class CityHooks:
    """The named hooks in force."""

    inspector: InspectorChooser = field(default_factory=FirstAssigned)


PROTOCOLS: Final[dict[str, type[Any]]] = {"inspector": InspectorChooser}


def checked_hook(name: str, hook: Any, where: str) -> Any:
    """The hook, an instance of its protocol (a class is instantiated); ConfigError if not."""
    protocol = PROTOCOLS.get(name)
    if protocol is None:
        raise ConfigError(f"{where}: unknown hook (known: {', '.join(PROTOCOLS)})")
    hook = hook() if isinstance(hook, type) else hook
    if not isinstance(hook, protocol):
        raise ConfigError(f"{where}: {hook!r} does not implement {protocol.__name__}")
    return hook


def load_hooks(profile: CityProfile) -> CityHooks:
    """Import the hooks the profile names; ConfigError names a bad one."""
    chosen: dict[str, Any] = {}
    for name, path in profile.hooks.items():
        where = f"city profile: hooks.{name}"
        if name not in PROTOCOLS:
            checked_hook(name, None, where)
        module, _, attr = path.partition(":")
        try:
            found = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError, ValueError) as err:
            raise ConfigError(f"{where}: cannot import {path!r}: {err}") from err
        chosen[name] = checked_hook(name, found, where)
    return CityHooks(**chosen)
