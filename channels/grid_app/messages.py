"""What a phone shows of a staff notice: a title and one line, in Chinese."""

from __future__ import annotations

import datetime as dt
from typing import Final

from cases import ACTION_NAMES, Action, CaseOut, StaffNotice
from core.privacy import mask_personal
from core.timeutil import to_local

TITLES: Final = {
    Action.DISPATCH: "新派遣案件",
    Action.REWORK: "返工",
    Action.REOPEN: "重办",
    Action.RESUME: "恢复处置",
    Action.URGE: "督办",
    Action.OVERDUE: "超期提醒",
}
_TASK_TITLES: Final = {Action.VERIFY: "新核实任务", Action.CHECK: "新核查任务"}


def _when(at: dt.datetime | None) -> str:
    return f"{to_local(at):%m-%d %H:%M}" if at is not None else "尽快"


def kind_of(notice: StaffNotice) -> str:
    """The message's kind: task, or the move (dispatch, rework, urge, …)."""
    return "task" if notice.task_id is not None else notice.action.value


def title_of(notice: StaffNotice) -> str:
    """The heading."""
    if notice.task_id is not None:
        return _TASK_TITLES.get(notice.action, "新任务")
    return TITLES.get(notice.action, ACTION_NAMES[notice.action])


def text_of(notice: StaffNotice, case: CaseOut, *, task_deadline: dt.datetime | None) -> str:
    """The line: which case, where, and by when; a phone or 身份证 number a reporter typed is
    masked (the line goes to phones, and through a vendor's servers)."""
    return mask_personal(_line(notice, case, task_deadline)) or ""


def _line(notice: StaffNotice, case: CaseOut, task_deadline: dt.datetime | None) -> str:
    number = case.number or f"#{case.id}"
    what = case.category_name or "案件"
    # Where it is, as the centre wrote it; else the reporter's first words of it.
    place = case.address or case.description[:20]
    where = f"（{place}）" if place else ""
    head = f"{number} {what}{where}"
    if notice.task_id is not None:
        return f"{head}：请于 {_when(task_deadline)} 前到现场完成"[:300]
    match notice.action:
        case Action.URGE:
            line = f"{head} 被督办，请于 {_when(case.deadline_at)} 前处置完毕"
        case Action.REWORK:
            line = f"{head} 核查未通过，需返工，期限 {_when(case.deadline_at)}"
        case Action.OVERDUE:
            line = f"{head} 已超过办理时限，请尽快处理"
        case _:
            line = f"{head}，处置期限 {_when(case.deadline_at)}"
    return line[:300]
