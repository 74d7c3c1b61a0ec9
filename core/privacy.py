"""Personal data: masking for responses and logs."""

from __future__ import annotations

import re

# Mainland mobile numbers (11 digits, 1[3-9]…), as people write them: with +86 / 86 / 0086 in
# front, with spaces or dashes between the groups (138 1234 5678, 138-1234-5678).
_PHONE = re.compile(r"(?<![\d+])(?:(?:\+|00)?86[\s-]?)?(1[3-9]\d)[\s-]?\d{4}[\s-]?(\d{4})(?!\d)")
# 居民身份证号码 (GB 11643: 17 digits and a check digit or X; the old 15-digit form too).
_ID_CARD = re.compile(
    r"(?<!\d)(\d{6})\d{8}(\d{3}[\dXx])(?![\dXx])|(?<!\d)(\d{6})\d{6}(\d{3})(?!\d)"
)
# WeChat openids (28 characters starting with 'o').
_OPENID = re.compile(r"\b(o[A-Za-z0-9_-]{3})[A-Za-z0-9_-]{20,}([A-Za-z0-9_-]{4})\b")
# Full-width digits and signs (０-９, ＋, －) read as the ASCII ones before matching.
_WIDE = str.maketrans({**{chr(0xFF10 + i): str(i) for i in range(10)}, "＋": "+", "－": "-"})


def _id_card(m: re.Match[str]) -> str:
    head, tail = (m.group(1), m.group(2)) if m.group(1) else (m.group(3), m.group(4))
    return f"{head}********{tail}"


def mask_phone(phone: str | None) -> str | None:
    """Show a phone number as 138****5678; short numbers keep only their last 4 digits."""
    if not phone:
        return phone
    digits = phone.strip()
    if len(digits) >= 11:
        return f"{digits[:3]}****{digits[-4:]}"
    return "*" * max(len(digits) - 4, 0) + digits[-4:]


def _masked(text: str) -> str:
    """Mask phones and ID numbers, matched on the ASCII reading, elsewhere as written."""
    ascii_text = text.translate(_WIDE)  # one character for one: offsets stay the same
    spans: list[tuple[int, int, str]] = []
    for m in _PHONE.finditer(ascii_text):
        spans.append((m.start(), m.end(), f"{m.group(1)}****{m.group(2)}"))
    for m in _ID_CARD.finditer(ascii_text):
        # 0086 + a mobile is 15 digits, like an old ID: a phone already found wins.
        if not any(a < m.end() and m.start() < b for a, b, _ in spans):
            spans.append((m.start(), m.end(), _id_card(m)))
    out, at = [], 0
    for start, end, mask in sorted(spans):
        out += [text[at:start], mask]
        at = end
    return "".join([*out, text[at:]])


def holds_digits(text: str, run: int = 3) -> bool:
    """Whether text has `run` digits in a row (full-width ones too, and across spaces and
    dashes): enough to probe the hidden middle of a masked phone or 身份证 number."""
    flat = re.sub(r"[\s-]", "", text.translate(_WIDE))
    return re.search(rf"\d{{{run}}}", flat) is not None


def mask_personal(text: str | None) -> str | None:
    """Mask the phone and 身份证 numbers a person typed into free text (a description, a
    note), for readers who do not call people back; the rest stays as written."""
    return _masked(text) if text else text


def redact(text: str) -> str:
    """Mask phone numbers, ID card numbers and openids inside free text (log lines)."""
    return _OPENID.sub(r"\1…\2", _masked(text).translate(_WIDE))
