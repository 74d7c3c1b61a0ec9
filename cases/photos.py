"""Photos attached to a case at a step: the actor's own uploads only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tortoise import timezone

from cases.const import AttachmentKind
from cases.models import Case, CaseAttachment, CaseEvent
from core import rows
from core.errors import ValidationFailed


@dataclass(frozen=True)
class Link:
    """The INSERT that links photos, and the check of what it linked."""

    sql: str
    values: list[Any]
    wanted: tuple[int, ...]

    def check(self, linked: Sequence[Any]) -> None:
        """Refuse when a photo was not linked (unknown, or not the uploader's): the caller's
        transaction then writes none of them."""
        got = {int(r["media_id"]) if isinstance(r, dict) else int(r) for r in linked}
        missing = sorted(set(self.wanted) - got)
        if missing:
            raise ValidationFailed(
                f"unknown media {missing}",
                message="图片不存在或不是您上传的，请重新上传",
                extra={"fields": [{"field": "attachments", "message": "图片不存在"}]},
            )


def linking(
    case: Case,
    event: CaseEvent,
    media_ids: Any,
    kind: AttachmentKind,
    *,
    citizen_id: int | None = None,
    staff_id: int | None = None,
) -> Link | None:
    """The statement linking these photos (None: no photos). Hand-written (core/rows.py):
    the rows are made from the media that are this uploader's, so a photo that is not comes
    back missing."""
    wanted = list(dict.fromkeys(int(i) for i in media_ids))
    if not wanted:
        return None
    values: list[Any] = [
        case.id,
        kind.value,
        event.id,
        rows.param(CaseAttachment, "created_at", timezone.now()),
        *wanted,
    ]
    marks = ",".join(f"${i}" for i in range(5, 5 + len(wanted)))
    sql = (
        'INSERT INTO "case_attachment" ("case_id", "kind", "event_id", "created_at", "media_id") '  # noqa: S608
        f'SELECT $1, $2, $3, $4, m."id" FROM "media_object" m WHERE m."id" IN ({marks})'
    )
    if citizen_id is not None or staff_id is not None:
        # Evidence is what this person took: nobody attaches (and so sees) another's photo.
        for column, value in (
            ("uploaded_by_citizen_id", citizen_id),
            ("uploaded_by_staff_id", staff_id),
        ):
            if value is None:
                sql += f' AND m."{column}" IS NULL'
            else:
                values.append(value)
                sql += f' AND m."{column}" = ${len(values)}'
    if len(wanted) > 1:  # in the order given: the first photo is the case's picture
        values += wanted
        first = len(values) - len(wanted) + 1
        whens = " ".join(f"WHEN ${first + n} THEN {n}" for n in range(len(wanted)))
        sql += f' ORDER BY CASE m."id" {whens} END'
    return Link(sql + ' RETURNING "media_id"', values, tuple(wanted))


@dataclass(frozen=True)
class Evidence:
    """The photos a move links to the case: which, of what kind, whose they must be."""

    media_ids: Sequence[Any]
    kind: AttachmentKind
    citizen_id: int | None = None
    staff_id: int | None = None

    async def attach(self, case: Case, event: CaseEvent) -> None:
        """Link them to the case at this timeline row (the uploader's own only)."""
        link = self.link(case, event)
        if link is not None:
            link.check(await rows.select(CaseAttachment, link.sql, link.values))

    def link(self, case: Case, event: CaseEvent) -> Link | None:
        """The statement that links them (None: no photos), to send beside other rows."""
        return linking(
            case,
            event,
            self.media_ids,
            self.kind,
            citizen_id=self.citizen_id,
            staff_id=self.staff_id,
        )
