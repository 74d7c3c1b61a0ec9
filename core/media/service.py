"""Accepting uploads: validate, store original, public copy and thumbnail, record the row."""

from __future__ import annotations

import asyncio

from core.config import Settings
from core.errors import NotFound
from core.media.images import ProcessedImage, process_image
from core.media.models import MediaObject
from core.media.storage import Storage, content_key

THUMB_EXT = "jpg"


def original_key(media: MediaObject) -> str:
    """Storage key of the untouched original (evidence; staff only)."""
    return content_key("orig", media.sha256, media.ext)


def public_key(sha256: str, ext: str) -> str:
    """Storage key of the metadata-free public copy."""
    return content_key("public", sha256, ext)


def thumb_key(sha256: str) -> str:
    """Storage key of the thumbnail."""
    return content_key("thumb", sha256, THUMB_EXT)


async def ingest(
    data: bytes,
    *,
    settings: Settings,
    storage: Storage,
    staff_id: int | None = None,
    citizen_id: int | None = None,
) -> MediaObject:
    """Validate an upload and store it; the same person uploading the same photo gets one row."""
    img: ProcessedImage = await asyncio.to_thread(
        process_image,
        data,
        max_bytes=settings.upload_max_bytes,
        max_pixels=settings.upload_max_pixels,
    )
    # One row per uploader, so that "a citizen sees only their own uploads" holds when two
    # people send the same picture; the files themselves are stored once.
    mine = MediaObject.filter(
        sha256=img.sha256, uploaded_by_staff_id=staff_id, uploaded_by_citizen_id=citizen_id
    )
    existing = await mine.first()
    if existing is not None:
        return existing
    # Files first, row last: a crash in between leaves unreferenced files, never a row
    # pointing at nothing.
    await storage.put(content_key("orig", img.sha256, img.ext), img.original, content_type=img.mime)
    await storage.put(
        public_key(img.sha256, img.public_ext), img.public, content_type=img.public_mime
    )
    await storage.put(thumb_key(img.sha256), img.thumb, content_type="image/jpeg")
    return await MediaObject.create(
        sha256=img.sha256,
        mime=img.mime,
        ext=img.ext,
        public_ext=img.public_ext,
        size=len(img.original),
        width=img.width,
        height=img.height,
        gps_lon=img.gps.lon if img.gps else None,
        gps_lat=img.gps.lat if img.gps else None,
        taken_at=img.taken_at,
        uploaded_by_staff_id=staff_id,
        uploaded_by_citizen_id=citizen_id,
    )


async def get_media(media_id: int) -> MediaObject:
    """Load a media row or raise NotFound."""
    media = await MediaObject.get_or_none(id=media_id)
    if media is None:
        raise NotFound(f"media {media_id}", message="未找到该图片")
    return media
