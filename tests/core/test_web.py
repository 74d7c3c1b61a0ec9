"""The web boundary: input parsing, error shape, request ids, health, OpenAPI, log masking."""

from __future__ import annotations

import io
import json
import logging
import re
from typing import Any

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from core.config import Settings
from core.logs import JsonFormatter
from core.privacy import redact
from core.web import create_app
from core.web.endpoint import spec_of
from core.web.middleware import new_request_id

LOGIN = "/api/v1/auth/login"
CHINESE = re.compile(r"[\u4e00-\u9fff]")
PHONE = "13812345678"
MASKED = "138****5678"


async def _error(resp: ClientResponse, status: int, code: str) -> dict[str, Any]:
    """Check the error document every client relies on and return it."""
    assert resp.status == status, await resp.text()
    assert resp.content_type == "application/json"
    body: dict[str, Any] = await resp.json()
    assert body["code"] == code
    assert CHINESE.search(body["message"]), body["message"]
    assert body["request_id"] == resp.headers["X-Request-ID"]
    return body


def _fields(body: dict[str, Any]) -> dict[str, str]:
    return {f["field"]: f["type"] for f in body["fields"]}


# --- input parsing -------------------------------------------------------------------------------


async def test_malformed_json_is_400(client: TestClient[Any, Any]) -> None:
    resp = await client.post(
        LOGIN, data=b'{"username": "a", "password": ', headers={"Content-Type": "application/json"}
    )
    await _error(resp, 400, "malformed_json")


async def test_json_array_body_is_422_naming_body(client: TestClient[Any, Any]) -> None:
    resp = await client.post(LOGIN, json=[{"username": "a", "password": "b"}])
    body = await _error(resp, 422, "validation_error")
    assert "body" in _fields(body)


async def test_wrong_type_is_422_naming_the_field(client: TestClient[Any, Any]) -> None:
    resp = await client.post(LOGIN, json={"username": 12345, "password": "secret-pass"})
    body = await _error(resp, 422, "validation_error")
    assert _fields(body) == {"username": "string_type"}
    assert "username" in body["message"]


async def test_missing_field_is_422_naming_it(client: TestClient[Any, Any]) -> None:
    resp = await client.post(LOGIN, json={"username": "someone"})
    body = await _error(resp, 422, "validation_error")
    assert _fields(body) == {"password": "missing"}


async def test_unknown_field_is_422_extra_forbidden(client: TestClient[Any, Any]) -> None:
    resp = await client.post(LOGIN, json={"username": "a", "password": "b", "remember_me": True})
    body = await _error(resp, 422, "validation_error")
    assert _fields(body) == {"remember_me": "extra_forbidden"}
    assert "remember_me" in body["message"]


async def test_oversized_json_body_is_413(aiohttp_client: Any, settings: Settings) -> None:
    small = settings.model_copy(update={"upload_max_bytes": 2048})
    client = await aiohttp_client(create_app(small))
    padding = "x" * (200 * 1024)
    resp = await client.post(LOGIN, json={"username": padding, "password": "secret-pass"})
    await _error(resp, 413, "payload_too_large")


# --- request ids and router errors ---------------------------------------------------------------


async def test_sane_request_id_is_echoed(client: TestClient[Any, Any]) -> None:
    rid = "gw-2026.11_abcdef12"
    resp = await client.get("/healthz", headers={"X-Request-ID": rid})
    assert resp.status == 200
    assert resp.headers["X-Request-ID"] == rid


@pytest.mark.parametrize(
    "incoming",
    [
        "short",
        "../../etc/passwd",
        "<script>alert(1)</script>",
        "x" * 65,
        "a b c d e f g",
        "call-13812345678",  # a phone number: logs would mask it, and it is personal data
        "98a099960579439496e679b328c0de11",  # 15 digits in a row read as an old 身份证 number
    ],
)
async def test_unsafe_request_id_is_replaced(client: TestClient[Any, Any], incoming: str) -> None:
    resp = await client.get("/api/v1/nowhere", headers={"X-Request-ID": incoming})
    body = await _error(resp, 404, "not_found")
    assert body["request_id"] != incoming
    assert re.fullmatch(r"[0-9a-f]{32}", body["request_id"])


async def test_request_ids_differ_between_requests(client: TestClient[Any, Any]) -> None:
    first = (await client.get("/healthz")).headers["X-Request-ID"]
    second = (await client.get("/healthz")).headers["X-Request-ID"]
    assert first != second


async def test_unknown_path_is_404_json(client: TestClient[Any, Any]) -> None:
    await _error(await client.get("/api/v1/no-such-thing"), 404, "not_found")


async def test_wrong_method_is_405_json(client: TestClient[Any, Any]) -> None:
    resp = await client.delete("/healthz")
    await _error(resp, 405, "method_not_allowed")


async def test_405_still_says_which_methods_are_allowed(client: TestClient[Any, Any]) -> None:
    # RFC 9110 §15.5.6: a 405 response MUST carry Allow; clients use it to correct the call.
    resp = await client.put(LOGIN, json={})
    assert resp.status == 405
    assert "POST" in resp.headers.get("Allow", "")


async def test_missing_token_error_has_the_same_shape(client: TestClient[Any, Any]) -> None:
    await _error(await client.get("/api/v1/auth/me"), 401, "token_missing")


# --- health --------------------------------------------------------------------------------------


async def test_healthz(client: TestClient[Any, Any]) -> None:
    resp = await client.get("/healthz")
    assert resp.status == 200
    assert await resp.json() == {"status": "ok"}


async def test_readyz_checks_database_and_warns_about_next_years_calendar(
    client: TestClient[Any, Any],
) -> None:
    resp = await client.get("/readyz")
    assert resp.status == 200
    body = await resp.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == "ok"
    assert body["checks"].get("redis", "ok") == "ok"
    # chinesecalendar ships holidays up to 2026; on 2026-11 next year is unknown.
    assert body["checks"]["calendar"] == "fallback"
    assert any("2027" in w for w in body["warnings"]), body["warnings"]


# --- OpenAPI -------------------------------------------------------------------------------------


async def _openapi(client: TestClient[Any, Any]) -> dict[str, Any]:
    resp = await client.get("/api/openapi.json")
    assert resp.status == 200
    doc: dict[str, Any] = await resp.json()
    assert doc["openapi"].startswith("3.1")
    return doc


def _routes(client: TestClient[Any, Any]) -> list[Any]:
    routes = [r for r in client.app.router.routes() if r.method != "HEAD"]
    assert len(routes) >= 10  # health, auth, org and media are all mounted
    return routes


async def test_openapi_lists_every_route(client: TestClient[Any, Any]) -> None:
    doc = await _openapi(client)
    for route in _routes(client):
        path = route.resource.canonical
        assert path in doc["paths"], path
        assert route.method.lower() in doc["paths"][path], (route.method, path)


async def test_openapi_path_parameters_match_the_path(client: TestClient[Any, Any]) -> None:
    doc = await _openapi(client)
    op = doc["paths"]["/api/v1/staff/{staff_id}/revoke-tokens"]["post"]
    assert [p["name"] for p in op["parameters"] if p["in"] == "path"] == ["staff_id"]


def _resolve(doc: dict[str, Any], ref: str) -> dict[str, Any]:
    prefix = "#/components/schemas/"
    assert ref.startswith(prefix), ref
    target: dict[str, Any] = doc["components"]["schemas"][ref.removeprefix(prefix)]
    assert target.get("$ref") != ref, f"{ref} points at itself"
    return target


async def test_openapi_request_bodies_resolve(client: TestClient[Any, Any]) -> None:
    doc = await _openapi(client)
    with_body = 0
    for route in _routes(client):
        spec = spec_of(route.handler)
        if spec is None or spec.body is None:
            continue
        with_body += 1
        op = doc["paths"][route.resource.canonical][route.method.lower()]
        schema = op["requestBody"]["content"]["application/json"]["schema"]
        target = _resolve(doc, schema["$ref"])
        assert set(spec.body.model_fields) <= set(target["properties"])
    assert with_body >= 2  # login and staff creation at least


async def test_openapi_upload_names_its_file_field(client: TestClient[Any, Any]) -> None:
    # Without it, generated clients (and people reading the document) cannot upload.
    doc = await _openapi(client)
    body = doc["paths"]["/api/v1/media"]["post"]["requestBody"]
    schema = body["content"]["multipart/form-data"]["schema"]
    if "$ref" in schema:
        schema = _resolve(doc, schema["$ref"])
    assert schema["properties"]["file"]["format"] == "binary"
    assert schema["required"] == ["file"]


async def test_openapi_has_no_dangling_refs(client: TestClient[Any, Any]) -> None:
    doc = await _openapi(client)
    refs: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                refs.append(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc)
    assert refs
    for ref in refs:
        _resolve(doc, ref)


async def test_openapi_protected_operations_list_roles(client: TestClient[Any, Any]) -> None:
    doc = await _openapi(client)
    for route in _routes(client):
        spec = spec_of(route.handler)
        assert spec is not None, f"{route.method} {route.resource.canonical} has no @endpoint"
        op = doc["paths"][route.resource.canonical][route.method.lower()]
        if spec.roles:
            assert op["x-roles"] == sorted(spec.roles)
            assert op["security"] == [{"bearer": []}]
            assert "401" in op["responses"] and "403" in op["responses"]
        else:
            assert "x-roles" not in op
            assert "security" not in op
    assert doc["paths"]["/api/v1/staff"]["get"]["x-roles"] == ["admin"]


# --- logs ----------------------------------------------------------------------------------------


def _log_output(caplog: pytest.LogCaptureFixture) -> str:
    formatter = JsonFormatter()
    lines = [formatter.format(record) for record in caplog.records]
    for line in lines:
        json.loads(line)  # one JSON object per line
    return "\n".join(lines)


async def test_login_with_phone_as_username_never_logs_the_number(
    client: TestClient[Any, Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    resp = await client.post(LOGIN, json={"username": PHONE, "password": "not-the-password"})
    assert resp.status == 401
    resp = await client.post(LOGIN, json={"username": PHONE, f"tel{PHONE}": "x"})
    assert resp.status == 422
    output = _log_output(caplog)
    assert "POST /api/v1/auth/login 401" in output
    # The unknown field's name is logged (in the 422 detail): masked.
    assert MASKED in output
    assert PHONE not in output


async def test_phone_in_a_path_is_masked_in_the_access_log(
    client: TestClient[Any, Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    rid = "trace-phone-0001"
    resp = await client.get(f"/api/v1/citizens/{PHONE}", headers={"X-Request-ID": rid})
    assert resp.status == 404
    output = _log_output(caplog)
    access = [json.loads(line) for line in output.splitlines() if rid in line]
    assert access, output
    assert any(MASKED in entry["msg"] and entry["status"] == 404 for entry in access)
    assert PHONE not in output


async def test_control_characters_are_422_naming_the_field_on_every_database(
    client: TestClient[Any, Any],
) -> None:
    # PostgreSQL refuses NUL in text (a 500 before); SQLite kept it. The suite runs on both.
    r = await client.post("/api/v1/auth/login", json={"username": "ad\x00min", "password": "x"})
    body = await r.json()
    assert r.status == 422 and [f["field"] for f in body["fields"]] == ["username"]
    assert body["fields"][0]["type"] == "control_character"
    r = await client.post(
        "/api/v1/auth/login", json={"username": "admin", "password": "第一行\n第二行\t"}
    )
    assert r.status == 401  # newlines and tabs are text: the password is just wrong


async def test_the_access_line_carries_the_request_id(client: TestClient[Any, Any]) -> None:
    from core.logs import _RequestIdFilter

    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(self.format(record))

    handler = Collect()
    handler.addFilter(_RequestIdFilter())  # as setup_logging installs it
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    level = root.level
    root.setLevel(logging.INFO)
    try:
        r = await client.get("/healthz", headers={"X-Request-ID": "req-0123456789abcdef"})
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    assert r.status == 200
    access = [json.loads(x) for x in lines if '"GET /healthz 200"' in x]
    assert [a["request_id"] for a in access] == ["req-0123456789abcdef"]


async def test_openapi_integer_path_parameters_are_integers(client: TestClient[Any, Any]) -> None:
    # A generated client sends a number, and a fuzzer does not waste its tries on "abc".
    doc = await _openapi(client)
    op = doc["paths"]["/api/v1/staff/{staff_id}/revoke-tokens"]["post"]
    (param,) = [p for p in op["parameters"] if p["in"] == "path"]
    assert param["schema"] == {"type": "integer", "minimum": 0, "maximum": 999_999_999}
    media = doc["paths"]["/api/v1/media/{kind}/{token}.{ext}"]["get"]["parameters"]
    schemas = {p["name"]: p["schema"] for p in media}
    assert schemas["kind"]["enum"] == ["public", "thumb"]
    assert re.fullmatch(schemas["token"]["pattern"], "A" * 22)
    assert not re.fullmatch(schemas["token"]["pattern"], "../etc")


async def test_openapi_lists_the_errors_every_route_can_answer(
    client: TestClient[Any, Any],
) -> None:
    doc = await _openapi(client)
    checked = 0
    for route in _routes(client):
        spec = spec_of(route.handler)
        if spec is None:
            continue
        statuses = set(doc["paths"][route.resource.canonical][route.method.lower()]["responses"])
        where = (route.method, route.resource.canonical)
        if spec.body is not None or spec.content == "multipart/form-data":
            assert {"400", "413", "422"} <= statuses, where  # every body has its size limit
            checked += 1
        if spec.roles:
            assert {"401", "403"} <= statuses, where
        if "{" in route.resource.canonical:
            assert "404" in statuses, where
    assert checked >= 3  # login, staff, media at least


async def test_a_too_large_body_answers_the_documented_413(client: TestClient[Any, Any]) -> None:
    doc = await _openapi(client)
    assert "413" in doc["paths"][LOGIN]["post"]["responses"]
    big = io.BytesIO(b'{"username": "' + b"a" * (1024 * 1024) + b'"}')  # over the JSON bound
    resp = await client.post(LOGIN, data=big, headers={"Content-Type": "application/json"})
    await _error(resp, 413, "payload_too_large")


def test_our_request_ids_are_never_masked_in_the_logs() -> None:
    """A uuid4 in hex holds a run of 11 or 15 digits now and then; the log masking would turn
    it into 138****5678 and the id could no longer be found (seen in CI)."""
    ids = [new_request_id() for _ in range(20_000)]
    assert all(redact(i) == i and re.fullmatch(r"[0-9a-f]{32}", i) for i in ids)
    assert len(set(ids)) == len(ids)


def test_two_classes_of_one_name_cannot_share_a_schema_name() -> None:
    from pydantic import BaseModel

    from core.web.openapi import _schema_ref

    class Health(BaseModel):
        status: str

    first = Health

    class Health(BaseModel):  # type: ignore[no-redef]  # another package's, same name
        camera: int

    components: dict[str, Any] = {}
    _schema_ref(first, components)
    _schema_ref(first, components)  # the same class twice is one schema
    with pytest.raises(ValueError, match="two schemas are named 'Health'"):
        _schema_ref(Health, components)
