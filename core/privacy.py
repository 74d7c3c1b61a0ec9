"""Personal data: masking for responses and logs."""

from __future__ import annotations

import re

# Mainland mobile numbers (11 digits, 1[3-9]…) and WeChat openids (28 chars starting with 'o').
_PHONE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")
_OPENID = re.compile(r"\b(o[A-Za-z0-9_-]{3})[A-Za-z0-9_-]{20,}([A-Za-z0-9_-]{4})\b")


def mask_phone(phone: str | None) -> str | None:
    """Show a phone number as 138****5678; short numbers keep only their last 4 digits."""
    if not phone:
        return phone
    digits = phone.strip()
    if len(digits) >= 11:
        return f"{digits[:3]}****{digits[-4:]}"
    return "*" * max(len(digits) - 4, 0) + digits[-4:]


def redact(text: str) -> str:
    """Mask phone numbers and openids inside free text (log lines)."""
    text = _PHONE.sub(r"\1****\2", text)
    return _OPENID.sub(r"\1…\2", text)
