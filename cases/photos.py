"""Photos attached to a case at a step: the actor's own uploads only."""

from __future__ import annotations

from typing import Any

from cases.const import AttachmentKind
from cases.models import Case, CaseAttachment, CaseEvent
from core import rows
from core.errors import ValidationFailed
from core.media.models import MediaObject


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
    # Hand-written (core/rows.py): nearly every report has a photo.
    marks = ",".join(f"${i}" for i in range(1, len(wanted) + 1))
    sql = f'SELECT "id" FROM "media_object" WHERE "id" IN ({marks})'  # noqa: S608  (parameters)
    values: list[Any] = list(wanted)
    if citizen_id is not None or staff_id is not None:
        # Evidence is what this person took: nobody attaches (and so sees) another's photo.
        for column, value in (
            ("uploaded_by_citizen_id", citizen_id),
            ("uploaded_by_staff_id", staff_id),
        ):
            if value is None:
                sql += f' AND "{column}" IS NULL'
            else:
                values.append(value)
                sql += f' AND "{column}" = ${len(values)}'
    found = {int(r["id"]) for r in await rows.select(MediaObject, sql, values)}
    missing = [i for i in wanted if i not in found]
    if missing:
        raise ValidationFailed(
            f"unknown media {missing}",
            message="图片不存在或不是您上传的，请重新上传",
            extra={"fields": [{"field": "attachments", "message": "图片不存在"}]},
        )
    await rows.insert(
        [CaseAttachment(case_id=case.id, media_id=i, kind=kind, event_id=event.id) for i in wanted]
    )
