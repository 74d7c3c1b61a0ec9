"""The demo city has cases in several states, made through the real door, and reseeds cleanly."""

from __future__ import annotations

from cases.const import CaseStatus
from cases.models import Case, CaseEvent
from core.config import Settings
from core.demo import seed_demo, seed_extras


async def test_demo_cases_cover_the_loop_and_reseed_idempotently(
    db: None, settings: Settings
) -> None:
    await seed_demo(settings)
    assert await seed_extras(settings) == {"cases.demo": 8}
    statuses = set(await Case.all().values_list("status", flat=True))
    assert {
        CaseStatus.DISPATCHED,
        CaseStatus.HANDLED,
        CaseStatus.CLOSED,
        CaseStatus.VERIFYING,
        CaseStatus.REGISTERED,
        CaseStatus.REPORTED,  # the web report waits for its 受理
    } <= statuses
    closed = await Case.get(status=CaseStatus.CLOSED)
    actions = [e.action for e in await CaseEvent.filter(case_id=closed.id).order_by("id")]
    assert actions == ["report", "register", "dispatch", "handle", "check_result", "close"]
    verifying = await Case.filter(status=CaseStatus.VERIFYING).first()
    assert verifying is not None
    steps = await CaseEvent.filter(case_id=verifying.id).order_by("id")
    assert [(e.action, e.actor_kind) for e in steps] == [
        ("report", "citizen"),
        ("accept", "system"),
        ("verify", "system"),
    ]
    assert await seed_extras(settings) == {"cases.demo": 0}  # same keys: nothing new
    assert await Case.all().count() == 8
