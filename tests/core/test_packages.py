"""Packages (core/packages.py): a plug-in installed as its own distribution, found by its entry
point, mounted, run and stopped without a line of core/ or cases/ naming it.

The plug-in is tests/plugin/cityloop_testplugin; a fixture "installs" it the way pip leaves a
distribution behind (a .dist-info folder with entry_points.txt on the path). End to end, the
real `cityloop serve` (and `cityloop worker` with Redis) runs it in processes of their own,
so its subscribers never leak into this test process's registry.
"""

from __future__ import annotations

import asyncio
import io
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from PIL import Image

from core import packages
from core.config import Settings, load_settings
from core.demo import seed_demo
from core.errors import ConfigError
from core.jobs import outbox
from core.jobs.models import OutboxItem, OutboxStatus
from core.jobs.registry import JobContext
from core.kv.models import KeyValueItem
from core.runtime import build_runtime
from core.web import create_app
from tests.core.processes import REDIS_URL, base_env, start, wait_ready

PLUGIN_SRC = Path(__file__).resolve().parents[1] / "plugin"
ENTRY = "[cityloop.packages]\ntestplugin = cityloop_testplugin:PACKAGE\n"


@pytest.fixture
def plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Install the test plug-in for this test (and the processes it starts); return its path."""
    site = tmp_path / "site"
    info = site / "cityloop_testplugin-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: cityloop-testplugin\nVersion: 0.1\n"
    )
    (info / "entry_points.txt").write_text(ENTRY)
    monkeypatch.syspath_prepend(str(PLUGIN_SRC))
    monkeypatch.syspath_prepend(str(site))
    packages.installed.cache_clear()
    yield site
    packages.installed.cache_clear()


def test_the_plugin_is_found_after_the_case_core(plugin: Path) -> None:
    names = [p.name for p in packages.installed()]
    assert names[:2] == ["core", "cases"]
    assert names.index("testplugin") > names.index("cases")  # it requires cases


def test_a_plugins_own_settings_are_known_and_checked(
    plugin: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CITYLOOP_TESTPLUGIN_MARKER_DIR", str(tmp_path))
    monkeypatch.setenv("CITYLOOP_SHARED_API_BASE", "http://127.0.0.1:9")
    config: Any = load_settings().package_configs["testplugin"]
    assert (config.marker_dir, config.shared_base) == (tmp_path, "http://127.0.0.1:9")
    monkeypatch.setenv("CITYLOOP_TESTPLUGIN_ENABLED", "maybe")
    with pytest.raises(ConfigError, match="CITYLOOP_TESTPLUGIN_ENABLED: Input should be"):
        load_settings()
    monkeypatch.delenv("CITYLOOP_TESTPLUGIN_ENABLED")
    monkeypatch.setenv("CITYLOOP_TESTPLUGIN_MARKERDIR", "x")
    with pytest.raises(ConfigError, match="did you mean CITYLOOP_TESTPLUGIN_MARKER_DIR"):
        load_settings()


def test_an_unknown_package_cannot_be_disabled(
    plugin: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CITYLOOP_DISABLED_PACKAGES", '["testplugn"]')
    with pytest.raises(
        ConfigError, match=r"'testplugn' is not an installed package \(testplugin\?\)"
    ):
        load_settings()


@pytest.mark.parametrize(
    "switch",
    [
        {"CITYLOOP_DISABLED_PACKAGES": '["testplugin"]'},
        {"CITYLOOP_TESTPLUGIN_ENABLED": "false"},
    ],
    ids=["disabled-by-name", "off-by-its-own-setting"],
)
async def test_a_disabled_plugin_mounts_nothing(
    plugin: Path,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    aiohttp_client: Any,
    switch: dict[str, str],
) -> None:
    for key, value in switch.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("CITYLOOP_DATABASE_URL", settings.database_url)
    off = load_settings(media_dir=settings.media_dir)
    runtime = build_runtime(off, process="cli")
    assert "testplugin" not in [p.name for p in runtime.packages]
    assert "cityloop_testplugin.jobs" not in sys.modules  # its jobs were never loaded
    client = await aiohttp_client(create_app(off))
    assert (await client.get("/api/v1/testplugin/hello")).status == 404


def test_a_plugin_whose_requirement_is_off_is_off(
    plugin: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CITYLOOP_DISABLED_PACKAGES", '["cases"]')
    names = [p.name for p in packages.enabled(load_settings())]
    assert names == ["core"]  # channels and the plug-in need the case core


# --- end to end: the real server (and worker) run the plug-in ------------------------------


def _env(settings: Settings, site: Path, marks: Path, *, redis: bool) -> dict[str, str]:
    return base_env(
        settings,
        redis=redis,
        path=[str(site), str(PLUGIN_SRC)],
        CITYLOOP_JOB_MAX_ATTEMPTS="3",
        CITYLOOP_JOB_RETRY_BASE_S="0.2",
        CITYLOOP_PASSWORD_TIME_COST="1",
        CITYLOOP_PASSWORD_MEMORY_KIB="1024",
        CITYLOOP_TESTPLUGIN_MARKER_DIR=str(marks),
    )


class Api:
    """Staff calls to the running server."""

    def __init__(self, http: aiohttp.ClientSession, base: str, passwords: dict[str, str]):
        self.http, self.base, self.passwords = http, base, passwords
        self.tokens: dict[str, str] = {}

    async def auth(self, user: str) -> dict[str, str]:
        if user not in self.tokens:
            body = {"username": user, "password": self.passwords[user]}
            async with self.http.post(f"{self.base}/api/v1/auth/login", json=body) as r:
                assert r.status == 200, await r.text()
                self.tokens[user] = (await r.json())["token"]
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    async def call(self, user: str, method: str, path: str, **kw: Any) -> Any:
        async with self.http.request(
            method, self.base + path, headers=await self.auth(user), **kw
        ) as r:
            assert r.status < 300, f"{method} {path}: {r.status} {await r.text()}"
            return await r.json()

    async def photo(self, user: str) -> int:
        buffer = io.BytesIO()
        Image.new("RGB", (64, 48), (90, 140, 60)).save(buffer, "JPEG")
        form = aiohttp.FormData()
        form.add_field("file", buffer.getvalue(), filename="a.jpg", content_type="image/jpeg")
        return int((await self.call(user, "POST", "/api/v1/media", data=form))["id"])


async def _close_a_case(api: Api) -> int:
    """A hotline case known by its address: 立案, 派遣 to 环卫, 处置, 定位 (so 核查), 结案."""
    report = {
        "idempotency_key": uuid.uuid4().hex,
        "description": "市民来电：东门口垃圾没人清理",
        "address": "示范区东门口",
        "category_code": "E06010",
    }
    case_id = int((await api.call("agent", "POST", "/api/v1/reports", json=report))["case"]["id"])
    case = f"/api/v1/cases/{case_id}"
    await api.call("acceptor", "POST", case + "/register", json={"category_code": "E06010"})
    tree = (await api.call("dispatcher", "GET", "/api/v1/departments"))["items"]
    nodes = list(tree)
    while nodes and nodes[0]["code"] != "HW":
        nodes += nodes.pop(0)["children"]
    hw = nodes[0]["id"]
    await api.call("dispatcher", "POST", case + "/dispatch", json={"department_id": hw})
    after = await api.photo("handler_hw")
    await api.call(
        "handler_hw", "POST", case + "/handle", json={"note": "已清运", "attachments": [after]}
    )
    # 定位 into street 1's first grid: its inspector gets the 核查 the city requires.
    grid = (await api.call("dispatcher", "GET", "/api/v1/grids"))["features"][0]
    ring = grid["geometry"]["coordinates"][0][:-1]
    where = {"lon": sum(p[0] for p in ring) / len(ring), "lat": sum(p[1] for p in ring) / len(ring)}
    await api.call("acceptor", "POST", case + "/locate", json={"location": where})
    await api.call("inspector1", "POST", case + "/check-result", json={"passed": True})
    closed = await api.call("acceptor", "POST", case + "/close", json={"note": "结案"})
    assert closed["status"] == "closed"
    return case_id


async def _effects(case_id: int) -> list[dict[str, Any]]:
    rows = await OutboxItem.filter(kind="testplugin.effect").order_by("id")
    return [r.payload for r in rows if r.payload.get("case_id") == case_id]


async def _row(kind: str, case_id: int) -> OutboxItem:
    for row in await OutboxItem.filter(kind=kind).order_by("id"):
        if row.payload.get("case_id") == case_id:
            return row
    raise AssertionError(f"no {kind} row for case {case_id}")


async def _until(what: str, check: Any, log: Path, limit: float = 40) -> None:
    deadline = time.monotonic() + limit
    while not await check():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} did not happen; log:\n{log.read_text()[-3000:]}")
        await asyncio.sleep(0.2)


@pytest.mark.parametrize("mode", ["embedded", "arq"])
async def test_the_server_runs_an_installed_plugin(
    mode: str,
    plugin: Path,
    db: None,
    settings: Settings,
    tmp_path: Path,
    runners: list[subprocess.Popen[bytes]],
) -> None:
    """Route mounted, subscriber once per closure, a failing subscriber alone, crons, cleanup."""
    if mode == "arq" and not REDIS_URL:
        pytest.skip("arq mode needs Redis: set CITYLOOP_TEST_REDIS_URL (.ci/run does)")
    passwords = {u: p for u, p, _ in await seed_demo(settings)}
    marks = tmp_path / "marks"
    marks.mkdir()
    env = _env(settings, plugin, marks, redis=mode == "arq")
    log = tmp_path / "server.log"
    runners.append(start("serve", env, log))
    if mode == "arq":
        runners.append(start("worker", env, log))
    base = f"http://127.0.0.1:{env['CITYLOOP_PORT']}"
    await wait_ready(base, runners, log)

    async with aiohttp.ClientSession() as http:
        async with http.get(base + "/api/v1/testplugin/hello") as r:
            assert (r.status, await r.json()) == (200, {"hello": "你好", "catalog": "gbt47678"})
        api = Api(http, base, passwords)
        case_id = await _close_a_case(api)

        async def done() -> bool:
            row = await _row("testplugin.on_close", case_id)
            return row.status == OutboxStatus.DONE

        await _until("the subscriber's run", done, log)

        async def failed() -> bool:
            return (await _row("testplugin.flaky", case_id)).status == OutboxStatus.FAILED

        await _until("the failing subscriber's last attempt", failed, log)
        listed = await api.call("admin", "GET", "/api/v1/outbox")
        kinds = {(i["kind"], i["attempts"]) for i in listed["items"]}
        assert ("testplugin.flaky", 3) in kinds  # after its attempts, for a person to look at
        assert all(k != "testplugin.on_close" for k, _ in kinds)

    effects = await _effects(case_id)
    assert [e["what"] for e in effects] == ["closed"]  # the failing one's writes rolled back
    once = await _row("testplugin.on_close", case_id)
    # Delivered a second time: nothing happens again.
    if mode == "embedded":
        # Without the plug-in's jobs here: its subscribers stay out of this test process.
        quiet = settings.model_copy(update={"disabled_packages": ("testplugin",)})
        context = JobContext(build_runtime(quiet, process="cli"), 0, 0)
        assert await outbox.run_item(once.id, context=context, lease_s=30) == "skipped"
    else:
        from arq.connections import RedisSettings, create_pool

        assert REDIS_URL
        pool = await create_pool(RedisSettings.from_dsn(REDIS_URL))
        try:
            job = await pool.enqueue_job(
                "run_outbox",
                once.id,
                _job_id=f"again-{uuid.uuid4().hex}",
                _queue_name=settings.queue_name,
            )
            assert job is not None
            assert await job.result(timeout=30) == "skipped"
            assert await pool.get(f"{settings.queue_name}:kv:testplugin:tick") is not None
        finally:
            await pool.aclose()
    assert len(await _effects(case_id)) == 1
    assert (await OutboxItem.get(id=once.id)).attempts == once.attempts
    if mode == "embedded":
        assert await KeyValueItem.filter(key="testplugin:tick").exists()  # the periodic job

    for proc in runners:
        proc.send_signal(signal.SIGTERM)
    for proc in runners:
        proc.wait(30)
    ran = sorted(p.name for p in marks.iterdir())
    where = ["web", "worker"] if mode == "arq" else ["web"]
    assert ran == sorted([*(f"setup.{w}" for w in where), *(f"cleanup.{w}" for w in where)])
