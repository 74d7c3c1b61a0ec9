"""The camera registry: declare (API, a camera file), check what needs the labels and the
catalog, report health."""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from pydantic import ValidationError
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from cases import deps_of
from core.errors import Conflict, NotFound, ValidationFailed
from core.geo import to_wgs84
from core.runtime import Runtime
from vision.config import CameraFile, CameraIn
from vision.const import HEALTH_EVERY_S, CameraHealth
from vision.deps import vision_of
from vision.models import Camera
from vision.zones import degenerate, outside_frame

Problem = dict[str, str]
_NAMED = 20  # cameras named in /readyz; the rest are counted


def problems(runtime: Runtime, camera: CameraIn, where: str = "") -> list[Problem]:
    """What is wrong with a camera beyond its shape: each with its field and a message."""
    labels = set(vision_of(runtime).labels)
    policy = deps_of(runtime).policy
    found: list[Problem] = []
    for zi, zone in enumerate(camera.zones):
        base = f"{where}zones.{zi}"
        for n in outside_frame(zone, camera.width, camera.height):
            x, y = zone.points[n]
            found.append(
                _problem(
                    f"{base}.points.{n}",
                    f"点 ({x:g}, {y:g}) 在画面（{camera.width}×{camera.height}）之外",
                )
            )
        if degenerate(zone):
            found.append(_problem(f"{base}.points", "区域多边形无面积或自相交"))
        for ri, rule in enumerate(zone.rules):
            for li, label in enumerate(rule.labels):
                if label not in labels:
                    found.append(
                        _problem(f"{base}.rules.{ri}.labels.{li}", f"模型没有标签“{label}”")
                    )
            if policy.category(rule.category_code) is None:
                found.append(
                    _problem(
                        f"{base}.rules.{ri}.category_code",
                        f"案件类别编码“{rule.category_code}”不存在",
                    )
                )
    return found


def _problem(field: str, message: str) -> Problem:
    return {"field": field, "message": message}


def refuse(found: Sequence[Problem], what: str) -> None:
    """422 naming every problem (nothing was written)."""
    if found:
        names = "、".join(p["field"] for p in found)
        raise ValidationFailed(
            f"invalid {what}: {names}",
            message=f"摄像头配置有误：{found[0]['message']}" + ("等" if len(found) > 1 else ""),
            extra={"fields": list(found)},
        )


def read_file(runtime: Runtime, text: str) -> CameraFile:
    """Parse and check a camera file (TOML); 422 naming each bad field."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ValidationFailed(
            f"not TOML: {err}",
            code="malformed_toml",
            message=f"摄像头配置文件不是有效的 TOML：{err}",
            extra={"fields": [{"field": "file", "message": str(err)}]},
        ) from err
    try:
        file = CameraFile.model_validate(data)
    except ValidationError as err:
        fields = [
            {"field": ".".join(str(p) for p in e["loc"]) or "file", "message": e["msg"]}
            for e in err.errors(include_url=False)
        ]
        raise ValidationFailed(
            f"invalid camera file: {len(fields)} error(s)",
            message=f"摄像头配置有误：{fields[0]['field']}",
            extra={"fields": fields},
        ) from err
    refuse(
        [p for n, c in enumerate(file.camera) for p in problems(runtime, c, f"camera.{n}.")],
        "camera file",
    )
    return file


async def _row_fields(runtime: Runtime, camera: CameraIn) -> dict[str, Any]:
    lon, lat = to_wgs84(camera.lon, camera.lat, camera.crs)
    place = await runtime.grids.locate(lon, lat)
    return {
        "name": camera.name,
        "enabled": camera.enabled,
        "spec": camera.model_dump(mode="json"),
        "lon": lon,
        "lat": lat,
        "grid_id": place.grid_id,
    }


def _outside(values: dict[str, Any], where: str = "") -> list[Problem]:
    # A camera outside every grid files nothing: intake refuses a place outside the city.
    if values["grid_id"] is not None:
        return []
    return [_problem(f"{where}lon", "摄像头位置不在本市任何单元网格内")]


async def save(
    runtime: Runtime, camera: CameraIn, *, code: str | None = None
) -> tuple[Camera, bool]:
    """Create or replace one camera (checked first); return it and whether it is new."""
    if code is not None and code != camera.code:
        raise ValidationFailed(
            f"code {camera.code} in a body for {code}",
            message="请求中的摄像头编码与地址不一致",
            extra={"fields": [{"field": "code", "message": "与地址中的编码不一致"}]},
        )
    refuse(problems(runtime, camera), "camera")
    values = await _row_fields(runtime, camera)
    refuse(_outside(values), "camera")
    try:
        row, created = await Camera.update_or_create(defaults=values, code=camera.code)
    except IntegrityError as err:  # the same code registered by a concurrent request
        raise Conflict(
            f"camera {camera.code} exists",
            code="camera_exists",
            message="该摄像头编码已登记，请用修改",
        ) from err
    return row, created


async def import_file(runtime: Runtime, text: str) -> dict[str, int]:
    """Create or replace every camera of a file, all or none."""
    file = read_file(runtime, text)
    rows = [(c, await _row_fields(runtime, c)) for c in file.camera]
    refuse([p for n, (_, v) in enumerate(rows) for p in _outside(v, f"camera.{n}.")], "camera file")
    counts = {"created": 0, "updated": 0}
    async with in_transaction():
        for camera, values in rows:
            _, created = await Camera.update_or_create(defaults=values, code=camera.code)
            counts["created" if created else "updated"] += 1
    return counts


async def get(code: str) -> Camera:
    """One camera by its code (404)."""
    row = await Camera.get_or_none(code=code)
    if row is None:
        raise NotFound(f"camera {code}", code="camera_not_found", message="未找到该摄像头")
    return row


def masked_source(source: str) -> str:
    """A source with its password hidden (rtsp://admin:***@10.0.0.8/…)."""
    parts = urlsplit(source)
    if not parts.password:
        return source
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))


def declared(row: Camera) -> CameraIn:
    """The camera's declaration as stored."""
    return CameraIn.model_validate(row.spec)


def health_now(row: Camera, now: dt.datetime) -> CameraHealth:
    """The health a person should see: what its reader last said (it marks 离线 itself when
    frames stop), or 离线 when the reader stopped reporting (`vision run` is down)."""
    if row.health == CameraHealth.UNKNOWN or not row.enabled:
        return CameraHealth(row.health)
    silent_for = float(row.spec.get("dead_after_s", 60)) + 2 * HEALTH_EVERY_S
    if row.checked_at is None or (now - row.checked_at).total_seconds() > silent_for:
        return CameraHealth.DEAD
    return CameraHealth(row.health)


async def report_health(
    camera_id: int,
    health: CameraHealth,
    *,
    detail: str,
    frame_at: dt.datetime | None,
    now: dt.datetime,
) -> None:
    """A reader says how its camera is."""
    values: dict[str, Any] = {"health": health, "health_detail": detail[:200], "checked_at": now}
    if frame_at is not None:
        values["last_frame_at"] = frame_at
    await Camera.filter(id=camera_id).update(**values)


async def readiness(runtime: Runtime) -> tuple[str, list[str]]:
    """/readyz: "ok", or "degraded" naming cameras that are down or whose reader stopped
    reporting (never "unavailable": a dead camera does not make the web server unready)."""
    now = deps_of(runtime).now()
    # A reader reports each camera at least every HEALTH_EVERY_S: ten of those without a word
    # and the reader is gone (the API's per-camera health says it sooner, by dead_after_s).
    silent = now - dt.timedelta(seconds=10 * HEALTH_EVERY_S)
    on = Camera.filter(enabled=True).exclude(health=CameraHealth.UNKNOWN)
    dead = on.filter(Q(health=CameraHealth.DEAD) | Q(checked_at__lt=silent))
    total = await dead.count()
    named = await dead.order_by("code").limit(_NAMED).values_list("code", "name")
    down = [f"摄像头 {code}（{name}）离线" for code, name in named]
    if total > len(down):
        down.append(f"另有 {total - len(down)} 个摄像头离线")
    return ("degraded" if total else "ok"), down
