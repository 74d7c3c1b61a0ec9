"""Uploading photos over HTTP: who sees what, limits, refusals that leave nothing behind."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import re
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientResponse, FormData
from aiohttp.test_utils import TestClient
from PIL import ExifTags, Image
from PIL.TiffImagePlugin import IFDRational

from core.auth.accounts import create_staff
from core.auth.service import citizen_identity, issue_token
from core.config import Settings
from core.media.models import MediaObject
from core.web import create_app

MEDIA = "/api/v1/media"
CHINESE = re.compile(r"[\u4e00-\u9fff]")
GPS = ExifTags.GPS
# 30°16'26.76" N, 120°9'18.36" E: the West Lake, as a phone writes it.
LAT = 30 + 16 / 60 + 26.76 / 3600
LON = 120 + 9 / 60 + 18.36 / 3600


def _photo(*, gps: bool = True, colour: tuple[int, int, int] = (30, 90, 200)) -> bytes:
    exif = Image.Exif()
    if gps:
        exif[ExifTags.IFD.GPSInfo] = {
            GPS.GPSLatitudeRef: "N",
            GPS.GPSLatitude: (IFDRational(30), IFDRational(16), IFDRational(2676, 100)),
            GPS.GPSLongitudeRef: "E",
            GPS.GPSLongitude: (IFDRational(120), IFDRational(9), IFDRational(1836, 100)),
        }
    exif[ExifTags.IFD.Exif] = {ExifTags.Base.DateTimeOriginal: "2026:11:20 09:30:00"}
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), colour).save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def _noisy_photo() -> bytes:
    """A JPEG of random pixels: tens of kilobytes however well it compresses."""
    buffer = io.BytesIO()
    Image.frombytes("RGB", (160, 120), os.urandom(160 * 120 * 3)).save(buffer, "JPEG", quality=95)
    return buffer.getvalue()


def _png_bomb(width: int = 60_000, height: int = 60_000) -> bytes:
    """A few dozen bytes of PNG whose header claims billions of pixels."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\x00" * 64)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


def _form(data: bytes, filename: str = "photo.jpg", content_type: str = "image/jpeg") -> FormData:
    form = FormData()
    form.add_field("file", data, filename=filename, content_type=content_type)
    return form


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _staff_token() -> str:
    staff = await create_staff(
        username="inspector",
        password="correct-horse-battery",
        display_name="监督员",
        roles=["inspector"],
    )
    token, _ = await issue_token(staff=staff, ttl=dt.timedelta(hours=1))
    return token


async def _citizen_token() -> str:
    citizen = await citizen_identity(channel="wechat", external_id="oCitizen0123456789abcdefghij")
    token, _ = await issue_token(citizen=citizen, ttl=dt.timedelta(hours=1))
    return token


async def _upload(
    client: TestClient[Any, Any], token: str, data: bytes, **form: str
) -> ClientResponse:
    return await client.post(MEDIA, data=_form(data, **form), headers=_bearer(token))


async def _error(resp: ClientResponse, status: int, code: str) -> dict[str, Any]:
    assert resp.status == status, await resp.text()
    body: dict[str, Any] = await resp.json()
    assert body["code"] == code
    assert CHINESE.search(body["message"]), body["message"]
    assert body["request_id"] == resp.headers["X-Request-ID"]
    return body


def _files(media_dir: Path) -> list[Path]:
    return [p for p in media_dir.rglob("*") if p.is_file()] if media_dir.exists() else []


async def _nothing_stored(media_dir: Path) -> None:
    assert await MediaObject.all().count() == 0
    assert _files(media_dir) == []


def _has_no_metadata(data: bytes) -> None:
    image = Image.open(io.BytesIO(data))
    image.load()
    assert len(image.getexif()) == 0
    assert "exif" not in image.info
    assert b"Exif\x00\x00" not in data


# --- accepted uploads ----------------------------------------------------------------------------


async def test_staff_upload_keeps_evidence_and_publishes_a_clean_copy(
    client: TestClient[Any, Any], settings: Settings
) -> None:
    token = await _staff_token()
    photo = _photo()
    resp = await _upload(client, token, photo)
    assert resp.status == 201, await resp.text()
    body = await resp.json()
    assert (body["mime"], body["size"], body["width"], body["height"]) == (
        "image/jpeg",
        len(photo),
        640,
        480,
    )
    assert body["gps_lat"] == pytest.approx(LAT, abs=1e-6)
    assert body["gps_lon"] == pytest.approx(LON, abs=1e-6)
    assert body["taken_at"].startswith("2026-11-20T09:30:00")

    for url in (body["public_url"], body["thumb_url"]):
        copy = await client.get(url)  # no token: these go to the public
        assert copy.status == 200, url
        assert copy.content_type == "image/jpeg"
        _has_no_metadata(await copy.read())

    original = await client.get(body["original_url"], headers=_bearer(token))
    assert original.status == 200
    assert original.headers["Cache-Control"] == "private, no-store"
    # A polyglot must not run as a page: no sniffing, saved not shown.
    assert original.headers["X-Content-Type-Options"] == "nosniff"
    assert original.headers["Content-Disposition"].startswith("attachment;")
    assert await original.read() == photo  # evidence, byte for byte
    stored = {p.parts[len(settings.media_dir.parts)]: p for p in _files(settings.media_dir)}
    assert set(stored) == {"orig", "public", "thumb"}
    assert stored["orig"].stat().st_mode & 0o077 == 0  # the original carries GPS: owner only


async def test_citizen_upload_hides_evidence(client: TestClient[Any, Any]) -> None:
    token = await _citizen_token()
    resp = await _upload(client, token, _photo())
    assert resp.status == 201, await resp.text()
    body = await resp.json()
    assert (body["gps_lat"], body["gps_lon"], body["taken_at"]) == (None, None, None)
    assert body["original_url"] is None
    assert (await client.get(body["thumb_url"])).status == 200

    media = await MediaObject.get(id=body["id"])
    assert media.gps_lat == pytest.approx(LAT, abs=1e-6)  # kept for staff
    original = await client.get(f"{MEDIA}/{media.id}/original", headers=_bearer(token))
    await _error(original, 403, "role_forbidden")
    info = await client.get(f"{MEDIA}/{media.id}", headers=_bearer(token))
    assert (await info.json())["gps_lat"] is None

    # An inspector sees a citizen's photo only through a case of theirs (ids are sequential:
    # it is not there at all for them); the centre sees it directly.
    inspector = await _staff_token()
    info = await client.get(f"{MEDIA}/{media.id}", headers=_bearer(inspector))
    await _error(info, 404, "not_found")
    denied = await client.get(f"{MEDIA}/{media.id}/original", headers=_bearer(inspector))
    await _error(denied, 404, "not_found")
    acceptor = await create_staff(
        username="acceptor",
        password="correct-horse-battery",
        display_name="受理员",
        roles=["acceptor"],
    )
    centre, _ = await issue_token(staff=acceptor, ttl=dt.timedelta(hours=1))
    info = await client.get(f"{MEDIA}/{media.id}", headers=_bearer(centre))
    assert (await info.json())["gps_lat"] == pytest.approx(LAT, abs=1e-6)
    assert (await client.get(f"{MEDIA}/{media.id}/original", headers=_bearer(centre))).status == 200


async def test_public_urls_cannot_be_derived_from_the_photo_or_its_id(
    client: TestClient[Any, Any],
) -> None:
    token = await _staff_token()
    photo = _photo()
    body = await (await _upload(client, token, photo)).json()
    sha = hashlib.sha256(photo).hexdigest()
    assert sha not in body["public_url"] and sha not in body["thumb_url"]
    assert (await client.get(body["public_url"])).status == 200
    # The old, derivable names answer nothing: anyone holding the photo could compute them.
    for url in (f"{MEDIA}/public/{sha}.jpg", f"{MEDIA}/thumb/{sha}.jpg"):
        assert (await client.get(url)).status == 404, url
    # Another uploader of the same picture gets a name of their own.
    other = await (await _upload(client, await _citizen_token(), photo)).json()
    assert other["public_url"] != body["public_url"]


async def test_same_photo_twice_is_one_object(client: TestClient[Any, Any]) -> None:
    token = await _staff_token()
    photo = _photo()
    first = await (await _upload(client, token, photo, filename="a.jpg")).json()
    second_resp = await _upload(client, token, photo, filename="b.jpeg")
    assert second_resp.status == 201
    second = await second_resp.json()
    assert second["id"] == first["id"]
    assert await MediaObject.all().count() == 1
    other = await (await _upload(client, token, _photo(colour=(200, 30, 30)))).json()
    assert other["id"] != first["id"]


async def test_citizen_cannot_open_another_citizens_photo(client: TestClient[Any, Any]) -> None:
    mine = await _citizen_token()
    uploaded = await (await _upload(client, mine, _photo())).json()
    other = await citizen_identity(channel="wechat", external_id="oSomebodyElse0123456789abcdef")
    theirs, _ = await issue_token(citizen=other, ttl=dt.timedelta(hours=1))
    resp = await client.get(f"{MEDIA}/{uploaded['id']}", headers=_bearer(theirs))
    await _error(resp, 404, "not_found")
    assert (await client.get(f"{MEDIA}/{uploaded['id']}", headers=_bearer(mine))).status == 200


async def test_transparent_png_is_published_as_png(client: TestClient[Any, Any]) -> None:
    image = Image.new("RGBA", (120, 80), (0, 128, 0, 255))
    image.paste((0, 0, 0, 0), (0, 0, 60, 80))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    token = await _staff_token()
    resp = await _upload(
        client, token, buffer.getvalue(), filename="sign.png", content_type="image/png"
    )
    assert resp.status == 201
    body = await resp.json()
    assert body["mime"] == "image/png"
    assert body["public_url"].endswith(".png")
    public = await client.get(body["public_url"])
    assert (public.status, public.content_type) == (200, "image/png")
    pixels = Image.open(io.BytesIO(await public.read())).convert("RGBA")
    assert pixels.getpixel((5, 5)) == (0, 0, 0, 0)
    thumb = await client.get(body["thumb_url"])
    assert (thumb.status, thumb.content_type) == (200, "image/jpeg")


async def test_citizen_can_open_the_photo_they_just_uploaded_even_if_others_had_it(
    client: TestClient[Any, Any],
) -> None:
    photo = _photo()
    staff = await _staff_token()
    assert (await _upload(client, staff, photo)).status == 201  # e.g. an inspector's photo
    token = await _citizen_token()
    uploaded = await (await _upload(client, token, photo)).json()
    info = await client.get(f"{MEDIA}/{uploaded['id']}", headers=_bearer(token))
    assert info.status == 200


async def test_public_copy_of_unknown_photo_is_404(client: TestClient[Any, Any]) -> None:
    await _error(await client.get(f"{MEDIA}/public/{'ab' * 32}.jpg"), 404, "not_found")


# --- refusals ------------------------------------------------------------------------------------


async def test_text_file_is_415_and_nothing_is_stored(
    client: TestClient[Any, Any], settings: Settings
) -> None:
    token = await _staff_token()
    resp = await _upload(
        client,
        token,
        "这是一段文字，不是图片。".encode(),
        filename="x.jpg",
        content_type="image/jpeg",
    )
    await _error(resp, 415, "unsupported_media_type")
    await _nothing_stored(settings.media_dir)


async def test_upload_over_the_limit_is_413_and_nothing_is_stored(
    aiohttp_client: Any, settings: Settings
) -> None:
    small = settings.model_copy(update={"upload_max_bytes": 2048})
    client = await aiohttp_client(create_app(small))
    token = await _staff_token()
    photo = _noisy_photo()
    assert len(photo) > 4 * 2048
    body = await _error(await _upload(client, token, photo), 413, "payload_too_large")
    assert body["max_bytes"] == 2048
    await _nothing_stored(small.media_dir)


@pytest.mark.parametrize(
    "size",
    [(60_000, 60_000), (8_000, 8_000)],
    ids=["over-pillow-bomb-limit", "over-our-pixel-limit"],
)
async def test_decompression_bomb_is_413_and_nothing_is_stored(
    client: TestClient[Any, Any], settings: Settings, size: tuple[int, int]
) -> None:
    token = await _staff_token()
    bomb = _png_bomb(*size)
    assert len(bomb) < 1024
    resp = await _upload(client, token, bomb, filename="bomb.png", content_type="image/png")
    await _error(resp, 413, "image_too_many_pixels")
    await _nothing_stored(settings.media_dir)


async def test_non_multipart_post_is_400(client: TestClient[Any, Any], settings: Settings) -> None:
    token = await _staff_token()
    resp = await client.post(
        MEDIA, data=_photo(), headers={**_bearer(token), "Content-Type": "image/jpeg"}
    )
    await _error(resp, 400, "multipart_required")
    await _nothing_stored(settings.media_dir)


async def test_multipart_without_a_file_field_is_400(client: TestClient[Any, Any]) -> None:
    token = await _staff_token()
    form = FormData(default_to_multipart=True)
    resp = await client.post(MEDIA, data=form, headers=_bearer(token))
    await _error(resp, 400, "file_missing")


async def test_any_part_but_one_file_is_refused_and_nothing_stored(
    client: TestClient[Any, Any], settings: Settings
) -> None:
    token = await _staff_token()
    form = FormData()
    form.add_field("photo", _photo(), filename="photo.jpg", content_type="image/jpeg")
    await _error(await client.post(MEDIA, data=form, headers=_bearer(token)), 400, "unknown_part")
    form = FormData()
    form.add_field("file", _photo(), filename="photo.jpg", content_type="image/jpeg")
    form.add_field("padding", "x" * 100_000)  # an extra part is refused, not skipped
    await _error(await client.post(MEDIA, data=form, headers=_bearer(token)), 400, "unknown_part")
    await _nothing_stored(settings.media_dir)


async def test_upload_without_token_is_401(
    client: TestClient[Any, Any], settings: Settings
) -> None:
    resp = await client.post(MEDIA, data=_form(_photo()))
    await _error(resp, 401, "token_missing")
    await _nothing_stored(settings.media_dir)


async def test_a_malformed_part_header_is_a_400_without_its_bytes_in_the_log(
    client: TestClient[Any, Any], caplog: pytest.LogCaptureFixture
) -> None:
    token = await _citizen_token()
    boundary = "b0undary"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="\x0b\x15evil"\r\n\r\nx\r\n'
        f"--{boundary}--\r\n"
    ).encode()
    r = await client.post(
        "/api/v1/media",
        data=body,
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        },
    )
    assert r.status == 400 and (await r.json())["code"] == "malformed_multipart"
    assert not any("evil" in rec.getMessage() for rec in caplog.records)
