"""Accepting uploads: validate, store original, public copy and thumbnail, record the row."""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import functools
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Final

from core.config import Settings
from core.errors import NotFound
from core.media.images import ProcessedImage, process_image
from core.media.models import MediaObject
from core.media.storage import Storage, content_key

THUMB_EXT = "jpg"
MEDIA_BASE: Final = "/api/v1/media"
PUBLIC_TOKEN_BYTES: Final = 16  # 128 bits: public URLs cannot be guessed or enumerated
_pools: dict[int, ThreadPoolExecutor] = {}


def public_url(token: str, public_ext: str) -> str:
    """Path of a photo's metadata-free public copy (no token needed: the name is the secret)."""
    return f"{MEDIA_BASE}/public/{token}.{public_ext}"


def thumb_url(token: str) -> str:
    """Path of a photo's thumbnail."""
    return f"{MEDIA_BASE}/thumb/{token}.{THUMB_EXT}"


def _image_pool(workers: int) -> ThreadPoolExecutor:
    """The threads that decode images, apart from asyncio's default pool (disk I/O, DNS).

    Its size bounds decode memory: a 40-megapixel PNG decodes at full size (PNG cannot be
    reduced while decoding, as JPEG can), so N workers hold at most N such images at once.
    """
    pool = _pools.get(workers)
    if pool is None:
        pool = _pools[workers] = ThreadPoolExecutor(workers, thread_name_prefix="image")
    return pool


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's malloc_trim, or None on another C library."""
    name = ctypes.util.find_library("c")
    try:
        return getattr(ctypes.CDLL(name), "malloc_trim", None) if name else None
    except OSError:
        return None


def _process_and_release(data: bytes, *, max_bytes: int, max_pixels: int) -> ProcessedImage:
    """process_image, then hand freed decode buffers back to the system.

    Pillow frees a decoded image's blocks, but glibc keeps large freed blocks in the thread's
    arena: after a burst of big PNGs the process stayed at 2 GB resident without this.
    """
    try:
        return process_image(data, max_bytes=max_bytes, max_pixels=max_pixels)
    finally:
        trim = _malloc_trim()
        if trim is not None:
            trim(0)


def max_pixels_for(settings: Settings, *, citizen: bool) -> int:
    """The pixel limit of an uploader: citizens get the lower one."""
    if citizen:
        return min(settings.upload_max_pixels, settings.upload_max_pixels_citizen)
    return settings.upload_max_pixels


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
    work = functools.partial(
        _process_and_release,
        data,
        max_bytes=settings.upload_max_bytes,
        max_pixels=max_pixels_for(settings, citizen=staff_id is None),
    )
    loop = asyncio.get_running_loop()
    img = await loop.run_in_executor(_image_pool(settings.image_workers), work)
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
        public_token=secrets.token_urlsafe(PUBLIC_TOKEN_BYTES),
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
