"""The public names of the case core (cases/__init__.py): what a channel may use, and only that."""

from __future__ import annotations

import pkgutil
import tomllib
from pathlib import Path

import pytest

import cases
from cases import Action, allowed_actions, case_view, citizen_viewer, deps_of
from cases.models import Case
from core.auth.service import Principal
from core.errors import NotFound
from tests.cases.helpers import City

ROOT = Path(__file__).resolve().parents[2]


def test_every_module_behind_the_public_names_is_forbidden_to_outer_packages() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    public = next(c for c in contracts if "public names of cases" in c["name"])
    modules = {f"cases.{m.name}" for m in pkgutil.iter_modules(cases.__path__)}
    assert set(public["forbidden_modules"]) == modules - {"cases.data"}
    assert set(public["source_modules"]) == {"channels", "vision", "hotline", "survey"}


def test_every_public_name_exists_and_says_what_it_is() -> None:
    source = (ROOT / "cases" / "__init__.py").read_text(encoding="utf-8")
    for name in cases.__all__:
        assert hasattr(cases, name), name
        line = next(x for x in source.splitlines() if x.strip().startswith(f'"{name}"'))
        assert "#" in line, f"{name} has no one-line description in __all__"


async def test_a_citizen_and_the_centre_see_the_same_case_differently(city: City) -> None:
    who = await city.citizen()
    _, out = await city.report(who, await city.point(1), "路边垃圾堆了三天")
    case_id = out["case"]["id"]
    await city.ok(case_id, "register", "acceptor", category_code="E06010", note="内部：已电话核实")
    deps = deps_of(city.client.app)
    mine = await case_view(case_id, viewer=citizen_viewer(await city.citizen_id()), deps=deps)
    assert (mine.status, mine.status_name, mine.light) == ("registered", "待派遣", "green")
    assert [(t.action_name, t.status_name) for t in mine.timeline] == [
        ("上报", "待受理"),
        ("受理", "待受理"),
        ("立案", "待派遣"),
    ]
    assert all("内部" not in t.note for t in mine.timeline)  # staff notes stay inside
    centre = await case_view(case_id, viewer=None, deps=deps)  # a job's view: the centre's
    assert centre.timeline[-1].note == "内部：已电话核实"
    stranger = citizen_viewer(999_999)  # someone who did not report it
    with pytest.raises(NotFound):
        await case_view(case_id, viewer=stranger, deps=deps)
    assert centre.deadline_at is not None and mine.deadline_at == centre.deadline_at


async def test_allowed_actions_follow_the_table_and_the_roles(city: City) -> None:
    case = await Case.get(id=(await city.dispatched(1, "垃圾堆放"))["id"])
    handler = Principal(kind="staff", id=1, name="", roles=frozenset({"handler"}))
    assert set(allowed_actions(case, handler)) == {
        Action.RECEIVE,
        Action.RETURN,
        Action.EXTEND,
        Action.HANDLE,
        Action.SUSPEND,
    }
    citizen = Principal(kind="citizen", id=1, name="")
    assert allowed_actions(case, citizen) == []
