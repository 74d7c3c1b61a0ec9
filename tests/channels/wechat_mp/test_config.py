"""The 小程序's settings and profile section (channels/wechat_mp/config.py)."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

import pytest

from channels.wechat_mp.config import MPProfile
from core.cli import main

README = Path(__file__).resolve().parents[3] / "README.md"


def test_the_readme_subscribe_template_validates() -> None:
    blocks = re.findall(r"```toml\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    [section] = [tomllib.loads(b) for b in blocks if "[channels.wechat_mp" in b]
    profile = MPProfile.model_validate(section["channels"]["wechat_mp"])
    template = profile.template_for("close")
    assert template is not None and template.page.format(case_id=7).endswith("id=7")


def test_an_app_id_without_its_secret_stops_the_start(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for key in [k for k in os.environ if k.startswith("CITYLOOP_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("CITYLOOP_WECHAT_MP_APP_ID", "wxmp1")
    assert main(["packages"]) == 2
    assert "CITYLOOP_WECHAT_MP_APP_SECRET: needed with" in capsys.readouterr().err
