"""What a phone shows of a staff notice: a title and one line naming the case, where it is and
by when."""

from __future__ import annotations

import datetime as dt

from cases import Action, CaseOut, StaffNotice
from channels.grid_app.messages import kind_of, text_of, title_of

DEADLINE = dt.datetime(2026, 12, 9, 9, 30, tzinfo=dt.UTC)  # 17:30 in Beijing


def _case(address: str = "解放路 12 号", description: str = "门口垃圾堆放") -> CaseOut:
    return CaseOut(
        id=7,
        number="2026120800000007",
        status="dispatched",
        status_name="处置中",
        source="grid_app",
        category_code="E06010",
        category_name="暴露垃圾",
        urgency="B",
        description=description,
        address=address,
        lon=120.15,
        lat=30.27,
        grid_id=1,
        street_id=2,
        department_id=3,
        stage="handle",
        deadline_at=DEADLINE,
        light="green",
        overdue=False,
        urge_count=0,
        reopen_count=0,
        report_count=1,
        pending_request=None,
        version=3,
        created_at=DEADLINE - dt.timedelta(hours=8),
        registered_at=None,
        dispatched_at=None,
        handled_at=None,
        closed_at=None,
    )


def _notice(action: Action, **extra: object) -> StaffNotice:
    return StaffNotice(case_id=7, event_id=3, action=action, audience="department", **extra)


def test_each_kind_of_news_has_its_title_and_line() -> None:
    urge = _notice(Action.URGE)
    assert (kind_of(urge), title_of(urge)) == ("urge", "督办")
    assert text_of(urge, _case(), task_deadline=None) == (
        "2026120800000007 暴露垃圾（解放路 12 号） 被督办，请于 12-09 17:30 前处置完毕"
    )
    rework = _notice(Action.REWORK)
    assert title_of(rework) == "返工"
    assert "核查未通过，需返工" in text_of(rework, _case(), task_deadline=None)
    task = StaffNotice(
        case_id=7, event_id=3, action=Action.CHECK, audience="inspector", inspector_id=4, task_id=9
    )
    assert (kind_of(task), title_of(task)) == ("task", "新核查任务")
    assert text_of(task, _case(), task_deadline=DEADLINE).endswith("请于 12-09 17:30 前到现场完成")


def test_a_case_without_an_address_is_named_by_its_words() -> None:
    line = text_of(_notice(Action.DISPATCH), _case(address=""), task_deadline=None)
    assert line == "2026120800000007 暴露垃圾（门口垃圾堆放），处置期限 12-09 17:30"


def test_a_number_the_reporter_typed_is_masked() -> None:
    case = _case(address="", description="13812345678张先生说门口有垃圾")
    line = text_of(_notice(Action.DISPATCH), case, task_deadline=None)
    assert "13812345678" not in line and "138****5678" in line
