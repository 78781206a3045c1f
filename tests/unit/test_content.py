"""Masking and content rules (pure functions)."""

from __future__ import annotations

import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from usms_cli.core.content import (
    CHINA,
    outside_marketing_hours,
    preview,
    render,
    segments,
    variables,
)
from usms_cli.core.errors import InputError
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


def test_variables_and_render() -> None:
    assert variables("Hi {2}, code {1}, again {1}") == [1, 2]
    assert (
        render("您的验证码是{1}，{2}分钟内有效。", ["123456", "5"])
        == "您的验证码是123456，5分钟内有效。"
    )


@pytest.mark.parametrize(
    ("text", "international", "count"),
    [
        ("字" * 70, False, 1),
        ("字" * 71, False, 2),
        ("字" * 134, False, 2),
        ("字" * 135, False, 3),
        ("a" * 160, True, 1),
        ("a" * 161, True, 2),
        ("a" * 306, True, 2),
        ("a" * 307, True, 3),
        ("{" * 80, True, 1),  # extension characters count twice: 160 septets
        ("{" * 81, True, 2),
        ("a" * 71, False, 2),  # domestic: always the 70/67 rule
        ("é" * 100, True, 1),  # é is in the GSM basic alphabet
        ("ę" * 71, True, 2),  # not GSM: UCS-2, 70/67
    ],
)
def test_segments(text: str, international: bool, count: int) -> None:
    assert segments(text, international=international) == count


def test_preview_counts_the_signature_and_refuses_bad_content() -> None:
    shown = preview("您的验证码是{1}。", ["123456"], "优刻得", international=False)
    assert shown.text == "【优刻得】您的验证码是123456。" and shown.length == 18
    assert shown.segments == 1
    with pytest.raises(InputError, match="1 variable"):
        preview("code {1}", [], "Acme", international=False)
    with pytest.raises(InputError, match="limit is 500"):
        preview("{1}", ["x" * 495], "Acme", international=False)


@pytest.mark.parametrize(
    ("hour", "outside"), [(7, True), (8, False), (12, False), (19, False), (20, True), (23, True)]
)
def test_marketing_window_is_china_time(hour: int, outside: bool) -> None:
    moment = datetime.datetime(2026, 11, 24, hour, 30, tzinfo=CHINA)
    assert outside_marketing_hours(moment) is outside
    assert outside_marketing_hours(moment.astimezone(datetime.UTC)) is outside


def test_ci_outputs_and_commands() -> None:
    from usms_cli.output.ci import (
        add_mask_lines,
        dotenv_text,
        error_annotation,
        github_output_text,
        outputs,
        summary_markdown,
    )

    payload = {
        "exit_code": 3,
        "recipients": 3,
        "request_count": 2,
        "session_nos": ["sn-1", "sn-2"],
        "counts": {"accepted": 2, "rejected": 1, "unknown": 0, "not_sent": 0},
    }
    values = outputs(payload)
    assert values["status"] == "partial" and values["accepted"] == "2"
    text = github_output_text(values)
    assert "exit_code=3\n" in text and "session_nos<<USMS_" in text and "sn-1\nsn-2\n" in text
    assert "| 2 | 1 | 0 | 0 | 2 |" in summary_markdown(payload)
    assert "USMS_SESSION_NOS=sn-1 sn-2\n" in dotenv_text(values)
    assert add_mask_lines(["13800008000", "(852)91234567"]) == [
        "::add-mask::13800008000",
        "::add-mask::(852)91234567",
        "::add-mask::91234567",
    ]
    assert error_annotation("bad\nthing 100%") == "::error title=usms::bad%0Athing 100%25"
