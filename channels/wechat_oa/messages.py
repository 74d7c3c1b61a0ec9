"""What the 公众号 says to citizens: short, plain Chinese; one function per occasion."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from cases import ACTION_NAMES, STATUS_NAMES, Action, CaseStatus, CaseView
from core.messaging import Invitation
from core.timeutil import to_local

HOW_TO = (
    "发现市容环境、道路设施等问题，可以直接在这里上报：\n"
    "1. 拍照发送（可多张）\n"
    "2. 发送位置（点“+”→“位置”），或回复“地址：XX路XX号”\n"
    "3. 用文字说明问题\n"
    "顺序不限，信息齐全后我会请您确认。\n"
    "回复“查询”查看我的上报，回复“帮助”查看说明。"
)


def welcome(city: str, extra: str = "") -> str:
    """A new follower."""
    text = f"感谢关注{city}城市管理！\n{HOW_TO}"
    return f"{text}\n{extra}" if extra else text


def help_text() -> str:
    return HOW_TO


def not_understood() -> str:
    return "暂时无法识别这类消息。\n" + HOW_TO


def expired_note(minutes: int) -> str:
    return f"（您之前未提交的上报已超过{minutes}分钟未更新，已作废，请重新上报。）\n"


def missing(draft: Any) -> str:
    """What the draft still needs, as a request."""
    needs = []
    if not draft.description and not draft.photos:
        needs.append("发送照片或用文字描述问题")
    if draft.lon is None and not draft.address:
        needs.append("发送位置，或回复“地址：XX路XX号”")
    return "请" + "，并".join(needs) + "。" if needs else ""


def photo_received(count: int, rest: str) -> str:
    return f"已收到照片（共{count}张）。{rest}"


def location_received(label: str, rest: str) -> str:
    place = f"：{label}" if label else ""
    return f"已收到位置{place}。{rest}"


def outside_city(city: str) -> str:
    return f"该位置不在{city}的管辖范围内，请重新发送问题所在的位置（其他内容已保留）。"


def address_received(address: str, rest: str) -> str:
    return f"已记录地址：{address}。{rest}"


def text_received(rest: str) -> str:
    return f"已记录问题描述。{rest}"


def confirm(draft: Any, category: str | None) -> str:
    """The whole draft, and how to confirm."""
    lines = ["请确认上报内容："]
    if draft.description:
        lines.append(f"问题：{_clip(draft.description, 60)}")
    if category:
        lines.append(f"类别：{category}（系统建议，以受理为准）")
    place = draft.address or ("已发送位置" if draft.lon is not None else "")
    lines.append(f"位置：{place}")
    if draft.photos:
        lines.append(f"照片：{draft.photos}张")
    lines.append("回复 1 确认提交，回复 0 取消")
    return "\n".join(lines)


def submitted(number: str, status: str) -> str:
    return (
        f"上报成功！案件编号：{number}，当前状态：{status}。\n"
        "处理进展会通过本公众号通知您，回复“查询”可随时查看。"
    )


def merged(number: str, status: str) -> str:
    return (
        f"感谢上报！该问题已有市民反映，已合并到案件 {number}（{status}），处理进展会一并通知您。"
    )


def photos_pending() -> str:
    return "已确认。照片还在接收中，接收完成后将自动提交，并把案件编号发给您。"


def cancelled() -> str:
    return "已取消本次上报。如需上报，请重新发送照片、位置和描述。"


def nothing_to_confirm() -> str:
    return "当前没有待确认的上报。\n" + HOW_TO


def submit_failed(reason: str) -> str:
    return f"提交未成功：{reason}。请补充后回复 1 重新提交，或回复 0 取消。"


def photo_failed(reason: str) -> str:
    return f"您发送的一张照片未能接收（{reason}），请重新拍照发送。"


def mine(rows: Sequence[tuple[str, str, dt.datetime]]) -> str:
    """The citizen's recent reports: number, status name, when."""
    if not rows:
        return "您还没有上报记录。\n" + HOW_TO
    lines = ["您最近的上报："]
    for number, status, at in rows:
        lines.append(f"{number}  {status}  {to_local(at):%m-%d %H:%M}")
    return "\n".join(lines)


def progress(view: CaseView, action: Action, status: CaseStatus, text: str | None) -> str:
    """A 客服消息 of a move (when no template fits), or the centre's own words."""
    number = view.number or str(view.id)
    if action == Action.MESSAGE and text:
        return f"关于您上报的案件 {number}，城市管理中心留言：\n{text}"
    said = f"您上报的案件 {number} 有新进展：{ACTION_NAMES[action]}，状态：{STATUS_NAMES[status]}。"
    return f"{said}\n原因：{text}" if text else said


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def invitation(invitation: Invitation) -> str:
    """A 客服消息 with an invitation's words and its link."""
    return f'{invitation.text}\n<a href="{invitation.url}">点击这里评价</a>'
