"""Content rules (pure functions): template variables, segments, the 500-character limit, the
marketing window."""

from __future__ import annotations

import datetime

import pytest

from usms_cli.core.content import (
    CHINA,
    outside_marketing_hours,
    preview,
    render,
    segments,
    variables,
)
from usms_cli.core.errors import InputError


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
