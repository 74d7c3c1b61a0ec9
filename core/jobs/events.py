"""Events anyone can subscribe to: one outbox row per interested subscriber.

A producer `publish`es a named event (`case.close`) inside its transaction. Each subscriber
of that name gets its own outbox row (its kind is the subscriber's name), so a failing
subscriber retries alone and never blocks or repeats another's work, and an event nobody
listens to costs no write at all. A subscriber added later sees only new events; `replay`
writes the rows of past events for recovery, skipping those already written (each row has a
dedupe key: subscriber, event and the row's own suffix).

Two kinds of subscriber:
- `@subscribe("case.close", name="survey.schedule")` on a job handler: one row per event,
  the event's payload as the row's payload.
- `fan_out("case.dispatch", ..., name="cases.staff_notices", rows=fn)`: `fn` turns one event
  into any number of rows of other kinds (a notice per reporter through their own channel).
  It runs inside the producer's transaction; keep it to what the event and its hints hold.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Mapping,
    Sequence,
)
from dataclasses import dataclass, field
from typing import Any

from tortoise import timezone
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from core import rows
from core.jobs.models import OutboxItem
from core.jobs.registry import JobHandler, handler_for, job

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Row:
    """One outbox row a fan-out subscriber asks for; `key` makes it unique per event."""

    kind: str
    payload: dict[str, Any]
    key: str = ""


RowsFn = Callable[[dict[str, Any], Mapping[str, Any]], Awaitable[list[Row]]]


@dataclass(frozen=True)
class Subscription:
    name: str
    events: frozenset[str]
    rows: RowsFn | None = None  # None: one row of kind `name` with the event's payload


_SUBSCRIPTIONS: dict[str, Subscription] = {}
_BY_EVENT: dict[str, tuple[Subscription, ...]] = {}


def _register(sub: Subscription) -> None:
    known = _SUBSCRIPTIONS.get(sub.name)
    if known is not None and known.events != sub.events:
        raise ValueError(f"subscriber {sub.name!r} registered twice")
    _SUBSCRIPTIONS[sub.name] = sub
    _BY_EVENT.clear()


def subscribe(*events: str, name: str) -> Callable[[JobHandler], JobHandler]:
    """Run this handler once for each of these events (its own outbox row per event)."""
    if not events:
        raise ValueError("subscribe to at least one event")

    def register(fn: JobHandler) -> JobHandler:
        job(name)(fn)
        _register(Subscription(name, frozenset(events)))
        return fn

    return register


def fan_out(*events: str, name: str, rows: RowsFn) -> None:
    """Turn each of these events into the rows `rows` returns (their kinds are their own)."""
    _register(Subscription(name, frozenset(events), rows))


def subscribers(event: str) -> tuple[Subscription, ...]:
    """The subscriptions to an event, by name."""
    if event not in _BY_EVENT:
        _BY_EVENT[event] = tuple(s for _, s in sorted(_SUBSCRIPTIONS.items()) if event in s.events)
    return _BY_EVENT[event]


def subscriptions() -> list[Subscription]:
    """Every registered subscription, by name."""
    return [s for _, s in sorted(_SUBSCRIPTIONS.items())]


async def _rows(sub: Subscription, payload: dict[str, Any], hints: Mapping[str, Any]) -> list[Row]:
    if sub.rows is None:
        return [Row(sub.name, payload)]
    return await sub.rows(payload, hints)


@dataclass(frozen=True)
class Publication:
    """One event to publish: its name, payload, unique key and the producer's hints."""

    event: str
    payload: dict[str, Any]
    key: str
    hints: Mapping[str, Any] = field(default_factory=dict)


async def publish(
    event: str,
    payload: dict[str, Any],
    *,
    key: str,
    hints: Mapping[str, Any] | None = None,
    every_row: bool = False,
) -> list[int]:
    """Write the rows of every subscriber of `event` (in the caller's transaction).

    `key` names the event uniquely (its timeline row id, say); `hints` are what the producer
    already holds (to save subscribers a read), never stored. Return the ids to kick after
    commit: rows whose kind no handler here runs are left to wait for one (`every_row`: the
    ids of all rows written).
    """
    return await publish_all([Publication(event, payload, key, hints or {})], every_row=every_row)


async def publish_all(items: Sequence[Publication], *, every_row: bool = False) -> list[int]:
    """Publish several events at once: the rows of all their subscribers in one INSERT."""
    written = await outbox_rows(items)
    await rows.insert(written)
    return to_kick(written, every_row=every_row)


async def outbox_rows(items: Sequence[Publication]) -> list[OutboxItem]:
    """The outbox rows of these events' subscribers, not written yet (for a caller that
    writes them beside its own rows: core.rows.Together)."""
    now = timezone.now()
    return [
        OutboxItem(
            kind=row.kind,
            payload=row.payload,
            available_at=now,
            dedupe_key=_dedupe(sub.name, item.key, row.key),
        )
        for item in items
        for sub in subscribers(item.event)
        for row in await _rows(sub, item.payload, item.hints)
    ]


def to_kick(written: Sequence[OutboxItem], *, every_row: bool = False) -> list[int]:
    """The ids of written rows to kick after commit: those a handler here runs (or all)."""
    return [i.id for i in written if every_row or handler_for(i.kind) is not None]


async def _each(items: AsyncIterable[Any] | Iterable[Any]) -> AsyncIterator[Any]:
    if isinstance(items, AsyncIterable):
        async for item in items:
            yield item
    else:
        for item in items:
            yield item


def _dedupe(subscriber: str, key: str, suffix: str) -> str:
    return f"{subscriber}|{key}|{suffix}"[:200]


async def replay(
    events: AsyncIterable[tuple[str, str, dict[str, Any]]]
    | Iterable[tuple[str, str, dict[str, Any]]],
    *,
    only: set[str] | None = None,
    hints: Mapping[str, Any] | None = None,
) -> int:
    """Write the missing rows of past (event, key, payload)s; return how many were new.

    For recovery, e.g. a subscriber installed after the events or rows lost with a restore.
    Rows that exist (by dedupe key) are skipped: replaying twice writes nothing the second
    time, and a subscriber that already ran an event does not run it again.
    """
    added = 0
    async for event, key, payload in _each(events):
        for sub in subscribers(event):
            if only is not None and sub.name not in only:
                continue
            for row in await _rows(sub, payload, hints or {}):
                try:
                    async with in_transaction():
                        await OutboxItem.create(
                            kind=row.kind,
                            payload=row.payload,
                            available_at=timezone.now() + dt.timedelta(seconds=1),
                            dedupe_key=_dedupe(sub.name, key, row.key),
                        )
                    added += 1
                except IntegrityError:
                    continue
    return added
