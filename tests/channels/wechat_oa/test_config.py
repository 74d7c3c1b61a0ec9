"""The 公众号's settings and profile section (channels/wechat_oa/config.py): what an operator
sets, and the one line that says what is wrong."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

import pytest

from channels.wechat_oa.config import OAProfile
from core.cli import main

README = Path(__file__).resolve().parents[3] / "README.md"


def test_the_readme_template_section_validates() -> None:
    blocks = re.findall(r"```toml\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)
    sections = [tomllib.loads(b) for b in blocks if "[channels.wechat_oa" in b]
    assert sections, "README shows the templates of the 公众号"
    profile = OAProfile.model_validate(sections[0]["channels"]["wechat_oa"])
    assert profile.template_for("dispatch") is profile.templates["default"]
    reject = profile.template_for("reject")
    assert reject is not None and reject.data["thing3"] == "{text}"


@pytest.mark.parametrize(
    ("env", "said"),
    [
        ({"CITYLOOP_WECHAT_OA_APP_ID": "wx1"}, "CITYLOOP_WECHAT_OA_APP_SECRET: needed with"),
        (
            {"CITYLOOP_WECHAT_OA_APP_ID": "wx1", "CITYLOOP_WECHAT_OA_AES_KEY": "short"},
            "CITYLOOP_WECHAT_OA_AES_KEY: Value error, EncodingAESKey has 43 characters",
        ),
        ({"CITYLOOP_WECHAT_API_BASE": "api.weixin.qq.com"}, "must start with http://"),
        ({"CITYLOOP_WECHAT_OA_APPID": "wx1"}, "did you mean CITYLOOP_WECHAT_OA_APP_ID?"),
    ],
)
def test_a_bad_setting_stops_the_start_naming_it(
    env: dict[str, str],
    said: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for key in [k for k in os.environ if k.startswith("CITYLOOP_")]:
        monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    assert main(["packages"]) == 2
    assert said in capsys.readouterr().err


def test_a_template_naming_an_unknown_variable_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    profile = tmp_path / "city.toml"
    profile.write_text(
        '[channels.wechat_oa.templates.close]\ntemplate_id = "T"\ndata = { thing1 = "{numbr}" }\n',
        encoding="utf-8",
    )
    for key in [k for k in os.environ if k.startswith("CITYLOOP_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("CITYLOOP_CITY_PROFILE", str(profile))
    monkeypatch.setenv("CITYLOOP_WECHAT_OA_APP_ID", "wx1")
    monkeypatch.setenv("CITYLOOP_WECHAT_OA_APP_SECRET", "s")
    monkeypatch.setenv("CITYLOOP_WECHAT_OA_TOKEN", "t")
    assert main(["packages"]) == 2
    err = capsys.readouterr().err
    assert "channels.wechat_oa: templates.close.data" in err and "numbr" in err
