"""The 公众号's jobs (channels/wechat_oa/jobs.py): photos fetched from WeChat or refused and
told, a report confirmed before its photos arrived, idle drafts closed."""

from __future__ import annotations

import datetime as dt

from tortoise import timezone

from cases.models import Case, CaseAttachment, Report
from channels.wechat_oa.const import PURGE
from channels.wechat_oa.models import Draft, Inbound
from core.jobs.models import OutboxItem
from core.jobs.queues import LocalQueue
from core.jobs.registry import PeriodicContext, periodic_jobs
from core.media.models import MediaObject
from core.web.keys import RUNTIME
from tests.channels.wechat_oa.conftest import Chat


async def test_a_photo_is_stored_with_its_metadata_kept_from_the_public(plain_chat: Chat) -> None:
    chat = plain_chat
    await chat.photo("MEDIA_PHOTO_1")
    await chat.run_jobs()
    message = await Inbound.get(kind="image")
    assert message.photo_state == "stored"
    media = await MediaObject.get(id=message.media_object_id)
    assert media.uploaded_by_citizen_id is not None


async def test_a_photo_that_cannot_be_fetched_is_told_to_the_citizen(plain_chat: Chat) -> None:
    chat = plain_chat
    chat.api.media["NOT_AN_IMAGE"] = (b"%PDF-1.4 not a photo", "image/jpeg")
    await chat.photo("EXPIRED_MEDIA")
    await chat.photo("NOT_AN_IMAGE")
    await chat.run_jobs()
    images = await Inbound.filter(kind="image").order_by("id")
    assert [m.photo_state for m in images] == ["failed", "failed"]
    told = [t["text"]["content"] for t in chat.api.texts()]
    assert len(told) == 2 and all("未能接收" in t for t in told)
    assert "已过期或无效" in told[0]


async def test_confirmed_before_the_photo_arrived_the_number_follows_by_message(
    plain_chat: Chat,
) -> None:
    chat = plain_chat
    chat.api.fail["/cgi-bin/media/get"] = ["500"]  # WeChat slow to give the photo
    await chat.photo("MEDIA_PHOTO_1")
    lon, lat = await chat.place()
    await chat.location(lon, lat)
    await chat.run_jobs()  # the first fetch fails and waits for its retry
    assert "照片还在接收中" in await chat.say("1")
    assert "照片还在接收中" in await chat.say("1")  # typed again: still waiting, not lost
    assert "照片还在接收中" in await chat.say("就在公交站旁边")  # added while waiting
    assert await Case.all().count() == 0
    await OutboxItem.filter(status="pending").update(available_at=timezone.now())  # time passes
    await chat.run_jobs()
    case = await Case.get()
    assert await CaseAttachment.filter(case_id=case.id).count() == 1
    assert (await Report.get(case_id=case.id)).description == "就在公交站旁边"
    [told] = [t["text"]["content"] for t in chat.api.texts()]
    assert case.number is not None and case.number in told and "上报成功" in told


async def test_an_idle_draft_is_closed_and_the_citizen_told(plain_chat: Chat) -> None:
    chat = plain_chat
    await chat.say("垃圾满溢")
    await Draft.filter().update(expires_at=timezone.now() - dt.timedelta(minutes=1))
    runtime = chat.client.app[RUNTIME]
    assert isinstance(runtime.queue, LocalQueue) or runtime.queue is not None
    [purge] = [p for p in periodic_jobs() if p.name == PURGE]
    await purge.fn(PeriodicContext(runtime, runtime.queue))
    await chat.run_jobs()
    assert (await Draft.get()).status == "expired"
    [told] = [t["text"]["content"] for t in chat.api.texts()]
    assert "已作废" in told
