"""The declaration of cameras: what its shape alone refuses, and the source kinds."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from vision.config import CameraFile, CameraIn, VisionConfig, read_labels


def declared(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "code": "c1",
        "name": "路口",
        "source": "rtsp://10.0.0.1/1",
        "width": 1920,
        "height": 1080,
        "lon": 120.0,
        "lat": 36.0,
        "zones": [
            {
                "name": "a",
                "points": [[0, 0], [10, 0], [10, 10]],
                "rules": [{"labels": ["car"], "category_code": "E09009"}],
            }
        ],
    }
    body.update(changes)
    return body


@pytest.mark.parametrize(
    ("source", "kind"),
    [
        ("rtsp://admin@10.0.0.1:554/Streaming/Channels/101", "stream"),
        ("http://10.0.0.2/ISAPI/Streaming/channels/1/picture", "snapshot"),
        ("http://10.0.0.3/video.mjpg?resolution=720", "stream"),
        ("https://cdn.example.cn/live/cam.m3u8", "stream"),
        ("/data/videos/0601.mp4", "file"),
    ],
)
def test_the_source_kind_follows_the_source_unless_given(source: str, kind: str) -> None:
    assert CameraIn.model_validate(declared(source=source)).source_kind == kind
    given = CameraIn.model_validate(declared(source=source, kind="file"))
    assert given.source_kind == "file"


def test_shape_errors_are_refused_with_their_field() -> None:
    cases = {
        "code": declared(code="路口1"),
        "zones.0.points": declared(
            zones=[
                {
                    "name": "a",
                    "points": [[0, 0], [1, 1]],
                    "rules": [{"labels": ["car"], "category_code": "E1"}],
                }
            ]
        ),
        "zones.0.rules.0.min_frames": declared(
            zones=[
                {
                    "name": "a",
                    "points": [[0, 0], [9, 0], [9, 9]],
                    "rules": [{"labels": ["car"], "category_code": "E1", "min_frames": 2}],
                }
            ]
        ),
        "interval_s": declared(interval_s=0),
    }
    for field, body in cases.items():
        with pytest.raises(ValidationError) as err:
            CameraIn.model_validate(body)
        assert ".".join(str(p) for p in err.value.errors()[0]["loc"]) == field, field
    two = declared(zones=[declared()["zones"][0], declared()["zones"][0]])
    with pytest.raises(ValidationError, match="zone names repeat"):
        CameraIn.model_validate(two)
    with pytest.raises(ValidationError, match="camera codes repeat: c1"):
        CameraFile.model_validate({"camera": [declared(), declared()]})


def test_settings_name_missing_files_and_coco_is_the_default_labels(tmp_path: Any) -> None:
    with pytest.raises(ValidationError, match="file not found"):
        VisionConfig(labels=tmp_path / "missing.txt")
    # The model is looked for where it is loaded (`vision run`), not by the web process.
    assert VisionConfig(model=tmp_path / "on-the-gpu-box.onnx").model is not None
    labels = read_labels(None)
    assert len(labels) == 80 and labels[:3] == ["person", "bicycle", "car"]
