"""The city profile shown in README.md loads: people copy it."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from cases.const import Source
from cases.policy import load_policy
from core.config import CityProfile

README = Path(__file__).resolve().parents[2] / "README.md"


def _toml_blocks() -> list[str]:
    return re.findall(r"```toml\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_readme_profiles_validate() -> None:
    blocks = _toml_blocks()
    assert len(blocks) >= 2
    merged: dict[str, object] = {}
    for block in blocks:
        merged |= tomllib.loads(block)
    policy = load_policy(CityProfile.model_validate(merged))
    parking = policy.for_category("E09009")
    assert parking.department == "JJ" and parking.reviewed
    assert Source.VIDEO in parking.auto_dispatch
    assert policy.category("E90001") is not None  # the local extension
    assert policy.catalog.name == "gbt47678"
