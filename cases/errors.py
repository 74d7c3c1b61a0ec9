"""Errors of the case core."""

from __future__ import annotations

from core.errors import Conflict


class InvalidTransition(Conflict):
    """The case's status does not allow this action."""

    code = "invalid_transition"
    message = "案件当前状态不允许此操作"


class CaseChanged(Conflict):
    """Someone else changed the case first (optimistic lock)."""

    code = "case_changed"
    message = "案件已被他人处理，请刷新后重试"
