"""Recording and reading the audit log; plain async functions, called inside the change's
transaction so that a change and its row land together or not at all."""

from __future__ import annotations

import datetime as dt
import getpass
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tortoise.queryset import QuerySet

from core.audit.models import AuditEntry
from core.logs import request_id_var

if TYPE_CHECKING:
    from core.auth.service import Principal

# Never stored, whatever a caller passes in `before`/`after`.
_SECRET_FIELDS = frozenset({"password", "password_hash", "token", "token_hash"})


@dataclass(frozen=True)
class Actor:
    """Who acts: a staff member through the API, or an operator at the command line."""

    id: int | None
    name: str

    @classmethod
    def of(cls, who: Principal) -> Actor:
        """The caller of a request (a staff member: the audited routes are staff-only)."""
        return cls(who.id, who.name)

    @classmethod
    def cli(cls) -> Actor:
        try:
            user = getpass.getuser()
        except (KeyError, OSError):  # no passwd entry (containers)
            user = "unknown"
        return cls(None, f"cli:{user}"[:64])


def _clean(values: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if values is None:
        return None
    return {k: v for k, v in values.items() if k not in _SECRET_FIELDS}


async def record(
    *,
    actor: Actor,
    action: str,
    target: str,
    target_id: object = None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Write one audit row (in the caller's transaction, if any)."""
    rid = request_id_var.get()
    return await AuditEntry.create(
        actor_id=actor.id,
        actor=actor.name,
        action=action,
        target=target,
        target_id=None if target_id is None else str(target_id),
        before=_clean(before),
        after=_clean(after),
        request_id=None if rid == "-" else rid,
    )


async def record_read(
    who: Principal, *, what: str, target: str, target_id: object = None, ids: Sequence[int] = ()
) -> None:
    """One row for a screen that showed personal data in full (`what`: `phone`, `original`):
    who saw it, which rows; never the data itself. Actions `read.<what>`."""
    await record(
        actor=Actor.of(who),
        action=f"read.{what}",
        target=target,
        target_id=target_id,
        after={"ids": list(ids)} if ids else None,
    )


async def record_change(
    *,
    actor: Actor,
    action: str,
    target: str,
    target_id: object,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
) -> bool:
    """Record the fields that differ, before and after; nothing when none does."""
    keys = [k for k, v in after.items() if before.get(k) != v]
    if keys:
        await record(
            actor=actor,
            action=action,
            target=target,
            target_id=target_id,
            before={k: before.get(k) for k in keys},
            after={k: after[k] for k in keys},
        )
    return bool(keys)


def filtered(
    *,
    actor_id: int | None = None,
    action: str | None = None,
    target: str | None = None,
    target_id: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> QuerySet[AuditEntry]:
    """The entries matching every filter given, newest first; `action` may end in `.` (a
    prefix: `staff.` is every change to staff)."""
    query = AuditEntry.all()
    if actor_id is not None:
        query = query.filter(actor_id=actor_id)
    if action:
        query = (
            query.filter(action__startswith=action)
            if action.endswith(".")
            else query.filter(action=action)
        )
    if target:
        query = query.filter(target=target)
    if target_id:
        query = query.filter(target_id=target_id)
    if since is not None:
        query = query.filter(at__gte=since)
    if until is not None:
        query = query.filter(at__lt=until)
    return query.order_by("-at", "-id")


async def purge(*, before: dt.datetime) -> int:
    """Delete the entries older than the retention; return how many."""
    return await AuditEntry.filter(at__lt=before).delete()
