"""Uploaded photos: type checks, limits, EXIF evidence, clean public copies; and LocalStorage."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import struct
import warnings
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import ExifTags, Image, ImageCms
from PIL.TiffImagePlugin import IFDRational

from core.errors import NotFound, PayloadTooLarge, UnsupportedMedia
from core.media.images import ProcessedImage, process_image
from core.media.storage import LocalStorage, content_key

MB = 1024 * 1024
GPS = ExifTags.GPS
# 31°13'45.6789" / 121°28'12.34": written as rationals, read back as decimal degrees.
LAT_DMS = (IFDRational(31), IFDRational(13), IFDRational(456789, 10000))
LON_DMS = (IFDRational(121), IFDRational(28), IFDRational(1234, 100))
LAT = 31 + 13 / 60 + 45.6789 / 3600
LON = 121 + 28 / 60 + 12.34 / 3600
SECRET_COMMENT = b"cityloop-secret-comment"


def _exif(
    *,
    orientation: int | None = None,
    gps: dict[int, Any] | None = None,
    taken: str | None = None,
    offset: str | None = None,
) -> Image.Exif:
    exif = Image.Exif()
    if orientation is not None:
        exif[ExifTags.Base.Orientation] = orientation
    if gps is not None:
        exif[ExifTags.IFD.GPSInfo] = gps
    sub: dict[int, Any] = {}
    if taken is not None:
        sub[ExifTags.Base.DateTimeOriginal] = taken
    if offset is not None:
        sub[ExifTags.Base.OffsetTimeOriginal] = offset
    if sub:
        exif[ExifTags.IFD.Exif] = sub
    return exif


def _gps(lat_ref: str = "N", lon_ref: str = "E") -> dict[int, Any]:
    return {
        GPS.GPSLatitudeRef: lat_ref,
        GPS.GPSLatitude: LAT_DMS,
        GPS.GPSLongitudeRef: lon_ref,
        GPS.GPSLongitude: LON_DMS,
    }


def _encode(image: Image.Image, image_format: str = "JPEG", **params: Any) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, image_format, **params)
    return buffer.getvalue()


def _jpeg(size: tuple[int, int] = (400, 200), **params: Any) -> bytes:
    return _encode(Image.new("RGB", size, (30, 90, 200)), "JPEG", **params)


def _png_header_only(width: int, height: int) -> bytes:
    """Build a tiny PNG whose IHDR claims width x height; its pixel data could never decode."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body)
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    idat = zlib.compress(b"\x00" * 8)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _process(
    data: bytes, *, max_bytes: int = 10 * MB, max_pixels: int = 50_000_000
) -> ProcessedImage:
    return process_image(data, max_bytes=max_bytes, max_pixels=max_pixels)


def _open(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


# --- EXIF evidence -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lat_ref", "lon_ref", "lat", "lon"),
    [("N", "E", LAT, LON), ("S", "W", -LAT, -LON)],
)
def test_gps_read_as_signed_decimal_degrees(
    lat_ref: str, lon_ref: str, lat: float, lon: float
) -> None:
    result = _process(_jpeg(exif=_exif(gps=_gps(lat_ref, lon_ref))))
    assert result.gps is not None
    assert abs(result.gps.lat - lat) < 1e-6
    assert abs(result.gps.lon - lon) < 1e-6
    assert result.gps == (result.gps.lon, result.gps.lat)  # (lon, lat) order, as GeoJSON


def test_capture_time_with_offset_keeps_that_offset() -> None:
    exif = _exif(taken="2024:05:01 10:20:30", offset="+09:00")
    taken = _process(_jpeg(exif=exif)).taken_at
    assert taken is not None
    assert taken == datetime(2024, 5, 1, 1, 20, 30, tzinfo=UTC)
    assert taken.utcoffset() == timedelta(hours=9)


@pytest.mark.parametrize("offset", [None, "  :  ", "+99:99"])
def test_capture_time_without_usable_offset_is_shanghai_time(offset: str | None) -> None:
    exif = _exif(taken="2024:05:01 10:20:30", offset=offset)
    taken = _process(_jpeg(exif=exif)).taken_at
    assert taken is not None
    assert taken == datetime(2024, 5, 1, 2, 20, 30, tzinfo=UTC)
    assert taken.utcoffset() == timedelta(hours=8)


def test_photo_without_exif_has_no_gps_or_time() -> None:
    result = _process(_jpeg())
    assert result.gps is None
    assert result.taken_at is None


@pytest.mark.parametrize(
    "gps",
    [
        {GPS.GPSLatitude: LAT_DMS, GPS.GPSLongitudeRef: "E", GPS.GPSLongitude: LON_DMS},
        {**_gps(), GPS.GPSLatitude: (IFDRational(31, 0), IFDRational(0), IFDRational(0))},
        {**_gps(), GPS.GPSLatitude: (IFDRational(1),) * 4},
        {**_gps(), GPS.GPSLatitudeRef: "X"},
        {**_gps(), GPS.GPSLatitude: (IFDRational(95), IFDRational(0), IFDRational(0))},
        {**_gps(), GPS.GPSLatitude: (IFDRational(0),) * 3, GPS.GPSLongitude: (IFDRational(0),) * 3},
    ],
    ids=["no-ref", "zero-denominator", "four-parts", "bad-ref", "out-of-range", "null-island"],
)
def test_malformed_gps_gives_none(gps: dict[int, Any]) -> None:
    result = _process(_jpeg(exif=_exif(gps=gps, taken="2024:05:01 10:20:30")))
    assert result.gps is None
    assert result.taken_at is not None  # the rest of the EXIF still counts


@pytest.mark.parametrize("taken", ["0000:00:00 00:00:00", "yesterday", ""])
def test_malformed_capture_time_gives_none(taken: str) -> None:
    result = _process(_jpeg(exif=_exif(taken=taken, gps=_gps())))
    assert result.taken_at is None
    assert result.gps is not None


def test_broken_exif_block_does_not_fail_the_upload() -> None:
    data = _jpeg(exif=b"Exif\x00\x00MM\x00\x2a\x00\x00\x00\x08\x00\x05" + b"\xff" * 30)
    result = _process(data)
    assert (result.gps, result.taken_at) == (None, None)
    assert (result.width, result.height) == (400, 200)


# --- derived copies ------------------------------------------------------------------------------


def _marked_photo(orientation: int) -> bytes:
    """A 400x200 photo with a red block at its stored top-left corner."""
    image = Image.new("RGB", (400, 200), (30, 90, 200))
    image.paste((255, 0, 0), (0, 0, 60, 60))
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    xmp = b"<x:xmpmeta xmlns:x='adobe:ns:meta/'>where and who</x:xmpmeta>"
    exif = _exif(orientation=orientation, gps=_gps(), taken="2024:05:01 10:20:30", offset="+08:00")
    return _encode(image, exif=exif, icc_profile=icc, xmp=xmp, comment=SECRET_COMMENT)


def _pixel(image: Image.Image, xy: tuple[int, int]) -> tuple[int, ...]:
    value = image.getpixel(xy)
    assert isinstance(value, tuple)
    return value


def _is_red(pixel: tuple[int, ...]) -> bool:
    red, green, blue = pixel
    return bool(red > 200 and green < 60 and blue < 60)


def test_orientation_6_is_applied_to_public_copy_and_thumbnail() -> None:
    result = _process(_marked_photo(orientation=6))
    assert (result.width, result.height) == (200, 400)
    public = _open(result.public).convert("RGB")
    assert public.size == (200, 400)
    assert _open(result.thumb).size == (160, 320)
    # Orientation 6 means "turn 90° clockwise to view": the stored top-left lands top-right.
    assert _is_red(_pixel(public, (185, 15)))
    assert not _is_red(_pixel(public, (15, 15)))


def test_upright_photo_keeps_its_layout() -> None:
    result = _process(_marked_photo(orientation=1))
    assert (result.width, result.height) == (400, 200)
    assert _is_red(_pixel(_open(result.public).convert("RGB"), (15, 15)))


@pytest.mark.parametrize("which", ["public", "thumb"])
def test_public_copy_and_thumbnail_carry_no_metadata(which: str) -> None:
    data: bytes = getattr(_process(_marked_photo(orientation=6)), which)
    image = _open(data)
    assert image.format == "JPEG"
    assert len(image.getexif()) == 0
    assert not {"exif", "xmp", "XML:com.adobe.xmp", "icc_profile", "comment"} & set(image.info)
    for marker in (b"Exif\x00\x00", b"ICC_PROFILE", b"adobe:ns:meta", SECRET_COMMENT):
        assert marker not in data


def test_original_is_kept_byte_for_byte_with_its_sha256() -> None:
    data = _marked_photo(orientation=6)
    result = _process(data)
    assert result.original == data
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert (result.mime, result.ext) == ("image/jpeg", "jpg")
    # The evidence still says where it was taken.
    assert _open(result.original).getexif().get_ifd(ExifTags.IFD.GPSInfo)


def test_large_photo_is_capped_for_the_public() -> None:
    result = _process(_jpeg((3000, 1000)))
    assert (result.width, result.height) == (3000, 1000)
    assert _open(result.public).size == (2560, 853)
    assert _open(result.thumb).size == (320, 107)


def test_png_with_transparency_stays_png_and_thumbnail_is_flat_jpeg() -> None:
    image = Image.new("RGBA", (100, 50), (0, 128, 0, 255))
    image.paste((0, 0, 0, 0), (0, 0, 50, 50))
    result = _process(_encode(image, "PNG"))
    assert (result.mime, result.ext) == ("image/png", "png")
    assert (result.public_mime, result.public_ext) == ("image/png", "png")
    public = _open(result.public)
    assert public.mode == "RGBA"
    assert _pixel(public, (10, 10))[3] == 0
    thumb = _open(result.thumb)
    assert (thumb.format, thumb.mode) == ("JPEG", "RGB")
    assert min(_pixel(thumb, (10, 10))) > 240  # transparent shown as white


def test_palette_png_with_transparency_keeps_it() -> None:
    image = Image.new("P", (40, 40), 1)
    image.putpalette([0, 0, 0, 255, 0, 0])
    image.paste(0, (0, 0, 20, 40))  # palette index 0 is the transparent one
    result = _process(_encode(image, "PNG", transparency=0))
    assert result.public_mime == "image/png"
    public = _open(result.public)
    assert _pixel(public, (5, 5))[3] == 0
    assert _pixel(public, (35, 5)) == (255, 0, 0, 255)


def test_opaque_rgba_png_is_published_as_jpeg() -> None:
    result = _process(_encode(Image.new("RGBA", (60, 40), (9, 9, 9, 255)), "PNG"))
    assert result.mime == "image/png"
    assert (result.public_mime, result.public_ext) == ("image/jpeg", "jpg")
    assert _open(result.public).format == "JPEG"


@pytest.mark.parametrize(
    ("data", "mime", "ext"),
    [
        (_encode(Image.new("RGB", (64, 48), "red"), "WEBP"), "image/webp", "webp"),
        (
            _encode(
                Image.new("RGB", (64, 48), "red"),
                "MPO",
                save_all=True,
                append_images=[Image.new("RGB", (64, 48), "blue")],
            ),
            "image/jpeg",
            "jpg",
        ),
        (_encode(Image.new("L", (64, 48), 128), "JPEG"), "image/jpeg", "jpg"),
    ],
    ids=["webp", "mpo-multi-picture-jpeg", "greyscale-jpeg"],
)
def test_other_allowed_images_are_accepted(data: bytes, mime: str, ext: str) -> None:
    result = _process(data)
    assert (result.mime, result.ext) == (mime, ext)
    assert (result.width, result.height) == (64, 48)
    assert _open(result.public).size == (64, 48)


# --- refusals ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        "这不是图片".encode(),
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n",
        _encode(Image.new("RGB", (20, 20), "red"), "GIF"),
        _encode(Image.new("RGB", (20, 20), "red"), "BMP"),
    ],
    ids=["text", "pdf", "gif", "bmp"],
)
def test_not_allowed_types_are_415(data: bytes) -> None:
    with pytest.raises(UnsupportedMedia) as caught:
        _process(data)
    assert (caught.value.status, caught.value.code) == (415, "unsupported_media_type")
    assert all(name in caught.value.message for name in ("JPEG", "PNG", "WEBP"))


_FULL_JPEG = _encode(Image.effect_mandelbrot((600, 400), (-2, -1, 1, 1), 50).convert("RGB"))


@pytest.mark.parametrize(
    "data",
    [
        _FULL_JPEG[: len(_FULL_JPEG) // 2],
        _FULL_JPEG[:120],
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 64,
        _png_header_only(64, 64),
    ],
    ids=["truncated-jpeg", "jpeg-header-only", "png-garbage", "png-without-pixels"],
)
def test_damaged_images_are_415_corrupt(data: bytes) -> None:
    with pytest.raises(UnsupportedMedia) as caught:
        _process(data)
    assert (caught.value.status, caught.value.code) == (415, "corrupt_image")


def test_oversize_upload_is_413_before_anything_else() -> None:
    # Not even an image: the size check must come first.
    with pytest.raises(PayloadTooLarge) as caught:
        _process(b"\x00" * (10 * MB + 1), max_bytes=10 * MB)
    assert (caught.value.status, caught.value.code) == (413, "payload_too_large")
    assert "10 MB" in caught.value.message


def test_upload_at_the_byte_limit_is_accepted() -> None:
    data = _jpeg()
    assert _process(data, max_bytes=len(data)).sha256
    with pytest.raises(PayloadTooLarge):
        _process(data, max_bytes=len(data) - 1)


@pytest.mark.parametrize(
    ("data", "max_pixels"),
    [
        (_png_header_only(20_000, 20_000), 50_000_000),  # over Pillow's DecompressionBombError
        (_png_header_only(10_000, 10_000), 50_000_000),  # over Pillow's DecompressionBombWarning
        (_png_header_only(3_000, 3_000), 1_000_000),  # over our own limit only
    ],
    ids=["400mp", "100mp", "9mp"],
)
def test_too_many_pixels_is_413_from_the_header(data: bytes, max_pixels: int) -> None:
    # The pixel data of these PNGs cannot decode: a decode attempt would end in corrupt_image.
    with warnings.catch_warnings(record=True) as leaked:
        warnings.simplefilter("always")
        filters = list(warnings.filters)
        with pytest.raises(PayloadTooLarge) as caught:
            _process(data, max_pixels=max_pixels)
        assert warnings.filters == filters  # process-wide settings are left as they were
    assert (caught.value.status, caught.value.code) == (413, "image_too_many_pixels")
    assert "万像素" in caught.value.message
    assert leaked == []


async def test_concurrent_uploads_in_threads_each_get_their_answer() -> None:
    photo, bomb = _marked_photo(orientation=6), _png_header_only(10_000, 10_000)
    filters = list(warnings.filters)

    async def one(data: bytes) -> str:
        try:
            return (await asyncio.to_thread(_process, data)).sha256
        except PayloadTooLarge as err:
            return err.code

    answers = await asyncio.gather(*(one(d) for d in [photo, bomb] * 8))
    assert answers == [hashlib.sha256(photo).hexdigest(), "image_too_many_pixels"] * 8
    assert warnings.filters == filters


def test_image_at_the_pixel_limit_is_accepted() -> None:
    assert _process(_jpeg((100, 100)), max_pixels=10_000).width == 100
    with pytest.raises(PayloadTooLarge):
        _process(_jpeg((100, 101)), max_pixels=10_000)


# --- storage -------------------------------------------------------------------------------------

SHA = hashlib.sha256(b"photo").hexdigest()


def test_content_key_fans_out_by_hash() -> None:
    assert content_key("orig", SHA, "jpg") == f"orig/{SHA[:2]}/{SHA[2:4]}/{SHA}.jpg"


@pytest.mark.parametrize(
    ("kind", "sha", "ext"),
    [
        ("../orig", SHA, "jpg"),
        ("orig", SHA.upper(), "jpg"),
        ("orig", SHA[:10], "jpg"),
        ("orig", SHA, ".jpg"),
        ("orig", SHA, "jpg/../../x"),
    ],
)
def test_content_key_rejects_bad_parts(kind: str, sha: str, ext: str) -> None:
    with pytest.raises(ValueError, match="bad"):
        content_key(kind, sha, ext)


def _files(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


async def test_local_storage_round_trip(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path / "media")
    key = content_key("orig", SHA, "jpg")
    assert not await storage.exists(key)
    await storage.put(key, b"photo", content_type="image/jpeg")
    assert await storage.exists(key)
    assert await storage.get(key) == b"photo"
    path = storage.path_for(key)
    assert path is not None
    assert path.read_bytes() == b"photo"
    assert _files(tmp_path / "media") == {key}  # no temp file left behind
    await storage.delete(key)
    assert not await storage.exists(key)
    await storage.delete(key)  # deleting twice is fine


async def test_missing_key_is_not_found(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    with pytest.raises(NotFound) as caught:
        await storage.get(content_key("thumb", SHA, "jpg"))
    assert caught.value.status == 404
    with pytest.raises(NotFound):
        await storage.get("orig")  # a directory is not a stored object
    (tmp_path / "orig").mkdir()
    with pytest.raises(NotFound):
        await storage.get("orig")


@pytest.mark.parametrize(
    "key",
    [
        "../escape.jpg",
        "orig/../../escape.jpg",
        "/etc/passwd",
        "",
        "orig//x.jpg",
        "orig/./x.jpg",
        ".hidden",
        "orig\\..\\escape.jpg",
        "C:/escape.jpg",
    ],
)
async def test_keys_that_could_escape_root_are_rejected(tmp_path: Path, key: str) -> None:
    storage = LocalStorage(tmp_path / "media")
    with pytest.raises(ValueError, match="bad media key"):
        await storage.put(key, b"x", content_type="image/jpeg")
    for call in (storage.get, storage.exists, storage.delete):
        with pytest.raises(ValueError, match="bad media key"):
            await call(key)
    with pytest.raises(ValueError, match="bad media key"):
        storage.path_for(key)
    assert _files(tmp_path) == set()


async def test_put_of_same_content_leaves_the_file_alone(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    key = content_key("public", SHA, "jpg")
    await storage.put(key, b"v1", content_type="image/jpeg")
    before = (tmp_path / key).stat()
    await storage.put(key, b"v1", content_type="image/jpeg")
    after = (tmp_path / key).stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    await storage.put(key, b"v2", content_type="image/jpeg")
    assert await storage.get(key) == b"v2"
    assert _files(tmp_path) == {key}


async def test_failed_put_keeps_old_bytes_and_leaves_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = LocalStorage(tmp_path)
    key = content_key("orig", SHA, "jpg")
    await storage.put(key, b"old", content_type="image/jpeg")

    def disk_full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)  # the crash comes mid-write, before the rename
    with pytest.raises(OSError, match="No space"):
        await storage.put(key, b"new", content_type="image/jpeg")
    other = content_key("orig", hashlib.sha256(b"other").hexdigest(), "jpg")
    with pytest.raises(OSError, match="No space"):
        await storage.put(other, b"other", content_type="image/jpeg")
    monkeypatch.undo()
    assert await storage.get(key) == b"old"
    assert not await storage.exists(other)
    assert _files(tmp_path) == {key}
