"""The field API's edges: the sync body as JSON or as a form with photos (both in OpenAPI), and
the clear errors of a malformed form, each of which writes nothing."""

from __future__ import annotations

import json

from aiohttp import FormData

from cases.models import Case
from core.media.models import MediaObject
from tests.cases.helpers import City, jpeg
from tests.channels.grid_app.conftest import Phone, item


async def test_openapi_shows_the_sync_as_json_and_as_a_form(quick_city: City) -> None:
    r = await quick_city.client.get("/api/openapi.json")
    spec = await r.json()
    body = spec["paths"]["/api/v1/field/sync"]["post"]["requestBody"]["content"]
    assert set(body) == {"application/json", "multipart/form-data"}
    assert body["multipart/form-data"]["schema"]["required"] == ["batch"]
    assert "/api/v1/field/stream" in spec["paths"]


async def _form(phone: Phone, form: FormData) -> tuple[int, dict[str, object]]:
    r = await phone.city.client.post("/api/v1/field/sync", data=form, headers=await phone.headers())
    return r.status, await r.json()


async def test_a_malformed_form_is_refused_and_writes_nothing(inspector: Phone) -> None:
    where = await inspector.city.point(1)
    batch = json.dumps({"items": [item("report", description="垃圾", location=where)]})

    no_batch = FormData()
    no_batch.add_field("p", jpeg(), filename="p.jpg", content_type="image/jpeg")
    bad_json = FormData()
    bad_json.add_field("batch", "{not json", content_type="application/json")
    twice = FormData()
    twice.add_field("batch", batch, content_type="application/json")
    twice.add_field("p", jpeg(), filename="p.jpg", content_type="image/jpeg")
    twice.add_field("p", jpeg((1, 2, 3)), filename="p.jpg", content_type="image/jpeg")
    many = FormData()
    many.add_field("batch", batch, content_type="application/json")
    for n in range(31):
        many.add_field(f"p{n}", jpeg((n, n, n)), filename="p.jpg", content_type="image/jpeg")

    answers = [await _form(inspector, f) for f in (no_batch, bad_json, twice, many)]
    assert [(s, b["code"]) for s, b in answers] == [
        (400, "batch_missing"),
        (400, "malformed_json"),
        (400, "duplicate_part"),
        (413, "too_many_photos"),
    ]
    assert all(isinstance(b["message"], str) and b["message"] for _, b in answers)
    assert await Case.all().count() == 0
    assert await MediaObject.all().count() == 0


async def test_a_caller_without_a_token_is_refused(quick_city: City) -> None:
    r = await quick_city.client.post("/api/v1/field/sync", json={"items": [{}]})
    assert r.status == 401
    r = await quick_city.client.get("/api/v1/field/stream")
    assert r.status == 401


async def test_a_batch_refused_as_too_large_keeps_none_of_its_photos(inspector: Phone) -> None:
    where = await inspector.city.point(1)
    items = [item("report", description="垃圾", location=where) for _ in range(201)]
    status, out = await inspector.sync(items, photos={"p": jpeg()})
    assert (status, out["code"]) == (422, "too_many_items")
    assert await MediaObject.all().count() == 0
