"""The photos of a sync batch: parts of the request stored as uploads (core.media, EXIF read
there), and each item's references resolved to upload ids of the caller's own.

A photo part that is no image refuses only the items that use it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from core.errors import CityloopError, ValidationFailed
from core.media.models import MediaObject
from core.media.service import ingest
from core.runtime import Runtime


@dataclass
class Uploads:
    """What the request carried: stored parts by name, and the parts that failed, why."""

    stored: dict[str, int] = field(default_factory=dict)
    failed: dict[str, CityloopError] = field(default_factory=dict)


async def store_parts(parts: Mapping[str, bytes], *, runtime: Runtime, staff_id: int) -> Uploads:
    """Store each photo part as this person's upload (the same photo again: the same id)."""
    uploads = Uploads()
    for name, data in parts.items():
        try:
            media = await ingest(
                data, settings=runtime.settings, storage=runtime.storage, staff_id=staff_id
            )
        except CityloopError as err:  # not an image, too big, too many pixels
            uploads.failed[name] = err
            continue
        uploads.stored[name] = media.id
    return uploads


def _refused(code: str, message: str) -> ValidationFailed:
    return ValidationFailed(code, code=code, message=message)


async def resolve(refs: Sequence[int | str], *, uploads: Uploads, staff_id: int) -> list[int]:
    """Upload ids of an item's photos: ids must be the caller's own uploads, names parts of
    this request."""
    if not refs:
        return []
    ids: list[int] = []
    for ref in refs:
        if isinstance(ref, str):
            if ref in uploads.failed:
                err = uploads.failed[ref]
                raise _refused("photo_unusable", f"照片“{ref}”无法使用：{err.message}")
            if ref not in uploads.stored:
                raise _refused("photo_missing", f"请求中没有名为“{ref}”的照片")
            ids.append(uploads.stored[ref])
        else:
            ids.append(ref)
    mine = {
        int(str(i))
        for i in await MediaObject.filter(id__in=ids, uploaded_by_staff_id=staff_id).values_list(
            "id", flat=True
        )
    }
    for i in ids:
        if i not in mine:
            raise _refused("photo_not_found", f"照片 {i} 不存在或不是您上传的")
    return list(dict.fromkeys(ids))


async def media_of(ids: Sequence[int]) -> list[MediaObject]:
    """The upload rows, in the order given."""
    if not ids:
        return []
    found = {m.id: m for m in await MediaObject.filter(id__in=list(ids))}
    return [found[i] for i in ids if i in found]
