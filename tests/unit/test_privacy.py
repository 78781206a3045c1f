"""Masking of phone numbers and params in human output (usms_cli.core.privacy)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from usms_cli.core.privacy import MASKED_PARAM, Masker, mask_phone, mask_text


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("13800008000", "138****8000"),
        ("(1)4155550100", "(1)415***0100"),
        ("(852)91234567", "(852)912*4567"),
        ("1380000", "1*****0"),
        ("12", "**"),
    ],
)
def test_mask_phone(number: str, masked: str) -> None:
    assert mask_phone(number) == masked


def test_mask_text_hides_numbers_and_params() -> None:
    text = "request 1 to 13800008000: 【Acme】您的验证码是246810 (852)91234567"
    masked = mask_text(text, ["13800008000", "(852)91234567"], ["246810"])
    assert "13800008000" not in masked and "246810" not in masked
    assert "91234567" not in masked
    assert "138****8000" in masked and MASKED_PARAM in masked


def test_masker_show_pii_shows_everything() -> None:
    masker = Masker(show_pii=True)
    assert masker.phone("13800008000") == "13800008000"
    assert masker.text("x 13800008000", ["13800008000"]) == "x 13800008000"


@settings(max_examples=200, deadline=None)
@given(number=st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_masked_phone_never_contains_the_middle_digits(number: str) -> None:
    masked = mask_phone(number)
    assert masked[:3] == number[:3] and masked[-4:] == number[-4:]
    assert number not in masked and len(masked) == len(number)
