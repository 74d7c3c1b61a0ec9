"""自行处置 from the phone: a small problem found, fixed on the spot and closed with before and
after photos where the category allows it — waiting for the centre's 结案 where the city
reviews them, closed by the system where it does not."""

from __future__ import annotations

from typing import Any

from cases import IntakeDraft, Location, Reporter, Source, deps_of, submit
from cases.models import Case, CaseAttachment, CaseEvent
from core.org.models import Grid
from core.org.service import assign_inspector
from tests.cases.conftest import MakeCity, city_with
from tests.cases.helpers import City, add_staff
from tests.channels.grid_app.conftest import Phone, exif_jpeg, item, now

__all__ = ["city_with"]


async def _fixed(phone: Phone, **extra: Any) -> dict[str, Any]:
    where = await phone.city.point(1, number=4)
    before = exif_jpeg(where, taken=now())
    body = item(
        "self_handle",
        description="电线杆上贴满小广告",
        category_code=extra.pop("category_code", None),
        location=where,
        photos=["before"],
        after=["after"],
        note="已现场清除",
        **extra,
    )
    return await phone.one(body, before=before, after=exif_jpeg(where, taken=now()))


async def test_self_handled_waits_for_the_centres_close(inspector: Phone) -> None:
    city = inspector.city
    answer = await _fixed(inspector)
    assert (answer["outcome"], answer["status"]) == ("created", "checked"), answer
    cid = answer["case_id"]
    actions = [e.action for e in await CaseEvent.filter(case_id=cid).order_by("id")]
    assert actions == ["report", "register", "self_handle"]
    case = await Case.get(id=cid)
    assert case.department_id is None and case.category_name == "非法小广告"
    kinds = sorted(a.kind.value for a in await CaseAttachment.filter(case_id=cid))
    assert kinds == ["after", "report"]
    # The centre reviews it and closes it: no 核查 is asked for what the inspector fixed.
    closed = await city.ok(cid, "close", "shift_lead", note="照片核对无误")
    assert closed["status"] == "closed"


async def test_without_review_the_system_closes_it(city_with: MakeCity) -> None:
    city: City = await city_with(workflow={"self_handle_review": False})
    answer = await _fixed(Phone(city, "inspector1"))
    assert answer["status"] == "closed"
    actions = [e.action for e in await CaseEvent.filter(case_id=answer["case_id"]).order_by("id")]
    assert actions[-2:] == ["self_handle", "close"]


async def test_a_category_the_city_does_not_allow_is_refused(inspector: Phone) -> None:
    before = await Case.all().count()
    answer = await _fixed(inspector, category_code="E09009")  # 机动车乱停放: 交警's
    assert (answer["outcome"], answer["code"]) == ("refused", "self_handle_not_allowed")
    assert answer["message"] == "该类别的问题不能由监督员自行处置，请按一般流程上报"
    assert await Case.all().count() == before


async def test_a_replayed_self_handle_is_one_case(inspector: Phone) -> None:
    where = await inspector.city.point(1, 2)
    body = item(
        "self_handle",
        description="路边一小堆垃圾",
        location=where,
        photos=["b"],
        after=["a"],
    )
    photos = {"b": exif_jpeg(where, taken=now()), "a": exif_jpeg(where, taken=now())}
    first = (await inspector.sync([body], photos))[1]["items"][0]
    again = (await inspector.sync([body], photos))[1]["items"][0]
    assert first["outcome"] == "created" and again["outcome"] == "already"
    assert first["case_id"] == again["case_id"]
    assert await CaseEvent.filter(case_id=first["case_id"], action="self_handle").count() == 1


async def test_only_the_reporting_inspector_self_handles(inspector: Phone) -> None:
    city = inspector.city
    answer = await _fixed(inspector)
    cid = answer["case_id"]
    await Case.filter(id=cid).update(status="registered")  # as if not yet 自行处置'd
    # Another inspector of the same grid sees the case, and may not do it for them.
    await add_staff(city, "inspector1b", ["inspector"], None)
    grid = (await Case.get(id=cid)).grid_id
    code = (await Grid.get(id=grid)).code
    await assign_inspector(staff_id=await city.staff_id("inspector1b"), grid_codes=[code])
    photo = await Phone(city, "inspector1b").upload()
    r = await city.client.post(
        f"/api/v1/cases/{cid}/self-handle",
        json={"attachments": [photo]},
        headers=await city.login("inspector1b"),
    )
    assert (r.status, (await r.json())["code"]) == (403, "not_your_report")
    assert (await Case.get(id=cid)).status.value == "registered"


async def test_a_handler_cannot_self_handle_and_nothing_is_filed(handler: Phone) -> None:
    before = await Case.all().count()
    answer = await _fixed(handler)
    assert (answer["outcome"], answer["code"]) == ("refused", "role_forbidden")
    assert await Case.all().count() == before


async def test_a_self_handle_cut_short_by_a_crash_is_finished_by_its_replay(
    inspector: Phone,
) -> None:
    """The case was filed (the draft went through the door) and the server died before the
    自行处置 move and the ledger: the phone's replay goes on from there, once."""
    city = inspector.city
    where = await city.point(1, 2)
    body = item("self_handle", description="路边一小堆垃圾", location=where, photos=[], after=["a"])
    draft = IntakeDraft(
        source=Source.GRID_APP,
        idempotency_key=f"field-{body['id']}",
        reporter=Reporter(staff_id=await city.staff_id("inspector1")),
        description="路边一小堆垃圾",
        location=Location(**where),
        self_handle=True,
    )
    filed = await submit(draft, deps=deps_of(city.client.app))
    assert filed.case.status.value == "registered"
    answer = await inspector.one(body, a=exif_jpeg(where, taken=now()))
    assert (answer["case_id"], answer["status"]) == (filed.case.id, "checked")
    assert answer["outcome"] == "already"  # the case was had; the rest was done now
    actions = [e.action for e in await CaseEvent.filter(case_id=filed.case.id).order_by("id")]
    assert actions == ["report", "register", "self_handle"]
