"""The camera registry's checks: the camera file shown in README.md passes them (people copy
it), and a shape error inside a file is named by its place in the file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from core.errors import ValidationFailed
from tests.vision.conftest import Rig
from vision import service

README = Path(__file__).resolve().parents[2] / "README.md"


def _camera_blocks() -> list[str]:
    blocks = re.findall(r"```toml\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    return [b for b in blocks if b.lstrip().startswith("[[camera]]")]


async def test_the_readme_camera_file_is_accepted(rig: Rig) -> None:
    (block,) = _camera_blocks()
    file = service.read_file(rig.runtime, block)
    (camera,) = file.camera
    assert camera.code == "jfl-rml-01" and camera.source_kind == "stream"
    assert camera.zones[0].rules[0].category_code == "E09009"


async def test_a_shape_error_in_a_file_is_named_by_its_place(rig: Rig) -> None:
    (block,) = _camera_blocks()
    with pytest.raises(ValidationFailed) as err:
        service.read_file(rig.runtime, block.replace("interval_s = 5", "interval_s = 0"))
    assert err.value.extra["fields"][0]["field"] == "camera.0.interval_s"
