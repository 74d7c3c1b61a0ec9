"""The outbox: rows run once in effect, survive a killed runner, retry after failures."""

from __future__ import annotations

import asyncio
import datetime as dt
import signal
import subprocess
import time
from pathlib import Path

import pytest
from tortoise import timezone

from core.config import Settings, load_settings
from core.jobs import outbox
from core.jobs.models import OutboxItem, OutboxStatus
from core.jobs.queues import LocalQueue
from core.jobs.registry import JobContext, load_modules
from core.runtime import build_runtime
from tests.core.processes import REDIS_URL, base_env, start

HERE = Path(__file__).resolve().parent


@pytest.fixture(autouse=True)
def _handlers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(HERE))
    load_modules(["jobdefs"])


def _context(settings: Settings) -> JobContext:
    return JobContext(build_runtime(settings, process="cli"), 0, 0)


async def _effects(parent: int) -> int:
    rows = await OutboxItem.filter(kind="test.noop").values_list("payload", flat=True)
    return sum(1 for p in rows if isinstance(p, dict) and p.get("parent") == parent)


async def test_row_runs_and_its_effect_commits_with_done(db: None, settings: Settings) -> None:
    item = await outbox.add("test.chain", {})
    result = await outbox.run_item(item.id, context=_context(settings), lease_s=30)
    row = await OutboxItem.get(id=item.id)
    assert (result, row.status, row.attempts) == ("done", OutboxStatus.DONE, 1)
    assert row.done_at is not None
    assert await _effects(item.id) == 1
    # Running it again (a duplicate delivery) changes nothing.
    assert await outbox.run_item(item.id, context=_context(settings), lease_s=30) == "skipped"
    assert await _effects(item.id) == 1


async def test_two_runners_at_once_run_the_row_once(db: None, settings: Settings) -> None:
    item = await outbox.add("test.chain", {"first_sleep_s": 0.2})
    results = await asyncio.gather(
        *(outbox.run_item(item.id, context=_context(settings), lease_s=30) for _ in range(3))
    )
    assert sorted(results) == ["done", "skipped", "skipped"]
    assert await _effects(item.id) == 1


async def test_failed_attempt_rolls_back_its_effect_and_retries(
    db: None, settings: Settings
) -> None:
    item = await outbox.add("test.fail_once", {})
    assert await outbox.run_item(item.id, context=_context(settings), lease_s=30) == "retry"
    row = await OutboxItem.get(id=item.id)
    assert row.status == OutboxStatus.PENDING
    assert "502" in (row.last_error or "")
    assert row.available_at > timezone.now()  # backing off
    assert await _effects(item.id) == 0  # the failed attempt's writes were rolled back
    await OutboxItem.filter(id=item.id).update(available_at=timezone.now())
    queue = LocalQueue(
        build_runtime(settings.model_copy(update={"outbox_stale_s": 0}), process="cli")
    )
    assert await queue.sweep_once() == 1
    await queue.drain()
    done = await OutboxItem.get(id=item.id)
    assert (done.status, done.attempts) == (OutboxStatus.DONE, 2)
    assert not done.last_error
    assert await _effects(item.id) == 1


async def test_a_handler_may_wait_for_the_other_side_without_using_attempts(
    db: None, settings: Settings
) -> None:
    # e.g. WeChat's daily quota (45009): the notice waits for it however long, never failed.
    item = await outbox.add("test.quota", {})
    for _ in range(settings.job_max_attempts + 2):
        assert await outbox.run_item(item.id, context=_context(settings), lease_s=30) == "retry"
        await OutboxItem.filter(id=item.id).update(available_at=timezone.now())
    row = await OutboxItem.get(id=item.id)
    assert (row.status, row.attempts) == (OutboxStatus.PENDING, 0)
    assert row.last_error == "quota spent until midnight"
    assert await _effects(item.id) == 0  # each turn's writes were rolled back


async def test_rows_a_handler_writes_are_queued_once_it_committed(
    db: None, settings: Settings
) -> None:
    runtime = build_runtime(settings, process="cli")
    queue = LocalQueue(runtime)
    runtime.queue = queue
    item = await outbox.add("test.follow_up", {})
    assert await outbox.run_item(item.id, context=JobContext(runtime, 0, 0), lease_s=30) == "done"
    await queue.drain()  # the follow-up ran without waiting for the sweeper
    follow = await OutboxItem.get(kind="test.chain")
    assert follow.status == OutboxStatus.DONE


async def test_row_without_a_handler_waits_for_one(db: None, settings: Settings) -> None:
    # e.g. a notification for a channel that is not installed yet: it must not be lost.
    item = await outbox.add("no.such.job", {})
    assert await outbox.run_item(item.id, context=_context(settings), lease_s=30) == "waiting"
    row = await OutboxItem.get(id=item.id)
    assert (row.status, row.attempts) == (OutboxStatus.PENDING, 0)
    assert row.available_at > timezone.now()
    assert "no handler" in (row.last_error or "")


async def test_row_never_kicked_is_found_by_the_sweeper(db: None, settings: Settings) -> None:
    # The producer committed and died before it could queue the row (or Redis was down).
    item = await outbox.add("test.chain", {})
    queue = LocalQueue(
        build_runtime(settings.model_copy(update={"outbox_stale_s": 1}), process="cli")
    )
    assert await queue.sweep_once() == 0  # too fresh: its producer may still kick it
    await OutboxItem.filter(id=item.id).update(
        available_at=timezone.now() - dt.timedelta(seconds=5)
    )
    assert await queue.sweep_once() == 1
    await queue.drain()
    assert (await OutboxItem.get(id=item.id)).status == OutboxStatus.DONE
    assert await _effects(item.id) == 1


# --- a runner killed mid-job --------------------------------------------------------------


def _env(settings: Settings, *, redis: bool) -> dict[str, str]:
    return base_env(
        settings,
        redis=redis,
        path=[str(HERE)],
        CITYLOOP_JOB_TIMEOUT_S="2",
        CITYLOOP_JOB_MODULES='["jobdefs"]',
    )


async def _wait_for(path: Path, proc: subprocess.Popen[bytes], log: Path, limit: float) -> None:
    deadline = time.monotonic() + limit
    while not path.exists():
        if proc.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"runner did not start the job; its log:\n{log.read_text()[-3000:]}")
        await asyncio.sleep(0.1)


@pytest.mark.parametrize("mode", ["embedded", "arq"])
async def test_job_lost_to_a_killed_runner_is_done_exactly_once(
    mode: str,
    db: None,
    settings: Settings,
    tmp_path: Path,
    runners: list[subprocess.Popen[bytes]],
) -> None:
    """kill -9 the process running a job; a new one finishes it, and its effect happens once."""
    if mode == "arq" and not REDIS_URL:
        pytest.skip("arq mode needs Redis: set CITYLOOP_TEST_REDIS_URL (.ci/run does)")
    command = "worker" if mode == "arq" else "serve"
    env = _env(settings, redis=mode == "arq")
    log = tmp_path / "runner.log"
    marker = tmp_path / "started"
    item = await outbox.add("test.chain", {"marker": str(marker), "first_sleep_s": 60})

    first = start(command, env, log)
    runners.append(first)
    # Nobody kicked the row: the runner's sweeper finds it (Redis down at commit time, say).
    await _wait_for(Path(f"{marker}.1"), first, log, limit=60)
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    row = await OutboxItem.get(id=item.id)
    assert row.status == OutboxStatus.RUNNING  # claimed, never finished
    assert await _effects(item.id) == 0  # its uncommitted effect died with it

    second = start(command, env, log)
    runners.append(second)
    deadline = time.monotonic() + 60
    while (row := await OutboxItem.get(id=item.id)).status != OutboxStatus.DONE:
        if second.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"job was not finished; runner log:\n{log.read_text()[-3000:]}")
        await asyncio.sleep(0.2)
    assert row.attempts == 2
    await asyncio.sleep(3)  # let any late duplicate delivery come and go
    assert await _effects(item.id) == 1
    assert (await OutboxItem.get(id=item.id)).attempts == 2


def test_worker_runs_every_periodic_job_as_a_cron(settings: Settings) -> None:
    from pydantic import SecretStr

    from core.jobs.worker import worker_settings

    with_redis = settings.model_copy(update={"redis_url": SecretStr("redis://127.0.0.1:6379/15")})
    names = {c.name for c in worker_settings(with_redis).cron_jobs}
    jobs = ("sweep_outbox", "cases.mark_overdue", "core.kv_purge")
    # Named by queue: two deployments on one Redis each run their own crons.
    assert {f"{settings.queue_name}:{j}" for j in jobs} <= names


def test_plain_arq_and_cityloop_worker_run_the_same_jobs(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`arq core.jobs.worker.WorkerSettings` reads the environment as `cityloop worker` does."""
    from arq.utils import import_string

    from core.jobs.worker import worker_settings

    monkeypatch.setenv("CITYLOOP_REDIS_URL", "redis://127.0.0.1:6379/15")
    monkeypatch.setenv("CITYLOOP_QUEUE_NAME", "cityloop:plain-arq")
    monkeypatch.setenv("CITYLOOP_JOB_TIMEOUT_S", "17")
    monkeypatch.setenv("CITYLOOP_DATABASE_URL", settings.database_url)
    plain = import_string("core.jobs.worker.WorkerSettings")
    ours = worker_settings(load_settings())
    for cls in (plain, ours):
        names = {c.name for c in cls.cron_jobs}
        assert names >= {"cityloop:plain-arq:sweep_outbox", "cityloop:plain-arq:cases.mark_overdue"}
        assert (cls.queue_name, cls.job_timeout) == ("cityloop:plain-arq", 17)
        assert cls.redis_settings.database == 15
    assert {c.name for c in plain.cron_jobs} == {c.name for c in ours.cron_jobs}
    assert [f.__name__ for f in plain.functions] == [f.__name__ for f in ours.functions]


async def test_serve_runs_periodic_jobs_in_process(db: None, settings: Settings) -> None:
    from core.jobs.registry import periodic_jobs

    queue = LocalQueue(build_runtime(settings, process="web"))  # what `serve` does at start
    queue.start()
    try:
        loops = {t.get_name() for t in asyncio.all_tasks()}
        assert {p.name for p in periodic_jobs()} <= loops
        assert "cases.mark_overdue" in loops
    finally:
        await queue.close()
