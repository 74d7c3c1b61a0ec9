"""Demo cases for `cityloop serve --demo`: reports through the real door, in several states."""

from __future__ import annotations

import io
import logging
from typing import Any, Final

from PIL import Image, ImageDraw

from cases.const import Action, Source, Urgency
from cases.deps import Deps, deps_of
from cases.intake import submit
from cases.models import Case
from cases.schemas import IntakeDraft, Location, Reporter, ResultIn
from cases.states import TRANSITIONS, transition
from core.auth.models import Staff
from core.auth.service import citizen_identity
from core.config import Settings
from core.errors import CityloopError
from core.media.service import ingest
from core.media.storage import LocalStorage
from core.org.models import Grid
from core.runtime import build_runtime

log = logging.getLogger(__name__)
CHECK_PASSED: Final = "check-passed"
# (key, source, category or None to suggest, description, grid index, moves after intake)
REPORTS: Final[tuple[tuple[str, Source, str | None, str, int, tuple[str, ...]], ...]] = (
    ("p1", Source.GRID_APP, "E09009", "小区门口机动车乱停放，堵住消防通道", 0, ()),
    ("p2", Source.GRID_APP, "E06010", "绿化带旁暴露垃圾一堆", 5, (Action.HANDLE,)),
    (
        "p3",
        Source.GRID_APP,
        "E07001",
        "电线杆上张贴大量小广告",
        9,
        (Action.HANDLE, CHECK_PASSED, Action.CLOSE),
    ),
    ("p4", Source.GRID_APP, "E09006", "早市占道经营，影响行人通行", 14, ()),
    # 受理'd: a public report with a place then goes to 核实.
    ("c1", Source.WECHAT_OA, None, "路边有一堆垃圾没人清理，味道很大", 3, (Action.ACCEPT,)),
    ("c2", Source.WECHAT_MP, None, "人行道上的雨水井盖丢了，很危险", 18, (Action.ACCEPT,)),
    ("c3", Source.WEB, None, "路灯不亮好几天了", 22, ()),
    (
        "h1",
        Source.HOTLINE,
        "E06013",
        "市民来电：路面有个大坑，电动车容易摔",
        27,
        (Action.REGISTER,),
    ),
)
NOTES: Final = {
    Action.HANDLE: "演示：已处置",
    Action.CLOSE: "演示：结案",
    Action.REGISTER: "演示：立案",
    Action.ACCEPT: "演示：受理",
}


async def seed(settings: Settings) -> int:
    """Submit the demo reports (idempotent: their keys are fixed); return how many are new."""
    runtime = build_runtime(settings, process="cli")
    await runtime.grids.refresh(force=True)
    deps = deps_of(runtime)
    grids = await Grid.all().order_by("code").values("geometry")
    new = 0
    for key, source, category, text, index, moves in REPORTS:
        lon, lat = _centre(grids[index % len(grids)]["geometry"])
        draft = IntakeDraft(
            source=source,
            idempotency_key=f"demo-{key}",
            reporter=await _reporter(source, key),
            category_code=category,
            description=text,
            urgency=Urgency.B,
            location=Location(lon=lon, lat=lat),
            address="示范区演示地址",
        )
        try:
            result = await submit(draft, deps=deps)
        except CityloopError as err:  # a city profile without this category, say
            log.warning("demo report %s skipped: %s", key, err.detail)
            continue
        if result.created:
            new += 1
            await _walk(result.case.id, moves, deps, settings)
    return new


def _centre(geometry: dict[str, Any]) -> tuple[float, float]:
    ring = geometry["coordinates"][0]
    lons, lats = [p[0] for p in ring], [p[1] for p in ring]
    return (min(lons) + max(lons)) / 2, (min(lats) + max(lats)) / 2


async def _reporter(source: Source, key: str) -> Reporter:
    if source == Source.GRID_APP:
        return Reporter(staff_id=(await Staff.get(username="inspector1")).id)
    citizen = await citizen_identity(channel=source.value, external_id=f"demo-citizen-{key}")
    return Reporter(citizen_id=citizen.id)


async def _after_photo(settings: Settings) -> int:
    image = Image.new("RGB", (320, 240), (90, 140, 90))
    ImageDraw.Draw(image).rectangle((60, 60, 260, 180), outline=(255, 255, 255), width=6)
    data = io.BytesIO()
    image.save(data, "JPEG", quality=80)
    media = await ingest(
        data.getvalue(), settings=settings, storage=LocalStorage(settings.media_dir)
    )
    return media.id


async def _walk(case_id: int, moves: tuple[str, ...], deps: Deps, settings: Settings) -> None:
    """Move a demo case on as its department and inspector would (as the system)."""
    for move in moves:
        status = (await Case.get(id=case_id)).status
        action = Action.CHECK_RESULT if move == CHECK_PASSED else Action(move)
        if status not in TRANSITIONS[action].sources:
            return  # this city's rules took the case elsewhere (no auto 派遣, say)
        if move == CHECK_PASSED:
            passed = ResultIn(note="演示：核查通过", passed=True)
            await transition(case_id, Action.CHECK_RESULT, passed, actor=None, deps=deps)
            continue
        photos = (await _after_photo(settings),) if action == Action.HANDLE else ()
        # The demo's moves (受理, 立案, 处置, 结案) need nothing beyond a note and photos.
        inputs = TRANSITIONS[action].input(note=NOTES.get(action, ""), attachments=photos)
        await transition(case_id, action, inputs, actor=None, deps=deps)
