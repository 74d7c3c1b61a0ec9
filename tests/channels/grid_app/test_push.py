"""Pushes to the phones: new work reaches an open event stream at once; a phone that was away
resumes with Last-Event-ID and gets what it missed, nothing twice; a vendor transport a city
plugs in gets each message for each of its devices (a fake vendor on a real socket)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestServer

from channels.grid_app import push
from channels.grid_app.config import GridAppConfig
from channels.grid_app.models import PushMessage
from channels.grid_app.push import DeviceRef
from channels.grid_app.schemas import MessageOut
from core.config import Settings
from core.demo import seed_demo
from core.jobs.registry import JobContext
from core.web import create_app
from core.web.keys import GRIDS, RUNTIME
from tests.cases.helpers import City
from tests.channels.grid_app.conftest import Phone
from tests.channels.wechat_oa.conftest import run_due_jobs
from tests.conftest import REDIS_URL


async def _events(response: ClientResponse, count: int, *, within_s: float = 5.0) -> list[Any]:
    """Read `count` events (id, event, data) from an open stream."""
    found: list[Any] = []
    current: dict[str, str] = {}
    async with asyncio.timeout(within_s):
        while len(found) < count:
            line = (await response.content.readline()).decode().rstrip("\r\n")
            if line.startswith(":"):
                continue  # a ping
            if not line:
                if current:
                    found.append(current)
                current = {}
                continue
            field, _, value = line.partition(": ")
            current[field] = current.get(field, "") + value
    return found


async def _open(phone: Phone, last: str | None = None) -> ClientResponse:
    headers = dict(await phone.headers())
    if last is not None:
        headers["Last-Event-ID"] = last
    response = await phone.city.client.get("/api/v1/field/stream", headers=headers)
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/event-stream")
    return response


async def test_new_work_reaches_the_stream_and_a_resumed_stream_misses_nothing(
    handler: Phone,
) -> None:
    city = handler.city
    stream = await _open(handler)
    (ready,) = await _events(stream, 1)
    assert ready["event"] == "ready"

    first = await city.dispatched(1, "路边有垃圾")  # to 环卫
    await run_due_jobs(city.client)
    (got,) = await _events(stream, 1)
    message = json.loads(got["data"])
    assert message["title"] == "新派遣案件" and message["case_id"] == first["id"]
    assert message["text"].startswith(first["number"])
    stream.close()  # out of signal

    second = await city.dispatched(1, "人行道垃圾", number=2)
    await city.ok(first["id"], "urge", "shift_lead", note="请尽快处理")
    await run_due_jobs(city.client)

    resumed = await _open(handler, last=got["id"])
    missed = await _events(resumed, 2)
    titles = [(json.loads(e["data"])["title"], json.loads(e["data"])["case_id"]) for e in missed]
    assert titles == [("新派遣案件", second["id"]), ("督办", first["id"])]
    assert [int(e["id"]) for e in missed] == sorted(int(e["id"]) for e in missed)
    assert int(missed[0]["id"]) > int(got["id"])
    # Nothing else is waiting: the next event is the next message, not a repeat.
    third = await city.dispatched(1, "垃圾桶满溢", number=3)
    await run_due_jobs(city.client)
    (next_one,) = await _events(resumed, 1)
    assert json.loads(next_one["data"])["case_id"] == third["id"]
    resumed.close()


async def test_an_inspector_hears_of_a_new_task(inspector: Phone) -> None:
    city = inspector.city
    stream = await _open(inspector)
    await _events(stream, 1)
    _, out = await city.report(await city.citizen(), await city.point(1), "小区里有垃圾")
    await city.ok(out["case"]["id"], "accept", "acceptor")  # 核实 goes to inspector1
    await run_due_jobs(city.client)
    (got,) = await _events(stream, 1)
    message = json.loads(got["data"])
    assert (message["kind"], message["title"]) == ("task", "新核实任务")
    assert "前到现场完成" in message["text"]
    stream.close()


async def test_messages_can_be_pulled_after_the_last_one(handler: Phone) -> None:
    city = handler.city
    await city.dispatched(1, "路边有垃圾")
    await city.dispatched(1, "人行道垃圾", number=2)
    await run_due_jobs(city.client)
    status, page = await handler.get("/api/v1/field/messages")
    assert status == 200 and len(page["items"]) == 2
    status, rest = await handler.get("/api/v1/field/messages", after=page["items"][0]["id"])
    assert [m["id"] for m in rest["items"]] == [page["items"][1]["id"]]
    # Another department's handler has none of them.
    status, none = await Phone(city, "handler_jj").get("/api/v1/field/messages")
    assert none["items"] == []


async def test_a_bad_last_event_id_is_refused(handler: Phone) -> None:
    headers = {**await handler.headers(), "Last-Event-ID": "12; DROP"}
    r = await handler.city.client.get("/api/v1/field/stream", headers=headers)
    assert (r.status, (await r.json())["code"]) == (400, "bad_last_event_id")


# --- a vendor push service a city plugs in ---------------------------------------------------

SENT: list[dict[str, Any]] = []


class FakeVendor:
    """A city's transport: POSTs each message to the vendor's HTTP API (base URL below)."""

    name = "vendorx"
    base = ""

    async def send(self, ctx: JobContext, device: DeviceRef, message: MessageOut) -> None:
        assert ctx.http is not None
        body = {"token": device.push_token, "title": message.title, "body": message.text}
        key = f"{message.id}:{device.id}"
        async with ctx.http.post(
            f"{self.base}/push", json=body, headers={"Idempotency-Key": key}
        ) as r:
            r.raise_for_status()


@pytest.fixture
async def vendor() -> AsyncIterator[TestServer]:
    """The vendor's API on a real port: it keeps each push once per idempotency key."""
    seen: dict[str, dict[str, Any]] = {}

    async def push(request: web.Request) -> web.Response:
        seen.setdefault(request.headers["Idempotency-Key"], await request.json())
        SENT[:] = list(seen.values())
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/push", push)
    server = TestServer(app)
    await server.start_server()
    FakeVendor.base = str(server.make_url("")).rstrip("/")
    SENT.clear()
    yield server
    await server.close()


async def test_a_vendor_transport_gets_each_message_for_each_device(
    vendor: TestServer, settings: Settings, aiohttp_client: Any
) -> None:
    configs = dict(settings.package_configs)
    configs["grid_app"] = GridAppConfig(
        push_transports=("tests.channels.grid_app.test_push:FakeVendor",)
    )
    local = settings.model_copy(update={"package_configs": configs})
    client = await aiohttp_client(create_app(local))
    logins = await seed_demo(local)
    await client.app[GRIDS].refresh(force=True)
    city = City(client, local, {u: p for u, p, _ in logins})
    phone = Phone(city, "handler_hw")
    headers = await phone.headers()
    r = await client.post(
        "/api/v1/field/devices",
        json={
            "device_id": "phone-1",
            "platform": "android",
            "transport": "vendorx",
            "push_token": "tok-123",
        },
        headers=headers,
    )
    assert r.status == 200, await r.text()
    assert (await r.json())["has_token"] is True
    r = await client.post(
        "/api/v1/field/devices",
        json={"device_id": "phone-2", "platform": "ios", "transport": "nobody"},
        headers=headers,
    )
    assert (r.status, (await r.json())["code"]) == (422, "unknown_transport")

    await city.dispatched(1, "路边有垃圾")
    await run_due_jobs(client)
    assert [(s["token"], s["title"]) for s in SENT] == [("tok-123", "新派遣案件")]
    assert await PushMessage.all().count() == 1


async def test_a_wake_up_from_another_process_reaches_the_stream_at_once(handler: Phone) -> None:
    """A worker process writes the message and publishes its wake-up on Redis; this web
    process's stream sends it long before its next look at the feed (15 s)."""
    if REDIS_URL is None:
        pytest.skip("the wake-up between processes is Redis's: set CITYLOOP_TEST_REDIS_URL")
    from redis.asyncio import Redis

    city = handler.city
    stream = await _open(handler)
    await _events(stream, 1)  # ready
    staff = await city.staff_id("handler_hw")
    message = await PushMessage.create(
        staff_id=staff, key="other-process:1", kind="urge", title="督办", text="另一进程写入"
    )
    other = Redis.from_url(REDIS_URL)
    try:
        await other.publish(push.channel(city.client.app[RUNTIME]), str(staff))
    finally:
        await other.aclose()
    (got,) = await _events(stream, 1, within_s=3.0)
    assert int(got["id"]) == message.id
    stream.close()
