"""Events and subscribers (core/jobs/events.py): a row per interested subscriber, failures
apart, replay without repeats."""

from __future__ import annotations

from pathlib import Path

import pytest
from tortoise import timezone

from core.config import Settings
from core.jobs import events, outbox
from core.jobs.models import OutboxItem, OutboxStatus
from core.jobs.registry import JobContext, load_modules
from core.runtime import build_runtime

HERE = Path(__file__).resolve().parent


@pytest.fixture(autouse=True)
def _handlers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(HERE))
    load_modules(["jobdefs"])


async def _rows(kind: str) -> list[OutboxItem]:
    return await OutboxItem.filter(kind=kind).order_by("id")


async def test_an_event_writes_one_row_per_subscriber_and_none_for_others(db: None) -> None:
    ids = await events.publish("test.happened", {"n": 1}, key="e1")
    assert len(ids) == 2  # both handlers run here, so both are kicked
    assert [r.payload for r in await _rows("test.recorder")] == [{"n": 1}]
    assert [r.payload for r in await _rows("test.broken")] == [{"n": 1}]
    assert await events.publish("test.nobody-listens", {"n": 2}, key="e2") == []
    assert await OutboxItem.all().count() == 2  # an event nobody hears costs no write


async def test_a_failing_subscriber_retries_alone_and_ends_failed(
    db: None, settings: Settings
) -> None:
    runtime = build_runtime(settings.model_copy(update={"job_max_attempts": 3}), process="cli")
    context = JobContext(runtime, 0, 0)
    await events.publish("test.happened", {"n": 7}, key="e7")
    (good,), (bad,) = await _rows("test.recorder"), await _rows("test.broken")
    assert await outbox.run_item(good.id, context=context, lease_s=30) == "done"
    results = []
    for _ in range(3):
        await OutboxItem.filter(id=bad.id).update(available_at=timezone.now())
        results.append(await outbox.run_item(bad.id, context=context, lease_s=30))
    assert results == ["retry", "retry", "retry"]
    bad_row, good_row = await OutboxItem.get(id=bad.id), await OutboxItem.get(id=good.id)
    assert (bad_row.status, bad_row.attempts) == (OutboxStatus.FAILED, 3)
    assert "503" in (bad_row.last_error or "")
    assert (good_row.status, good_row.attempts) == (OutboxStatus.DONE, 1)  # never run again
    seen = [r.payload for r in await _rows("test.noop") if r.payload.get("parent") == good.id]
    assert seen == [{"parent": good.id, "seen": 7}]


async def test_replay_writes_only_the_missing_rows(db: None) -> None:
    await events.publish("test.happened", {"n": 1}, key="e1")
    history = [("test.happened", "e1", {"n": 1}), ("test.happened", "e2", {"n": 2})]
    # e1 was delivered to both; e2 was never published (say, lost with a restore).
    assert await events.replay(history) == 2
    assert await events.replay(history) == 0  # twice: nothing new
    # A subscriber's row deleted by hand comes back, for that subscriber only.
    await OutboxItem.filter(kind="test.broken").delete()
    assert await events.replay(history, only={"test.recorder"}) == 0
    assert await events.replay(history, only={"test.broken"}) == 2
    payloads = sorted(r.payload["n"] for r in await _rows("test.recorder"))
    assert payloads == [1, 2]
