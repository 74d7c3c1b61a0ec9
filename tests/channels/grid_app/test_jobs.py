"""Staff notices become messages in their people's feeds: a task's inspector, the department's
active handlers; never the centre's desks, and never twice when a notice runs again."""

from __future__ import annotations

from channels.grid_app.models import PushMessage
from core.auth.models import Staff
from core.jobs import outbox
from core.jobs.models import OutboxItem, OutboxStatus
from core.jobs.registry import JobContext
from core.web.keys import RUNTIME
from tests.cases.helpers import City, add_staff
from tests.channels.grid_app.conftest import verify_task
from tests.channels.wechat_oa.conftest import run_due_jobs


async def _feeds(city: City) -> dict[str, list[str]]:
    rows = await PushMessage.all().order_by("id").prefetch_related("staff")
    found: dict[str, list[str]] = {}
    for m in rows:
        found.setdefault(m.staff.username, []).append(m.title)
    return found


async def test_a_departments_active_handlers_each_get_the_message(quick_city: City) -> None:
    await add_staff(quick_city, "handler_hw2", ["handler"], "HW")
    await add_staff(quick_city, "clerk_hw", ["dispatcher"], "HW")  # of 环卫, not a handler
    await add_staff(quick_city, "handler_hw3", ["handler"], "HW")
    await Staff.filter(username="handler_hw3").update(is_active=False)
    await quick_city.dispatched(1, "路边有垃圾")
    await run_due_jobs(quick_city.client)
    assert await _feeds(quick_city) == {"handler_hw": ["新派遣案件"], "handler_hw2": ["新派遣案件"]}


async def test_a_task_goes_to_its_inspector_and_the_centre_gets_none(quick_city: City) -> None:
    await verify_task(quick_city)
    await run_due_jobs(quick_city.client)
    assert await _feeds(quick_city) == {"inspector1": ["新核实任务"]}


async def test_a_notice_run_again_writes_nothing_twice(quick_city: City) -> None:
    await quick_city.dispatched(1, "路边有垃圾")
    await run_due_jobs(quick_city.client)
    (done,) = await OutboxItem.filter(kind="notify.staff", status=OutboxStatus.DONE)
    # Put back by hand (a runner's writes commit with the row's DONE, so no crash does this):
    # the notice's key refuses its messages a second time.
    await OutboxItem.filter(id=done.id).update(status=OutboxStatus.PENDING)
    runtime = quick_city.client.app[RUNTIME]
    await outbox.run_item(done.id, context=JobContext(runtime, 0, 0), lease_s=60)
    assert await PushMessage.all().count() == 1
