"""Check uploaded photos and derive what the public may see; pure and synchronous.

`process_image` is the one entry point. It is CPU-bound: `service.ingest` runs it on the image
pool (`Settings.image_workers` threads), never on the event loop or asyncio's default pool.
It decides the type from the content (never a file name or Content-Type), keeps the original
bytes untouched as evidence, reads EXIF GPS and capture time, and makes an oriented public copy
and a thumbnail built from pixel data alone, so no EXIF, GPS, XMP, ICC or comment reaches them.

Errors, from core.errors (core.web maps them to HTTP):

- PayloadTooLarge ``payload_too_large`` (413): more than max_bytes bytes.
- PayloadTooLarge ``image_too_many_pixels`` (413): width × height above max_pixels, or above
  Pillow's own bomb limit ``Image.MAX_IMAGE_PIXELS``; read from the header, nothing decoded.
- UnsupportedMedia ``unsupported_media_type`` (415): not a JPEG, PNG or WEBP image.
- UnsupportedMedia ``corrupt_image`` (415): starts like an allowed image but does not decode
  (truncated upload, damaged file).
"""

from __future__ import annotations

import hashlib
import io
import math
import re
import struct
import threading
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Final, NamedTuple
from zoneinfo import ZoneInfo

from PIL import ExifTags, Image, ImageFile, UnidentifiedImageError

from core.errors import PayloadTooLarge, UnsupportedMedia

ALLOWED_MIME_TYPES: Final = ("image/jpeg", "image/png", "image/webp")
PUBLIC_MAX_SIDE: Final = 2560
THUMB_MAX_SIDE: Final = 320
THUMB_MIME: Final = "image/jpeg"
THUMB_EXT: Final = "jpg"
_JPEG_QUALITY: Final = 85
_THUMB_QUALITY: Final = 80

# Pillow format → (MIME type, extension). MPO is Pillow's name for the multi-picture JPEG that many
# phones write; it is a JPEG file, and we use its first picture.
_FORMATS: Final = {
    "JPEG": ("image/jpeg", "jpg"),
    "MPO": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
}
_OPEN_FORMATS: Final = ("JPEG", "PNG", "WEBP")
# Magic numbers, only to tell "damaged image" from "not an allowed image" when Pillow gives up.
_MAGIC: Final = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")
# What Pillow raises on damaged data, from the header parsers and the decoders.
_DECODE_ERRORS: Final = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error)
# Modes we resize directly; others (palette, 1-bit, 16-bit) are widened first, as Pillow would
# resize a palette image with NEAREST.
_RESIZABLE_MODES: Final = ("L", "RGB", "RGBA", "CMYK")
_GREY_MODES: Final = ("1", "L", "I", "I;16", "I;16B", "I;16L", "I;16N", "F")
# EXIF Orientation → the transpose that shows the photo upright (the table of exif_transpose).
_TRANSPOSE: Final = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
# DateTimeOriginal is the camera's wall clock with no zone. Without OffsetTimeOriginal we assume
# the photo was taken in China (Asia/Shanghai, UTC+8 all year): the platform serves one city.
_ASSUMED_TZ: Final = ZoneInfo("Asia/Shanghai")
_EXIF_TIME: Final = "%Y:%m:%d %H:%M:%S"
_OFFSET: Final = re.compile(r"([+-])(\d{2}):?(\d{2})")
_WARNINGS_LOCK: Final = threading.Lock()


class GpsPoint(NamedTuple):
    """A position in decimal degrees, WGS-84 as phones record it in EXIF."""

    lon: float
    lat: float


@dataclass(frozen=True, slots=True)
class ProcessedImage:
    """An accepted upload: the untouched original, what its EXIF says, and the derived copies."""

    original: bytes  # exactly as uploaded: evidence, never re-encoded
    sha256: str  # hex digest of original
    mime: str  # of the original, from its content
    ext: str  # of the original, without the dot
    width: int  # full resolution, after EXIF orientation
    height: int
    gps: GpsPoint | None
    taken_at: datetime | None  # always aware
    public: bytes  # upright, metadata-free, longest side ≤ PUBLIC_MAX_SIDE
    public_mime: str  # image/jpeg, or image/png where the photo has transparency
    public_ext: str
    thumb: bytes  # THUMB_MIME, longest side ≤ THUMB_MAX_SIDE


class _Metadata(NamedTuple):
    orientation: int
    gps: GpsPoint | None
    taken_at: datetime | None


def too_large(max_bytes: int) -> str:
    """What a person is told of a photo over the upload limit."""
    return f"文件过大，单张图片不能超过 {round(max_bytes / 1_048_576, 1):g} MB"


def ensure_size(size: int, *, max_bytes: int) -> None:
    """Raise PayloadTooLarge when an upload of size bytes is over max_bytes."""
    if size > max_bytes:
        raise PayloadTooLarge(
            f"upload of {size} bytes is over the limit of {max_bytes}",
            message=too_large(max_bytes),
            extra={"max_bytes": max_bytes},
        )


def process_image(data: bytes, *, max_bytes: int, max_pixels: int) -> ProcessedImage:
    """Check an uploaded photo and derive its public copy and thumbnail (see the module doc)."""
    ensure_size(len(data), max_bytes=max_bytes)
    with _open(data, max_pixels=max_pixels) as image:
        mime, ext = _FORMATS[str(image.format)]
        width, height = image.size
        pixels = _decode(image)
        meta = _read_metadata(image)
        # Inside the block: closing the image frees its pixels, which may be ours.
        public = _upright_copy(pixels, meta.orientation)
    if meta.orientation in (5, 6, 7, 8):
        width, height = height, width
    public_format = "PNG" if public.mode == "RGBA" else "JPEG"
    public_mime, public_ext = _FORMATS[public_format]
    return ProcessedImage(
        original=data,
        sha256=hashlib.sha256(data).hexdigest(),
        mime=mime,
        ext=ext,
        width=width,
        height=height,
        gps=meta.gps,
        taken_at=meta.taken_at,
        public=_encode(public, public_format, quality=_JPEG_QUALITY),
        public_mime=public_mime,
        public_ext=public_ext,
        thumb=_thumbnail(public),
    )


@contextmanager
def _pillow_warnings() -> Iterator[None]:
    """Turn Pillow's bomb warning into an exception and mute its metadata warnings."""
    # catch_warnings swaps the process-wide filter list, so two threads doing it at once could
    # leave the wrong filters installed: our calls (via asyncio.to_thread) take turns. Only header
    # and EXIF parsing run inside, which take microseconds; decoding runs outside.
    with _WARNINGS_LOCK, warnings.catch_warnings():
        # Pillow warns when it skips a broken tag or a broken APNG/MPO extra; it goes on with the
        # rest, and so do we.
        warnings.simplefilter("ignore")
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        yield


def _open(data: bytes, *, max_pixels: int) -> ImageFile.ImageFile:
    """Identify data from its header alone; raise the 413 and 415 errors of the module doc."""
    try:
        with _pillow_warnings():
            image = Image.open(io.BytesIO(data), formats=_OPEN_FORMATS)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as err:
        raise _too_many_pixels(max_pixels, str(err)) from err
    except UnidentifiedImageError as err:  # before OSError, its base class
        if data.startswith(_MAGIC) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP"):
            raise _corrupt(str(err)) from err
        raise UnsupportedMedia(
            "content is not a JPEG, PNG or WEBP image",
            message="不支持的文件类型，仅支持 JPEG、PNG、WEBP 格式的图片",
            extra={"allowed": list(ALLOWED_MIME_TYPES)},
        ) from err
    except _DECODE_ERRORS as err:
        raise _corrupt(str(err)) from err
    width, height = image.size
    if width * height > max_pixels:
        image.close()
        raise _too_many_pixels(max_pixels, f"{width}x{height} is over {max_pixels} pixels")
    return image


def _decode(image: ImageFile.ImageFile) -> Image.Image:
    """Decode the first frame, shrunk to the public size; raise corrupt_image if it is damaged."""
    try:
        pixels: Image.Image = image
        if image.mode not in _RESIZABLE_MODES or "transparency" in image.info:
            pixels = image.convert(_widened_mode(image))
        # thumbnail() lets a JPEG decode at 1/2, 1/4 or 1/8 scale (draft) before LANCZOS, so a
        # 50-megapixel photo never sits in memory at full size.
        pixels.thumbnail((PUBLIC_MAX_SIDE, PUBLIC_MAX_SIDE), Image.Resampling.LANCZOS)
        pixels.load()  # thumbnail() skips loading when no shrinking is needed
    except _DECODE_ERRORS as err:
        raise _corrupt(str(err)) from err
    return pixels


def _widened_mode(image: Image.Image) -> str:
    """The mode to resize a 1-bit, 16-bit, palette or grey-alpha image in.

    Grey stays one byte a pixel (L), not three: at full size, before shrinking, a 40-megapixel
    1-bit PNG is 40 MB as L and 120 MB as RGB.
    """
    if image.has_transparency_data:
        return "RGBA"
    return "L" if image.mode in _GREY_MODES else "RGB"


def _read_metadata(image: Image.Image) -> _Metadata:
    """Read orientation, GPS and capture time; missing or malformed EXIF gives the defaults."""
    try:
        with _pillow_warnings():
            exif = image.getexif()
            orientation = _orientation(exif.get(ExifTags.Base.Orientation))
            gps_ifd = exif.get_ifd(ExifTags.IFD.GPSInfo)
            exif_ifd = exif.get_ifd(ExifTags.IFD.Exif)
    except Exception:
        # Phones and editors write all kinds of broken EXIF. It must never cost the upload, and
        # the untouched original still carries whatever was there.
        return _Metadata(orientation=1, gps=None, taken_at=None)
    return _Metadata(
        orientation=orientation,
        gps=_gps(gps_ifd),
        taken_at=_taken_at(exif_ifd),
    )


def _orientation(value: Any) -> int:
    """Return the EXIF Orientation when it is one we can apply, else 1 (as stored)."""
    return value if isinstance(value, int) and value in _TRANSPOSE else 1


def _gps(ifd: Mapping[int, Any]) -> GpsPoint | None:
    """Return the GPS IFD's position, or None when it is missing or malformed."""
    tags = ExifTags.GPS
    try:
        lat = _degrees(ifd.get(tags.GPSLatitude), ifd.get(tags.GPSLatitudeRef), "N", "S")
        lon = _degrees(ifd.get(tags.GPSLongitude), ifd.get(tags.GPSLongitudeRef), "E", "W")
    except (TypeError, ValueError, ArithmeticError):
        return None
    if lat is None or lon is None or abs(lat) > 90 or abs(lon) > 180:
        return None
    # 0/0 is what some phones write when they had no fix; no street of ours lies there.
    if lat == 0 and lon == 0:
        return None
    return GpsPoint(lon=lon, lat=lat)


def _degrees(value: Any, ref: Any, positive: str, negative: str) -> float | None:
    """Turn degrees/minutes/seconds rationals and a hemisphere letter into signed degrees."""
    hemisphere = (_ascii(ref) or "").upper()
    if hemisphere not in (positive, negative):
        return None
    parts = value if isinstance(value, tuple | list) else (value,)
    if not 1 <= len(parts) <= 3:
        return None
    degrees = sum(float(part) / 60.0**index for index, part in enumerate(parts))
    if not math.isfinite(degrees) or degrees < 0:
        return None
    return -degrees if hemisphere == negative else degrees


def _taken_at(ifd: Mapping[int, Any]) -> datetime | None:
    """Return DateTimeOriginal as an aware datetime, or None when missing or malformed."""
    raw = _ascii(ifd.get(ExifTags.Base.DateTimeOriginal))
    if raw is None:
        return None
    try:
        local = datetime.strptime(raw[:19], _EXIF_TIME).replace(tzinfo=_ASSUMED_TZ)
    except ValueError:  # "0000:00:00 00:00:00" and other placeholders
        return None
    offset = _utc_offset(_ascii(ifd.get(ExifTags.Base.OffsetTimeOriginal)))
    return local if offset is None else local.replace(tzinfo=offset)


def _utc_offset(text: str | None) -> timezone | None:
    """Parse an EXIF offset such as "+08:00"; None when missing or malformed."""
    match = _OFFSET.fullmatch(text or "")
    if match is None:
        return None
    sign, hours, minutes = match.groups()
    if int(minutes) >= 60 or int(hours) > 14:
        return None
    delta = timedelta(hours=int(hours), minutes=int(minutes))
    return timezone(-delta if sign == "-" else delta)


def _ascii(value: Any) -> str | None:
    """Return an EXIF ASCII value as text without padding, or None when it is not text."""
    if isinstance(value, bytes):
        value = value.decode("ascii", errors="replace")
    if not isinstance(value, str):
        return None
    return value.strip("\x00 ") or None


def _upright_copy(pixels: Image.Image, orientation: int) -> Image.Image:
    """Return an upright L, RGB or RGBA image built from pixel data alone, without metadata."""
    method = _TRANSPOSE.get(orientation)
    upright = pixels.transpose(method) if method is not None else pixels
    if upright.mode == "RGBA" and upright.getchannel("A").getextrema() != (255, 255):
        mode = "RGBA"
    else:
        # Fully opaque alpha (common in screenshots) costs a PNG and buys nothing.
        mode = "L" if upright.mode == "L" else "RGB"
    converted = upright.convert(mode)
    # A fresh image has an empty info dict: EXIF, XMP, ICC and comments cannot ride along.
    return Image.frombytes(mode, converted.size, converted.tobytes())


def _thumbnail(public: Image.Image) -> bytes:
    """Encode a JPEG thumbnail of the public copy, transparent parts on white."""
    thumb = public.copy()
    thumb.thumbnail((THUMB_MAX_SIDE, THUMB_MAX_SIDE), Image.Resampling.LANCZOS)
    if thumb.mode == "RGBA":
        flat = Image.new("RGB", thumb.size, "white")
        flat.paste(thumb, mask=thumb.getchannel("A"))
        thumb = flat
    return _encode(thumb, "JPEG", quality=_THUMB_QUALITY)


def _encode(image: Image.Image, image_format: str, *, quality: int) -> bytes:
    """Encode image as JPEG or PNG, passing no metadata to the encoder."""
    buffer = io.BytesIO()
    if image_format == "JPEG":
        image.save(buffer, "JPEG", quality=quality, optimize=True)
    else:
        image.save(buffer, "PNG")
    return buffer.getvalue()


def _too_many_pixels(max_pixels: int, detail: str) -> PayloadTooLarge:
    """Build the error for an image with more pixels than allowed."""
    limit = min(max_pixels, Image.MAX_IMAGE_PIXELS or max_pixels)
    return PayloadTooLarge(
        detail,
        code="image_too_many_pixels",
        message=f"图片分辨率过高，最多允许 {limit / 10_000:.4g} 万像素",
        extra={"max_pixels": limit},
    )


def _corrupt(detail: str) -> UnsupportedMedia:
    """Build the error for an image that does not decode."""
    return UnsupportedMedia(
        detail,
        code="corrupt_image",
        message="图片已损坏或不完整，请重新上传",
    )
