"""The city profile shown in README.md loads: people copy it."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from cases.const import Source
from cases.policy import load_policy
from core.config import CityProfile

README = Path(__file__).resolve().parents[2] / "README.md"


def _toml_blocks() -> list[str]:
    return re.findall(r"```toml\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_readme_profiles_validate() -> None:
    # The profile's blocks, not the pyproject.toml of "Writing a package" nor the camera file
    # of the vision section (tests/vision/test_service.py loads that one).
    blocks = [b for b in _toml_blocks() if not b.lstrip().startswith(("[project", "[[camera]]"))]
    assert len(blocks) >= 3
    merged: dict[str, Any] = {}
    for block in blocks:
        for key, value in tomllib.loads(block).items():
            both = isinstance(value, dict) and isinstance(merged.get(key), dict)
            merged[key] = {**merged[key], **value} if both else value
    policy = load_policy(CityProfile.model_validate(merged))
    assert policy.workflow.case_number == "{city}{date:%Y%m%d}{id:06d}"
    assert policy.workflow.verify_sources  # the first [workflow] block's keys are kept too
    assert policy.workflow.self_handle == {"E07001", "E06010"}  # 小类 names become codes
    parking = policy.for_category("E09009")
    assert parking.department == "JJ" and parking.reviewed
    assert Source.VIDEO in parking.auto_dispatch
    assert policy.category("E90001") is not None  # the local extension
    assert policy.catalog.name == "gbt47678"
