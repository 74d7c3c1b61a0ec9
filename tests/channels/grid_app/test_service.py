"""What the phone shows first (GET /api/v1/field/work): an inspector's tasks nearest first with
their lights and deadlines, a handler's department cases with the latest news of each; and
the phones' registry."""

from __future__ import annotations

from tests.cases.helpers import shifted
from tests.channels.grid_app.conftest import Phone, verify_task
from tests.channels.wechat_oa.conftest import run_due_jobs


async def test_an_inspectors_tasks_come_nearest_first(inspector: Phone) -> None:
    city = inspector.city
    far = await verify_task(city, text="东边小区门口有垃圾")  # grid 1's centre
    near_point = await city.point(1, number=3)
    status, out = await city.report(await city.citizen("b"), near_point, "西边路口有垃圾")
    assert status == 201
    near = out["case"]["id"]
    await city.ok(near, "accept", "acceptor")
    here = shifted(**near_point, east_m=30)
    status, work = await inspector.get("/api/v1/field/work", **here)
    assert status == 200, work
    tasks = work["tasks"]["items"]
    assert [t["case_id"] for t in tasks] == [near, far]
    assert tasks[0]["distance_m"] < 40 < tasks[1]["distance_m"]
    assert all(t["case"]["light"] == "green" and t["deadline_at"] for t in tasks)
    assert work["cases"] is None  # an inspector has no department inbox
    # Without a position: soonest deadline first (the older first here).
    status, work = await inspector.get("/api/v1/field/work")
    assert [t["case_id"] for t in work["tasks"]["items"]] == [far, near]


async def test_a_handlers_cases_carry_their_latest_news(handler: Phone) -> None:
    city = handler.city
    urged = await city.dispatched(1, "路边有垃圾")
    plain = await city.dispatched(1, "人行道垃圾", number=2)
    await city.ok(urged["id"], "urge", "shift_lead", note="市民多次反映")
    await run_due_jobs(city.client)
    status, work = await handler.get("/api/v1/field/work")
    assert status == 200, work
    latest = {c["case"]["id"]: c["latest"]["title"] for c in work["cases"]}
    assert latest == {urged["id"]: "督办", plain["id"]: "新派遣案件"}
    assert work["tasks"] is None
    # Another department sees none of these.
    status, theirs = await Phone(city, "handler_jj").get("/api/v1/field/work")
    assert theirs["cases"] == []


async def test_devices_are_the_callers_own(handler: Phone) -> None:
    client, headers = handler.city.client, await handler.headers()
    body = {"device_id": "imei-0001", "platform": "android", "name": "王师傅的手机"}
    first = await (await client.post("/api/v1/field/devices", json=body, headers=headers)).json()
    again = await (await client.post("/api/v1/field/devices", json=body, headers=headers)).json()
    assert first["id"] == again["id"] and first["transport"] == "sse"
    other = Phone(handler.city, "handler_jj")
    status, listed = await other.get("/api/v1/field/devices")
    assert (status, listed["items"]) == (200, [])
    r = await client.delete(f"/api/v1/field/devices/{first['id']}", headers=await other.headers())
    assert r.status == 404  # not theirs to forget
    r = await client.delete(f"/api/v1/field/devices/{first['id']}", headers=headers)
    assert r.status == 204
    _, listed = await handler.get("/api/v1/field/devices")
    assert listed["items"] == []


async def test_a_phone_handed_to_a_colleague_is_theirs_only(handler: Phone) -> None:
    client = handler.city.client
    body = {"device_id": "imei-0002", "platform": "android"}
    await client.post("/api/v1/field/devices", json=body, headers=await handler.headers())
    colleague = Phone(handler.city, "handler_sz")
    await client.post("/api/v1/field/devices", json=body, headers=await colleague.headers())
    _, mine = await handler.get("/api/v1/field/devices")
    _, theirs = await colleague.get("/api/v1/field/devices")
    assert mine["items"] == [] and [d["device_id"] for d in theirs["items"]] == ["imei-0002"]
