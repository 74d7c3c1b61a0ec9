"""Names of the case core: statuses, sources, actions, stages, lights."""

from __future__ import annotations

from enum import StrEnum
from typing import Final


class CaseStatus(StrEnum):
    REPORTED = "reported"  # 待受理
    VERIFYING = "verifying"  # 待核实 (public reports only)
    REGISTERED = "registered"  # 已立案, 待派遣
    DISPATCHED = "dispatched"  # 处置中
    HANDLED = "handled"  # 已处置, 待核查
    CHECKED = "checked"  # 核查通过, 待结案 (its own 结案 clock)
    CLOSED = "closed"  # 已结案
    REJECTED = "rejected"  # 不予立案
    CANCELLED = "cancelled"  # 作废
    SUSPENDED = "suspended"  # 挂账


STATUS_NAMES: Final = {
    CaseStatus.REPORTED: "待受理",
    CaseStatus.VERIFYING: "待核实",
    CaseStatus.REGISTERED: "待派遣",
    CaseStatus.DISPATCHED: "处置中",
    CaseStatus.HANDLED: "待核查",
    CaseStatus.CHECKED: "待结案",
    CaseStatus.CLOSED: "已结案",
    CaseStatus.REJECTED: "不予立案",
    CaseStatus.CANCELLED: "已作废",
    CaseStatus.SUSPENDED: "已挂账",
}
FINAL_STATUSES: Final = frozenset({CaseStatus.CLOSED, CaseStatus.REJECTED, CaseStatus.CANCELLED})
OPEN_STATUSES: Final = frozenset(CaseStatus) - FINAL_STATUSES


class Source(StrEnum):
    WECHAT_OA = "wechat_oa"  # 公众号
    WECHAT_MP = "wechat_mp"  # 小程序
    GRID_APP = "grid_app"  # 城管通 (inspectors)
    HOTLINE = "hotline"  # 12345 / 12319
    VIDEO = "video"  # cameras
    SENSOR = "sensor"  # IoT alarms
    UPPER_PLATFORM = "upper_platform"  # 省/国家平台
    WEB = "web"  # the centre's own web client


SOURCE_NAMES: Final = {
    Source.WECHAT_OA: "微信公众号",
    Source.WECHAT_MP: "微信小程序",
    Source.GRID_APP: "城管通",
    Source.HOTLINE: "热线",
    Source.VIDEO: "视频识别",
    Source.SENSOR: "物联感知",
    Source.UPPER_PLATFORM: "上级平台",
    Source.WEB: "网页",
}


class Action(StrEnum):
    """Every move of the state machine; each is one endpoint."""

    REPORT = "report"  # 上报 (intake, creates the case)
    ACCEPT = "accept"  # 受理
    VERIFY = "verify"  # 核实 requested
    VERIFY_RESULT = "verify_result"  # 核实 result from the inspector
    REGISTER = "register"  # 立案
    REJECT = "reject"  # 不予立案
    DISPATCH = "dispatch"  # 派遣
    RECEIVE = "receive"  # 签收 by the department
    RETURN = "return"  # 回退
    EXTEND = "extend"  # 延期 asked
    APPROVE_EXTENSION = "approve_extension"  # 延期 approved (or refused)
    HANDLE = "handle"  # 处置
    CHECK = "check"  # 核查 requested
    CHECK_RESULT = "check_result"  # 核查 result; a failure is 返工
    SELF_HANDLE = "self_handle"  # 自行处置: the inspector who found it fixed it on the spot
    CLOSE = "close"  # 结案
    CANCEL = "cancel"  # 作废
    SUSPEND = "suspend"  # 挂账 asked
    APPROVE_SUSPENSION = "approve_suspension"  # 挂账 approved (or refused)
    RESUME = "resume"  # 恢复
    URGE = "urge"  # 督办
    MESSAGE = "message"  # 联系上报人: the centre writes to the citizen reporters
    LOCATE = "locate"  # 定位: the centre places a case known by its address only
    REOPEN = "reopen"  # 重办
    REWORK = "rework"  # 返工: written when a 核查 fails
    DUPLICATE = "duplicate"  # another report merged into this case
    OVERDUE = "overdue"  # a stage passed its deadline (written by the clock, not a person)


ACTION_NAMES: Final = {
    Action.REPORT: "上报",
    Action.ACCEPT: "受理",
    Action.VERIFY: "派发核实",
    Action.VERIFY_RESULT: "核实反馈",
    Action.REGISTER: "立案",
    Action.REJECT: "不予立案",
    Action.DISPATCH: "派遣",
    Action.RECEIVE: "签收",
    Action.RETURN: "回退",
    Action.EXTEND: "申请延期",
    Action.APPROVE_EXTENSION: "延期审批",
    Action.HANDLE: "处置",
    Action.CHECK: "派发核查",
    Action.CHECK_RESULT: "核查反馈",
    Action.SELF_HANDLE: "自行处置",
    Action.CLOSE: "结案",
    Action.CANCEL: "作废",
    Action.SUSPEND: "申请挂账",
    Action.APPROVE_SUSPENSION: "挂账审批",
    Action.RESUME: "恢复处置",
    Action.URGE: "督办",
    Action.MESSAGE: "联系上报人",
    Action.LOCATE: "定位",
    Action.REOPEN: "重办",
    Action.REWORK: "返工",
    Action.DUPLICATE: "重复上报合并",
    Action.OVERDUE: "超期",
}


class Stage(StrEnum):
    """Each stage has its own clock."""

    ACCEPT = "accept"  # 受理
    VERIFY = "verify"  # 核实
    REGISTER = "register"  # 立案
    DISPATCH = "dispatch"  # 派遣
    HANDLE = "handle"  # 处置
    CHECK = "check"  # 核查
    CLOSE = "close"  # 结案 (after a passed 核查)


class Light(StrEnum):
    GREEN = "green"  # under 80 % of the limit used
    YELLOW = "yellow"  # 80–100 %
    RED = "red"  # beyond the limit
    NONE = "none"  # no clock running (final, or suspended)


class Urgency(StrEnum):
    """立案条件 class of a case."""

    A = "A"  # 紧急
    B = "B"
    C = "C"


class TaskKind(StrEnum):
    VERIFY = "verify"  # 核实
    CHECK = "check"  # 核查


class TaskStatus(StrEnum):
    OPEN = "open"
    DONE = "done"
    CANCELLED = "cancelled"


class AttachmentKind(StrEnum):
    REPORT = "report"  # with the report
    VERIFY = "verify"  # taken by the inspector at 核实
    BEFORE = "before"  # by the department before work
    AFTER = "after"  # by the department after work
    CHECK = "check"  # by the inspector at 核查
    OTHER = "other"


MAX_TEXT: Final = 2000
MAX_PHOTOS: Final = 9  # WeChat's own limit for one message's pictures
# Case events are named "case.<action>" (core.jobs.events): case.close, case.dispatch…
EVENT_PREFIX: Final = "case."

# Outbox kinds: a reporter hears of a case's progress through their own channel.
NOTIFY_PREFIX: Final = "notify."
# Staff hear of tasks, new work, 督办 and lateness: payload "audience" is department,
# inspector or centre, with department_id or inspector_id.
STAFF_NOTICE: Final = "notify.staff"
OVERDUE_JOB: Final = "cases.mark_overdue"
