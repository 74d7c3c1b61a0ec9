"""The camera registry over HTTP: declare, replace, import a file (all or nothing); a bad
declaration is refused with the field named and changes nothing."""

from __future__ import annotations

from typing import Any

from tests.cases.helpers import error_fields
from tests.vision.conftest import PARKING, Rig, camera_body
from vision.models import Camera


async def _post(rig: Rig, body: dict[str, Any], who: str = "admin") -> tuple[int, Any]:
    r = await rig.city.client.post(
        "/api/v1/vision/cameras", json=body, headers=await rig.city.login(who)
    )
    return r.status, await r.json()


async def _body(rig: Rig, code: str = "cam1", street: int = 1, **changes: Any) -> dict[str, Any]:
    return camera_body(code, await rig.city.point(street), "rtsp://10.0.0.8/stream1", **changes)


async def test_a_camera_is_declared_listed_and_replaced(rig: Rig) -> None:
    status, out = await _post(rig, await _body(rig))
    assert status == 201, out
    assert out["kind"] == "stream" and out["health"] == "unknown" and out["grid_id"]
    assert out["declared"]["zones"][0]["rules"][0]["category_code"] == PARKING
    again, err = await _post(rig, await _body(rig))
    assert again == 409 and err["code"] == "camera_exists"
    headers = await rig.city.login("acceptor")
    listed = await (await rig.city.client.get("/api/v1/vision/cameras", headers=headers)).json()
    assert [c["code"] for c in listed["items"]] == ["cam1"]
    for code in ("cam2", "cam3"):
        assert (await _post(rig, await _body(rig, code=code)))[0] == 201
    page = await rig.city.client.get("/api/v1/vision/cameras", params={"limit": 2}, headers=headers)
    first = await page.json()
    assert [c["code"] for c in first["items"]] == ["cam1", "cam2"]
    assert first["next_after"] == "cam2"
    rest = await rig.city.client.get(
        "/api/v1/vision/cameras", params={"limit": 2, "after": "cam2"}, headers=headers
    )
    assert [c["code"] for c in (await rest.json())["items"]] == ["cam3"]
    body = await _body(rig, enabled=False, name="改名后的路口")
    r = await rig.city.client.put(
        "/api/v1/vision/cameras/cam1", json=body, headers=await rig.city.login("admin")
    )
    assert r.status == 200, await r.text()
    row = await Camera.get(code="cam1")
    assert row.name == "改名后的路口" and not row.enabled
    r = await rig.city.client.put(
        "/api/v1/vision/cameras/nope",
        json=await _body(rig, code="nope"),
        headers=await rig.city.login("admin"),
    )
    assert r.status == 404 and (await r.json())["code"] == "camera_not_found"


async def test_bad_declarations_name_the_field_and_change_nothing(rig: Rig) -> None:
    outside = await _body(rig)
    outside["zones"][0]["points"] = [[0, 0], [500, 0], [500, 100]]  # the frame is 416 wide
    status, err = await _post(rig, outside)
    assert status == 422 and error_fields(err) == ["zones.0.points.1", "zones.0.points.2"]
    assert "在画面（416×416）之外" in err["fields"][0]["message"]
    label = await _body(rig, rule={"labels": ["car", "stall"]})
    status, err = await _post(rig, label)
    assert status == 422 and error_fields(err) == ["zones.0.rules.0.labels.1"]
    assert "模型没有标签“stall”" in err["message"]
    category = await _body(rig, rule={"category_code": "E99999"})
    status, err = await _post(rig, category)
    assert status == 422 and error_fields(err) == ["zones.0.rules.0.category_code"]
    unknown = await _body(rig, colour="red")
    status, err = await _post(rig, unknown)
    assert status == 422 and error_fields(err) == ["colour"]
    far = await _body(rig)
    far.update(lon=87.6, lat=43.8)  # Ürümqi: no grid of this city
    status, err = await _post(rig, far)
    assert status == 422 and error_fields(err) == ["lon"]
    status, err = await _post(rig, await _body(rig, code="bad code!"))
    assert status == 422 and error_fields(err) == ["code"]
    assert await Camera.all().count() == 0


async def test_a_streams_password_is_shown_to_the_admin_only(rig: Rig) -> None:
    body = await _body(rig)
    body["source"] = "rtsp://admin:Hik12345@10.0.0.8:554/Streaming/Channels/101"
    status, out = await _post(rig, body)
    assert status == 201 and out["declared"]["source"] == body["source"]
    r = await rig.city.client.get(
        "/api/v1/vision/cameras/cam1", headers=await rig.city.login("dispatcher")
    )
    shown = (await r.json())["declared"]["source"]
    assert shown == "rtsp://admin:***@10.0.0.8:554/Streaming/Channels/101"


async def test_only_the_admin_declares_and_the_centre_reads(rig: Rig) -> None:
    for who in ("acceptor", "inspector1", "handler_jj"):
        status, _ = await _post(rig, await _body(rig), who)
        assert status == 403, who
    for who, expected in (("dispatcher", 200), ("inspector1", 403), ("handler_jj", 403)):
        r = await rig.city.client.get("/api/v1/vision/cameras", headers=await rig.city.login(who))
        assert r.status == expected, who
    r = await rig.city.client.get("/api/v1/vision/cameras")
    assert r.status == 401


def _toml(point: dict[str, float], code: str, *, width: int = 1920, label: str = "car") -> str:
    return f"""
[[camera]]
code = "{code}"
name = "人民路与解放路口"
source = "rtsp://10.1.2.3:554/Streaming/Channels/101"
width = {width}
height = 1080
lon = {point["lon"]}
lat = {point["lat"]}
interval_s = 5

[[camera.zones]]
name = "西侧人行道"
points = [[100, 600], [1800, 600], [1800, 1000], [100, 1000]]

[[camera.zones.rules]]
labels = ["{label}", "truck"]
category_code = "{PARKING}"
dwell_s = 180
"""


async def test_a_camera_file_imports_all_or_nothing(rig: Rig) -> None:
    point = await rig.city.point(2)
    headers = {**await rig.city.login("admin"), "Content-Type": "application/toml"}
    bad = _toml(point, "east") + _toml(point, "west", label="bus_stop")
    r = await rig.city.client.post("/api/v1/vision/cameras/import", data=bad, headers=headers)
    err = await r.json()
    assert r.status == 422 and error_fields(err) == ["camera.1.zones.0.rules.0.labels.0"], err
    assert await Camera.all().count() == 0
    broken = await rig.city.client.post(
        "/api/v1/vision/cameras/import", data="[[camera]\ncode=", headers=headers
    )
    assert broken.status == 422 and (await broken.json())["code"] == "malformed_toml"
    good = _toml(point, "east") + _toml(point, "west")
    r = await rig.city.client.post("/api/v1/vision/cameras/import", data=good, headers=headers)
    assert r.status == 200 and await r.json() == {"created": 2, "updated": 0}
    r = await rig.city.client.post("/api/v1/vision/cameras/import", data=good, headers=headers)
    assert await r.json() == {"created": 0, "updated": 2}
    repeated = _toml(point, "east") + _toml(point, "east")
    r = await rig.city.client.post("/api/v1/vision/cameras/import", data=repeated, headers=headers)
    assert r.status == 422 and "east" in (await r.json())["fields"][0]["message"]
