"""Role names and auth limits."""

from enum import StrEnum
from typing import Final


class Role(StrEnum):
    """Staff roles; the Chinese names are what people see."""

    ADMIN = "admin"  # 系统管理员
    ACCEPTOR = "acceptor"  # 受理员
    SHIFT_LEAD = "shift_lead"  # 值班长
    DISPATCHER = "dispatcher"  # 派遣员
    HANDLER = "handler"  # 处置人员, belongs to a department
    INSPECTOR = "inspector"  # 监督员, assigned grids
    AGENT = "agent"  # 话务员


ROLE_NAMES: Final[dict[Role, str]] = {
    Role.ADMIN: "系统管理员",
    Role.ACCEPTOR: "受理员",
    Role.SHIFT_LEAD: "值班长",
    Role.DISPATCHER: "派遣员",
    Role.HANDLER: "处置人员",
    Role.INSPECTOR: "监督员",
    Role.AGENT: "话务员",
}

STAFF_ROLES: Final = frozenset(Role)
# A pseudo-role for guards: the caller is a citizen identity from a channel.
CITIZEN: Final = "citizen"
# 32 random bytes: guessing is hopeless, and the URL-safe text fits in a header.
TOKEN_BYTES: Final = 32
TOKEN_PREFIX: Final = "cl_"  # noqa: S105  (a marker for secret scanners, not a secret)
MIN_PASSWORD_LENGTH: Final = 10
