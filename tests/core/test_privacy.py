"""Personal data in logs (core/privacy.py): every way people write a phone or an ID number."""

from __future__ import annotations

import logging

import pytest

from core.logs import JsonFormatter
from core.privacy import mask_phone, redact


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("电话13812345678", "电话138****5678"),
        ("+86 138 1234 5678", "138****5678"),
        ("86-138-1234-5678", "138****5678"),
        ("0086 13812345678", "138****5678"),
        ("１３８１２３４５６７８", "138****5678"),  # full-width digits
        ("身份证330102199001011234", "身份证330102********1234"),
        ("33010219900101123X", "330102********123X"),
        ("330102900101123", "330102********123"),  # the old 15-digit form
        ("oAbCdEfGhIjKlMnOpQrStUvWxYz1", "oAbC…xYz1"),  # an openid
    ],
)
def test_redact_masks_what_people_write(text: str, shown: str) -> None:
    assert redact(text) == shown


@pytest.mark.parametrize("kept", ["2026120200000009", "E06010", "20261202000001234567"])
def test_case_numbers_and_codes_are_not_mistaken_for_personal_data(kept: str) -> None:
    assert redact(kept) == kept


def test_a_logged_value_is_masked_inside_any_field() -> None:
    record = logging.LogRecord("x", logging.INFO, "", 0, "status %s", ("13812345678",), None)
    record.filter_value = "身份证 330102199001011234"
    line = JsonFormatter().format(record)
    assert "13812345678" not in line and "199001011234" not in line


def test_mask_phone_keeps_the_ends() -> None:
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("12345") == "*2345"
