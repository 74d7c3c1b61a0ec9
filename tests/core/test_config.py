"""Configuration: runs with nothing set; a bad setting is named, without a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from core.config import Settings, load_settings
from core.errors import ConfigError


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for key in list(os.environ):
        if key.startswith("CITYLOOP_"):
            monkeypatch.delenv(key)


def test_defaults_need_nothing_set() -> None:
    s = load_settings()
    assert s.database_url == "sqlite://./var/cityloop.sqlite3"
    assert s.redis_dsn is None
    assert s.profile.working_periods == (("08:00", "12:00"), ("14:00", "18:00"))


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CITYLOOP_PORT", "9000")
    monkeypatch.setenv("CITYLOOP_REDIS_URL", "redis://127.0.0.1:6379/2")
    s = load_settings()
    assert s.port == 9000
    assert s.redis_dsn == "redis://127.0.0.1:6379/2"
    assert "6379" not in repr(s)  # a secret: never printed with the settings


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("CITYLOOP_PORT", "abc", "CITYLOOP_PORT: Input should be a valid integer"),
        ("CITYLOOP_PORT", "70000", "CITYLOOP_PORT: Input should be less than or equal to 65535"),
        ("CITYLOOP_LOG_LEVEL", "LOUD", "CITYLOOP_LOG_LEVEL: Input should be"),
        ("CITYLOOP_DATABSE_URL", "x", "did you mean CITYLOOP_DATABASE_URL?"),
    ],
)
def test_bad_setting_is_named(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert expected in err.value.detail


def test_city_profile_from_toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    profile = tmp_path / "city.toml"
    profile.write_text(
        'code = "320500"\nname = "苏州市"\n'
        'working_periods = [["08:30", "12:00"], ["13:30", "17:30"]]\n'
        'extra_holidays = [2027-01-01]\nextra_workdays = [2027-01-02]\ncatalog = "gbt30428"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("CITYLOOP_CITY_PROFILE", str(profile))
    p = load_settings().profile
    assert (p.code, p.name, p.catalog) == ("320500", "苏州市", "gbt30428")
    assert p.working_periods[1] == ("13:30", "17:30")
    assert str(p.extra_holidays[0]) == "2027-01-01"


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ('code = "3205"\n', "code: Value error, must be a 6-digit"),
        ('working_periods = [["14:00", "12:00"]]\n', "working_periods: Value error"),
        ('working_periods = [["8am", "12:00"]]\n', "is not 'HH:MM'"),
        ('colour = "blue"\n', "colour: Extra inputs are not permitted"),
        ("code = \n", "is not valid TOML"),
    ],
)
def test_bad_profile_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, toml: str, expected: str
) -> None:
    profile = tmp_path / "city.toml"
    profile.write_text(toml, encoding="utf-8")
    monkeypatch.setenv("CITYLOOP_CITY_PROFILE", str(profile))
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert expected in err.value.detail


def test_cli_prints_the_setting_not_a_traceback(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "CITYLOOP_PORT": "eighty", "HOME": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "core.cli", "migrate", "--check"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        check=False,
    )
    assert proc.returncode == 2
    assert "CITYLOOP_PORT: Input should be a valid integer" in proc.stderr
    assert "配置错误" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_every_command_has_help() -> None:
    for command in ("serve", "worker", "migrate", "create-user", "import-grids", "seed-demo"):
        proc = subprocess.run(
            [sys.executable, "-m", "core.cli", command, "--help"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert proc.returncode == 0, proc.stderr
        assert f"usage: cityloop {command}" in proc.stdout


def test_serve_on_a_taken_port_says_so_before_seeding_anything(tmp_path: Path) -> None:
    import os
    import socket

    with socket.socket() as holder:
        holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)  # as a --workers server
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        env = {k: v for k, v in os.environ.items() if not k.startswith("CITYLOOP_")}
        for workers in ("1", "2"):
            proc = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "core.cli",
                    "serve",
                    "--demo",
                    "--port",
                    str(port),
                    "--workers",
                    workers,
                ],
                capture_output=True,
                text=True,
                timeout=60,
                cwd=tmp_path,
                env=env,
                check=False,
            )
            assert proc.returncode == 1, proc.stderr
            assert f"端口 {port} 已被占用" in proc.stderr
            assert "serving on" not in proc.stdout and "admin" not in proc.stdout
            assert not (tmp_path / "var").exists()  # no database was seeded


def test_each_process_holds_up_to_the_pool_size_of_postgresql_connections() -> None:
    from core.db import tortoise_config

    def url(settings: Settings) -> str:
        return str(tortoise_config(settings)["connections"]["default"])

    pg = "postgresql://u:p@db.example:5432/city"
    assert url(load_settings(database_url=pg)).endswith("/city?minsize=2&maxsize=16")
    assert url(load_settings(database_url=pg, database_pool_size=40)).endswith("maxsize=40")
    assert url(load_settings(database_url=pg + "?maxsize=7")).endswith("?maxsize=7")  # the URL's
    sqlite = url(load_settings(database_url="sqlite://:memory:"))
    assert "maxsize" not in sqlite
    with pytest.raises(ConfigError, match="CITYLOOP_DATABASE_POOL_SIZE"):
        load_settings(database_pool_size=0)
