"""Photos attached to a case at a step: the actor's own uploads only."""

from __future__ import annotations

from typing import Any

from tortoise import timezone

from cases.const import AttachmentKind
from cases.models import Case, CaseAttachment, CaseEvent
from core import rows
from core.errors import ValidationFailed


async def attach(
    case: Case,
    event: CaseEvent,
    media_ids: Any,
    kind: AttachmentKind,
    *,
    citizen_id: int | None = None,
    staff_id: int | None = None,
) -> None:
    """Link the uploader's own photos to the case at this step (the system may link any)."""
    wanted = list(dict.fromkeys(int(i) for i in media_ids))
    if not wanted:
        return
    # One statement (core/rows.py: nearly every report has a photo): the rows are made from
    # the media that are this uploader's, so a photo that is not comes back missing, and the
    # caller's transaction writes none of them.
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
    linked = await rows.select(CaseAttachment, sql + ' RETURNING "media_id"', values)
    missing = sorted(set(wanted) - {int(r["media_id"]) for r in linked})
    if missing:
        raise ValidationFailed(
            f"unknown media {missing}",
            message="图片不存在或不是您上传的，请重新上传",
            extra={"fields": [{"field": "attachments", "message": "图片不存在"}]},
        )
