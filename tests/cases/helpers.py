"""Helpers of the case core's tests: the demo city's places, people, photos and HTTP calls.

Imported as `tests.cases.helpers` (pytest's own conftest.py is not for importing).
"""

from __future__ import annotations

import datetime as dt
import io
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import FormData
from aiohttp.test_utils import TestClient
from PIL import Image

from cases import CaseStatus, IntakeDraft, Location, Reporter, Source, submit
from cases.const import Urgency
from cases.models import Case, CaseEvent
from core.auth.accounts import create_staff
from core.auth.models import Citizen, Staff
from core.auth.service import citizen_identity, issue_token
from core.config import Settings
from core.org.models import Department, Grid

if TYPE_CHECKING:
    # Only annotated here: the tests that build dependencies by hand import them themselves.
    from cases.deps import Deps

M_PER_DEG = 111_320.0


def grid_code(settings: Settings, street: int, community: int = 1, number: int = 1) -> str:
    """The demo city's code of a grid, all three counted from 1 (inspector<street> covers it)."""
    return f"{settings.profile.code}{street:03d}{community:03d}{number:03d}"


def centre(geometry: dict[str, Any]) -> tuple[float, float]:
    """The centre of a box-shaped grid: the mean of its corners (the ring repeats the first)."""
    ring = geometry["coordinates"][0][:-1]
    return sum(p[0] for p in ring) / len(ring), sum(p[1] for p in ring) / len(ring)


def shifted(lon: float, lat: float, east_m: float = 0.0, north_m: float = 0.0) -> dict[str, float]:
    """A WGS-84 point this many metres east and north of (lon, lat)."""
    dlat = north_m / M_PER_DEG
    dlon = east_m / (M_PER_DEG * math.cos(math.radians(lat)))
    return {"lon": lon + dlon, "lat": lat + dlat}


def jpeg(colour: tuple[int, int, int] = (90, 140, 60)) -> bytes:
    """A small plain JPEG, as a phone would send after cropping."""
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(buffer, "JPEG")
    return buffer.getvalue()


async def demo_grid(settings: Settings, street: int, community: int = 1, number: int = 1) -> Grid:
    """Load one grid of the seeded demo city."""
    return await Grid.get(code=grid_code(settings, street, community, number))


async def grid_point(
    settings: Settings,
    street: int,
    community: int = 1,
    number: int = 1,
    *,
    east_m: float = 0.0,
    north_m: float = 0.0,
) -> dict[str, float]:
    """A point inside a demo grid: its centre, moved by up to ~150 m (cells are 400 m)."""
    grid = await demo_grid(settings, street, community, number)
    return shifted(*centre(grid.geometry), east_m=east_m, north_m=north_m)


@dataclass
class City:
    """The seeded demo city behind a running app: logins, photos, places, calls."""

    client: TestClient[Any, Any]
    settings: Settings
    passwords: dict[str, str]
    _tokens: dict[str, dict[str, str]] = field(default_factory=dict)

    async def login(self, username: str) -> dict[str, str]:
        """A staff member's Authorization header, from a token issued directly (logging in
        has its own tests in tests/core; `login_over_http` does it the way people do)."""
        if username not in self._tokens:
            staff = await Staff.get(username=username)
            token, _ = await issue_token(staff=staff, ttl=dt.timedelta(hours=1))
            self._tokens[username] = {"Authorization": f"Bearer {token}"}
        return self._tokens[username]

    async def login_over_http(self, username: str) -> dict[str, str]:
        """Log a demo account in with its password, as a person does; keep that token."""
        r = await self.client.post(
            "/api/v1/auth/login",
            json={"username": username, "password": self.passwords[username]},
        )
        assert r.status == 200, await r.text()
        self._tokens[username] = {"Authorization": f"Bearer {(await r.json())['token']}"}
        return self._tokens[username]

    async def citizen(self, name: str = "a", phone: str | None = None) -> dict[str, str]:
        """A WeChat citizen's Authorization header (one identity per name)."""
        key = f"citizen:{name}"
        if key not in self._tokens:
            person = await citizen_identity(
                channel="wechat_oa", external_id=f"o{name:_<27}", phone=phone
            )
            token, _ = await issue_token(citizen=person, ttl=dt.timedelta(hours=1))
            self._tokens[key] = {"Authorization": f"Bearer {token}"}
        return self._tokens[key]

    async def citizen_id(self, name: str = "a") -> int:
        """The database id of a citizen identity made by `citizen`."""
        return (await Citizen.get(channel="wechat_oa", external_id=f"o{name:_<27}")).id

    async def staff_id(self, username: str) -> int:
        return (await Staff.get(username=username)).id

    async def department(self, code: str) -> int:
        """The id of a demo department (HW, SZ, YL, CG, JJ, GS, PS, RQ)."""
        return (await Department.get(code=code)).id

    async def grid(self, street: int, community: int = 1, number: int = 1) -> Grid:
        return await demo_grid(self.settings, street, community, number)

    async def point(
        self,
        street: int,
        community: int = 1,
        number: int = 1,
        *,
        east_m: float = 0.0,
        north_m: float = 0.0,
    ) -> dict[str, float]:
        return await grid_point(
            self.settings, street, community, number, east_m=east_m, north_m=north_m
        )

    async def photo(self, who: dict[str, str]) -> int:
        """Upload a small JPEG as this caller; return its media id."""
        form = FormData()
        form.add_field("file", jpeg(), filename="after.jpg", content_type="image/jpeg")
        r = await self.client.post("/api/v1/media", data=form, headers=who)
        assert r.status == 201, await r.text()
        return int((await r.json())["id"])

    async def report(
        self,
        who: dict[str, str],
        location: dict[str, float] | None,
        description: str = "",
        *,
        key: str | None = None,
        **extra: Any,
    ) -> tuple[int, dict[str, Any]]:
        """POST a report; return the status and the JSON body."""
        body: dict[str, Any] = {
            "idempotency_key": key or uuid.uuid4().hex,
            "description": description,
            **extra,
        }
        if location is not None:
            body["location"] = location
        r = await self.client.post("/api/v1/reports", json=body, headers=who)
        return r.status, await r.json()

    async def act(
        self, case_id: int, path: str, who: str | dict[str, str], **body: Any
    ) -> tuple[int, dict[str, Any]]:
        """POST one case action (e.g. "dispatch") as a demo account or a header."""
        headers = await self.login(who) if isinstance(who, str) else who
        r = await self.client.post(f"/api/v1/cases/{case_id}/{path}", json=body, headers=headers)
        return r.status, await r.json()

    async def ok(self, case_id: int, path: str, who: str | dict[str, str], **body: Any) -> Any:
        """Like act, and the action must succeed; return the case."""
        status, out = await self.act(case_id, path, who, **body)
        assert status == 200, (path, out)
        return out

    async def get(
        self, path: str, who: str | dict[str, str], **params: Any
    ) -> tuple[int, dict[str, Any]]:
        headers = await self.login(who) if isinstance(who, str) else who
        r = await self.client.get(path, params=params, headers=headers)
        return r.status, await r.json()

    async def detail(self, case_id: int, who: str | dict[str, str] = "acceptor") -> Any:
        status, out = await self.get(f"/api/v1/cases/{case_id}", who)
        assert status == 200, out
        return out

    async def dispatched(
        self, street: int, description: str, *, number: int = 1, east_m: float = 0.0, **extra: Any
    ) -> dict[str, Any]:
        """An inspector's report in an auto category: filed and dispatched at once."""
        where = await self.point(street, number=number, east_m=east_m)
        status, out = await self.report(
            await self.login(f"inspector{street}"), where, description, **extra
        )
        assert status == 201, out
        assert out["case"]["status"] == "dispatched", out
        return dict(out["case"])


async def actions(case_id: int) -> list[str]:
    """The timeline's actions in order."""
    events = await CaseEvent.filter(case_id=case_id).order_by("created_at", "id")
    return [e.action for e in events]


def codes(pairs: Sequence[tuple[int, dict[str, Any]]]) -> list[tuple[int, str]]:
    """(status, error code) of each response, sorted: for answers whose order is not fixed."""
    return sorted((s, b.get("code") or "") for s, b in pairs)


def error_fields(err: dict[str, Any]) -> list[str]:
    """The fields a 422 answer names, in its order."""
    return [str(f["field"]) for f in err.get("fields", [])]


async def add_staff(city: City, username: str, roles: list[str], department: str | None) -> None:
    """Add an account with several roles, and let `city.login` use it."""
    password = "Pa55word-" + username
    dep = await city.department(department) if department else None
    await create_staff(
        username=username, password=password, display_name=username, roles=roles, department_id=dep
    )
    city.passwords[username] = password


async def registered_case(city: City, street: int = 2, text: str = "路边有垃圾") -> int:
    """A citizen's report in a street, registered (class B) by the acceptor; its id."""
    status, out = await city.report(await city.citizen(), await city.point(street), text)
    assert status == 201, out
    cid = int(out["case"]["id"])
    await city.ok(cid, "register", "acceptor", urgency="B")
    return cid


async def four_cases(city: City) -> dict[str, dict[str, Any]]:
    """Inspectors' cases, dispatched (a and d to 环卫, b to 交警), and a citizen's in 核实 (c)."""
    a = await city.dispatched(1, "东门口垃圾")
    b = await city.dispatched(2, "消防通道违停")
    _, c = await city.report(await city.citizen(), await city.point(3), "小区里有垃圾")
    c = {"case": await city.ok(c["case"]["id"], "accept", "acceptor")}  # 受理, so to 核实
    d = await city.dispatched(1, "北门口垃圾桶满溢", number=2)
    return {"a": a, "b": b, "c": c["case"], "d": d}


async def inspector_report(
    deps: Deps, settings: Settings, street: int, category: str, urgency: Urgency | None = None
) -> Case:
    """An inspector's report through the one door: filed and dispatched at once."""
    inspector = await Staff.get(username=f"inspector{street}")
    draft = IntakeDraft(
        source=Source.GRID_APP,
        idempotency_key=uuid.uuid4().hex,
        reporter=Reporter(staff_id=inspector.id),
        category_code=category,
        description="巡查发现消防通道有车辆违停",
        location=Location(**await grid_point(settings, street)),
        urgency=urgency,
    )
    result = await submit(draft, deps=deps)
    assert result.case.status == CaseStatus.DISPATCHED
    return await Case.get(id=result.case.id)


async def history(
    count: int, *, text: str = "历史案件", street_id: int | None = None, numbered: bool = True
) -> list[int]:
    """`count` closed cases of past years written straight into the table, oldest first, a
    minute apart (a district's history; the lists read them as they read any case)."""
    start = dt.datetime.now(dt.UTC) - dt.timedelta(days=400)
    batch = uuid.uuid4().hex[:6]  # numbers unique across calls
    rows = [
        Case(
            source=Source.WEB,
            status=CaseStatus.CLOSED,
            description=f"{text}{i}",
            number=f"H{batch}{i:07d}" if numbered else None,
            street_id=street_id,
            created_at=start + dt.timedelta(minutes=i),
            closed_at=start + dt.timedelta(minutes=i, days=2),
        )
        for i in range(count)
    ]
    await Case.bulk_create(rows, batch_size=2000)
    made = Case.filter(
        status=CaseStatus.CLOSED, created_at__gte=start, description__startswith=text
    )
    return [int(str(i)) for i in await made.order_by("created_at").values_list("id", flat=True)]
