"""Names and key strings of the field app's backend (城管通)."""

from __future__ import annotations

from enum import StrEnum
from typing import Final

NAME: Final = "grid_app"  # the package, its tables' app label, and the Source of its reports


class ItemKind(StrEnum):
    """What a phone queues while out of signal; each item of a sync batch is one."""

    REPORT = "report"  # 上报 a problem found
    SELF_HANDLE = "self_handle"  # 自行处置: found, fixed on the spot, before/after photos
    TASK_RESULT = "task_result"  # 核实/核查 result of a task
    CASE_ACTION = "case_action"  # a handler's 签收/处置/回退/延期/挂账
    TRACK = "track"  # GPS points
    DUTY = "duty"  # 上岗/下岗 (check-in/check-out)


class Outcome(StrEnum):
    """The answer to one item of a batch."""

    CREATED = "created"  # done now
    ALREADY = "already"  # done before (a replay): the first answer again
    REFUSED = "refused"  # not done, with the reason; the phone shows it and drops the item


class Flag(StrEnum):
    """Doubts about a report's photos, shown to the centre on the case (never refused)."""

    NO_EXIF = "no_exif"  # no capture time nor position in the photo
    STALE = "stale"  # taken longer ago than the city allows
    FUTURE = "future"  # taken "after" it was reported: the phone's clock is off
    OUTSIDE_GRID = "outside_grid"  # taken outside the inspector's grids
    GPS_MISMATCH = "gps_mismatch"  # taken far from the point the report gives


class PointFlag(StrEnum):
    """Marks on a GPS track point, for audit (never dropped)."""

    GAP = "gap"  # the phone was silent this long before it
    JUMP = "jump"  # farther from the previous point than anyone walks or rides in the time
    INACCURATE = "inaccurate"  # the phone's own accuracy is worse than the city counts


class CaseMove(StrEnum):
    """A handler's moves on a case that the phone may queue (case_action items)."""

    RECEIVE = "receive"  # 签收
    HANDLE = "handle"  # 处置, with after-photos
    RETURN = "return"  # 回退, with the reason
    EXTEND = "extend"  # 申请延期
    SUSPEND = "suspend"  # 申请挂账


# Push messages are kept this many days: a phone offline longer syncs its work list instead.
KEEP_DAYS: Final = 30
# A Redis channel per deployment (the queue name prefixes it): "a staff member has news".
WAKE_CHANNEL: Final = "grid_app:push"
PUSH_JOB: Final = "grid_app.push"  # one vendor delivery of one message to one device
PURGE_JOB: Final = "grid_app.purge"  # old push messages and sync answers
# Outbox kind of the case core's staff notices (cases' STAFF_NOTICE): this package runs them.
STAFF_NOTICE: Final = "notify.staff"
