"""Pushes to the phones: a per-person feed of messages (the outbox a phone resumes from), the
wake-up of open event streams in every web process, and vendor transports.

A message is a committed row first; then the streams of its person are woken — in this
process directly, in the others through Redis (one channel, the person's ids as the text) —
and each of the person's devices with a vendor transport gets it through that vendor. A
stream also looks at the table on every ping, so a lost wake-up costs seconds, not messages.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from channels.grid_app.const import WAKE_CHANNEL
from channels.grid_app.models import PushMessage
from channels.grid_app.schemas import MessageOut
from core.errors import ConfigError

if TYPE_CHECKING:
    from core.jobs.registry import JobContext
    from core.runtime import Runtime

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeviceRef:
    """What a vendor needs of a phone."""

    id: int
    staff_id: int
    platform: str
    push_token: str


@runtime_checkable
class PushTransport(Protocol):
    """A vendor push service (极光, 个推, a phone maker's) a city plugs in by name."""

    name: str  # what a device registers as its `transport`

    async def send(self, ctx: JobContext, device: DeviceRef, message: MessageOut) -> None:
        """Deliver one message to one device; raise to retry. Key it by message and device id
        (the same message may come again after a crash)."""
        ...


def load_transports(refs: Iterable[str]) -> dict[str, PushTransport]:
    """The configured transports by name; ConfigError names a bad one."""
    found: dict[str, PushTransport] = {}
    for ref in refs:
        module, _, attr = ref.partition(":")
        where = f"CITYLOOP_GRID_APP_PUSH_TRANSPORTS: {ref!r}"
        try:
            obj = getattr(importlib.import_module(module), attr)
        except (ImportError, AttributeError, ValueError) as err:
            raise ConfigError(f"{where}: cannot import: {err}") from err
        transport = obj() if isinstance(obj, type) else obj
        if not isinstance(transport, PushTransport) or transport.name == "sse":
            raise ConfigError(f"{where}: not a PushTransport (with a name other than sse)")
        found[transport.name] = transport
    return found


@dataclass
class PushHub:
    """The open event streams of this process, by person: who to wake."""

    transports: dict[str, PushTransport] = field(default_factory=dict)
    _waiting: dict[int, set[asyncio.Event]] = field(default_factory=dict)

    @contextlib.contextmanager
    def listen(self, staff_id: int) -> Iterator[asyncio.Event]:
        """An event set whenever this person may have a new message (while the block runs)."""
        event = asyncio.Event()
        self._waiting.setdefault(staff_id, set()).add(event)
        try:
            yield event
        finally:
            waiting = self._waiting.get(staff_id, set())
            waiting.discard(event)
            if not waiting:
                self._waiting.pop(staff_id, None)

    def listens(self, staff_ids: Iterable[int]) -> bool:
        """Whether any of these people has a stream open in this process."""
        return any(s in self._waiting for s in staff_ids)

    def wake(self, staff_ids: Iterable[int]) -> None:
        """Wake this process's streams of these people."""
        for staff_id in staff_ids:
            for event in self._waiting.get(staff_id, ()):
                event.set()


def channel(runtime: Runtime) -> str:
    """The Redis channel of this deployment's wake-ups."""
    return f"{runtime.settings.queue_name}:{WAKE_CHANNEL}"


async def announce(runtime: Runtime, hub: PushHub, staff_ids: Iterable[int]) -> None:
    """Wake the streams of these people here and, through Redis, in the other processes."""
    ids = sorted(set(staff_ids))
    if not ids:
        return
    hub.wake(ids)
    if runtime.redis is not None:
        await runtime.redis.publish(channel(runtime), ",".join(map(str, ids)))


async def listen_redis(runtime: Runtime, hub: PushHub) -> None:
    """Wake this process's streams on the other processes' news; reconnect after a failure."""
    redis = runtime.redis
    if redis is None:
        return
    delay = 1.0
    while True:
        try:
            async with redis.pubsub() as sub:
                await sub.subscribe(channel(runtime))
                delay = 1.0
                async for msg in sub.listen():
                    if msg.get("type") == "message":
                        hub.wake(_ids(msg.get("data")))
        except asyncio.CancelledError:
            raise
        except Exception:  # Redis went away: the streams still poll; come back when it does
            log.warning("push wake-ups: Redis subscription lost; retrying in %.0f s", delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 30.0)


def _ids(data: object) -> list[int]:
    text = data.decode() if isinstance(data, bytes) else str(data)
    return [int(x) for x in text.split(",") if x.strip().isdigit()]


def message_out(m: PushMessage) -> MessageOut:
    """Show a message."""
    return MessageOut(
        id=m.id,
        kind=m.kind,
        case_id=m.case_id,
        task_id=m.task_id,
        title=m.title,
        text=m.text,
        created_at=m.created_at,
    )


async def after(staff_id: int, last_id: int, *, limit: int) -> list[MessageOut]:
    """This person's messages after the one they have, oldest first."""
    rows = await PushMessage.filter(staff_id=staff_id, id__gt=last_id).order_by("id").limit(limit)
    return [message_out(m) for m in rows]


async def last_id(staff_id: int) -> int:
    """The id of this person's newest message (0: none)."""
    newest = await PushMessage.filter(staff_id=staff_id).order_by("-id").first()
    return newest.id if newest else 0
