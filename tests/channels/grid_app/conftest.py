"""The demo city behind the running app, with phones of its inspectors and handlers: photos
with the EXIF a phone writes (Pillow: GPS and DateTimeOriginal), sync batches over HTTP, and
the case moves that give an inspector a 核实 or 核查 task."""

from __future__ import annotations

import datetime as dt
import io
import json
import uuid
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import pytest
from aiohttp import FormData
from PIL import ExifTags, Image

from tests.cases.conftest import quick_city, seeded_copy, seeded_sqlite
from tests.cases.helpers import City, jpeg

__all__ = ["quick_city", "seeded_copy", "seeded_sqlite"]  # the case core's fixtures, here too

TZ = dt.timezone(dt.timedelta(hours=8))


def _dms(value: float) -> tuple[Fraction, Fraction, Fraction]:
    value = abs(value)
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    seconds = (value - degrees - minutes / 60) * 3600
    return Fraction(degrees), Fraction(minutes), Fraction(seconds).limit_denominator(100_000)


def exif_jpeg(
    point: dict[str, float] | None = None,
    *,
    lon: float | None = None,
    lat: float | None = None,
    taken: dt.datetime | None = None,
    colour: tuple[int, int, int] = (120, 90, 60),
) -> bytes:
    """A phone's JPEG: GPS where given (a point, or lon and lat), DateTimeOriginal (with its
    offset) where given."""
    if point is not None:
        lon, lat = point["lon"], point["lat"]
    image = Image.new("RGB", (64, 48), colour)
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "FieldPhone"
    if taken is not None:
        local = taken.astimezone(TZ)
        ifd = exif.get_ifd(ExifTags.IFD.Exif)
        ifd[ExifTags.Base.DateTimeOriginal] = local.strftime("%Y:%m:%d %H:%M:%S")
        ifd[ExifTags.Base.OffsetTimeOriginal] = "+08:00"
    if lon is not None and lat is not None:
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
        gps[ExifTags.GPS.GPSLatitudeRef] = "N" if lat >= 0 else "S"
        gps[ExifTags.GPS.GPSLatitude] = _dms(lat)
        gps[ExifTags.GPS.GPSLongitudeRef] = "E" if lon >= 0 else "W"
        gps[ExifTags.GPS.GPSLongitude] = _dms(lon)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def item(kind: str, **fields: Any) -> dict[str, Any]:
    """A sync item of a kind, with a fresh UUID and the phone's queue time now."""
    body = {"id": str(uuid.uuid4()), "kind": kind, "at": now().isoformat()}
    body.update(fields)
    return body


@dataclass
class Phone:
    """One staff member's phone talking to the server."""

    city: City
    username: str

    async def headers(self) -> dict[str, str]:
        return await self.city.login(self.username)

    async def sync(
        self, items: list[dict[str, Any]], photos: dict[str, bytes] | None = None
    ) -> tuple[int, dict[str, Any]]:
        """POST a batch (JSON, or multipart when photos ride along)."""
        client = self.city.client
        if photos is None:
            r = await client.post(
                "/api/v1/field/sync", json={"items": items}, headers=await self.headers()
            )
        else:
            form = FormData()
            form.add_field("batch", json.dumps({"items": items}), content_type="application/json")
            for name, data in photos.items():
                form.add_field(name, data, filename=f"{name}.jpg", content_type="image/jpeg")
            r = await client.post("/api/v1/field/sync", data=form, headers=await self.headers())
        return r.status, await r.json()

    async def one(self, body: dict[str, Any], **photos: bytes) -> dict[str, Any]:
        """Sync one item; return its answer."""
        status, out = await self.sync([body], photos or None)
        assert status == 200, out
        return dict(out["items"][0])

    async def upload(self, data: bytes | None = None) -> int:
        """Upload a photo ahead (POST /api/v1/media); its id."""
        form = FormData()
        form.add_field("file", data or jpeg(), filename="p.jpg", content_type="image/jpeg")
        r = await self.city.client.post("/api/v1/media", data=form, headers=await self.headers())
        assert r.status == 201, await r.text()
        return int((await r.json())["id"])

    async def get(self, path: str, **params: Any) -> tuple[int, Any]:
        r = await self.city.client.get(path, params=params, headers=await self.headers())
        return r.status, await r.json()


@pytest.fixture
def inspector(quick_city: City) -> Phone:
    """inspector1's phone: street 1's grids are theirs."""
    return Phone(quick_city, "inspector1")


@pytest.fixture
def handler(quick_city: City) -> Phone:
    """环卫's handler's phone."""
    return Phone(quick_city, "handler_hw")


async def verify_task(city: City, street: int = 1, text: str = "小区门口垃圾没人清") -> int:
    """A citizen's report 受理'd: a 核实 task for the street's inspector; the case id."""
    status, out = await city.report(await city.citizen(), await city.point(street), text)
    assert status == 201, out
    cid = int(out["case"]["id"])
    await city.ok(cid, "accept", "acceptor")
    return cid


async def check_task(city: City, street: int = 1) -> int:
    """An inspector's case handled by 环卫: a 核查 task for the street's inspector; its id."""
    case = await city.dispatched(street, "路边有垃圾", number=2)
    after = await city.photo(await city.login("handler_hw"))
    await city.ok(case["id"], "handle", "handler_hw", note="已清理", attachments=[after])
    return int(case["id"])


async def open_task(city: City, case_id: int) -> dict[str, Any]:
    """The case's open task as the centre lists it."""
    r = await city.client.get(
        "/api/v1/tasks", params={"case_id": case_id}, headers=await city.login("dispatcher")
    )
    items = (await r.json())["items"]
    assert len(items) == 1, items
    return dict(items[0])
