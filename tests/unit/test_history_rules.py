"""The send history's pure rules: params hash, repeat guard, UCloud's per-number limits,
limit overrides and age strings."""

from __future__ import annotations

from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from usms_cli.core.errors import ConfigError, ExitCode, InputError
from usms_cli.core.history_rules import (
    DEFAULT_LIMITS,
    FrequencyProblem,
    Limits,
    PastSend,
    Planned,
    Repeat,
    find_repeats,
    frequency_problems,
    limits_from,
    params_hash,
    parse_age,
)

SALT = b"s" * 32
NOW = 1_800_000_000.0
PHONE = "13800000000"


def h(*params: str, template: str = "UTA1", sig: str = "Acme", salt: bytes = SALT) -> str:
    return params_hash(template, sig, params, salt=salt)


def sent(ago: float, *, phone: str = PHONE, status: str = "accepted", **kw: str) -> PastSend:
    return PastSend(
        phone, NOW - ago, kw.get("template", "UTA1"), kw.get("hash", h("123456")), status
    )


def code(hash_: str | None = None) -> Planned:
    return Planned("UTA1", hash_ or h("123456"), verification=True)


def notice(hash_: str | None = None) -> Planned:
    return Planned("UTA1", hash_ or h("123456"), verification=False)


# -- params hash -----------------------------------------------------------------------------


def test_params_hash_is_stable_and_never_shows_the_code() -> None:
    value = h("123456")
    assert value == h("123456")
    assert len(value) == 32 and int(value, 16) >= 0
    assert "123456" not in value


def test_params_hash_tells_contents_apart() -> None:
    base = h("123456")
    assert h("123457") != base
    assert h("123456", template="UTA2") != base
    assert h("123456", sig="Other") != base
    assert h("12", "3456") != h("123", "456")  # params boundaries matter
    assert h("123456", salt=b"t" * 32) != base  # another history: incomparable


# -- repeat guard ------------------------------------------------------------------------------


def test_repeat_inside_60_seconds_not_at_60() -> None:
    assert find_repeats([sent(59.9)], notice(), NOW) == [Repeat(PHONE, pytest.approx(59.9))]
    assert find_repeats([sent(60.0)], notice(), NOW) == []


def test_repeat_needs_the_same_content_and_an_accepted_send() -> None:
    assert find_repeats([sent(5, hash=h("654321"))], notice(), NOW) == []
    assert find_repeats([sent(5, template="UTA2")], notice(), NOW) == []
    for status in ("unknown", "rejected", "not_sent"):
        assert find_repeats([sent(5, status=status)], notice(), NOW) == []


def test_repeat_reports_each_number_once_with_the_latest_send() -> None:
    rows = [sent(40), sent(10), sent(20, phone="13900000000")]
    assert find_repeats(rows, notice(), NOW) == [
        Repeat(PHONE, pytest.approx(10)),
        Repeat("13900000000", pytest.approx(20)),
    ]


def test_repeat_in_a_csv_batch_compares_each_numbers_own_params() -> None:
    other = "13900000000"
    rows = [sent(5, hash=h("111")), sent(5, phone=other, hash=h("222"))]
    planned = Planned("UTA1", "", per_number={PHONE: h("111"), other: h("999")})
    assert find_repeats(rows, planned, NOW) == [Repeat(PHONE, pytest.approx(5))]


def test_repeat_window_is_configurable_and_can_be_off() -> None:
    assert find_repeats([sent(100)], notice(), NOW, Limits(repeat_window_s=120))
    assert find_repeats([sent(1)], notice(), NOW, Limits(repeat_window_s=0)) == []


# -- frequency limits --------------------------------------------------------------------------


def names(problems: list[FrequencyProblem]) -> list[str]:
    return [p.limit for p in problems]


def test_verification_code_one_per_30_seconds_same_template_any_params() -> None:
    problems = frequency_problems([sent(29.9, hash=h("999999"))], code(), NOW)
    assert problems == [FrequencyProblem(PHONE, "code_gap_s", 1, 30, 1)]
    assert frequency_problems([sent(30.0)], code(), NOW) == []
    assert frequency_problems([sent(5, template="UTA2")], code(), NOW) == []


def test_verification_code_at_most_3_per_hour() -> None:
    two = [sent(100), sent(2000)]
    assert frequency_problems(two, code(), NOW) == []
    three = [*two, sent(3599)]
    assert names(frequency_problems(three, code(), NOW)) == ["code_per_hour"]
    assert frequency_problems(three, code(), NOW)[0].count == 3
    old = [*two, sent(3600)]  # an hour ago exactly: outside the hour
    assert frequency_problems(old, code(), NOW) == []


def test_verification_code_at_most_10_per_day() -> None:
    spaced = [sent(3600 + i * 7000) for i in range(9)]  # 9 in 24 h, at most 1 an hour
    assert max(s.time for s in spaced) > NOW - 86400
    assert frequency_problems(spaced, code(), NOW) == []
    tenth = [*spaced, sent(86399)]
    problems = frequency_problems(tenth, code(), NOW)
    assert problems == [FrequencyProblem(PHONE, "code_per_day", 10, 86400, 10)]
    assert "10 verification code(s) with this template in the last 24 hours (limit 10)" == (
        problems[0].describe()
    )


def test_other_messages_same_content_once_a_minute_and_10_a_day() -> None:
    assert names(frequency_problems([sent(59)], notice(), NOW)) == ["other_gap_s"]
    assert frequency_problems([sent(60)], notice(), NOW) == []
    assert frequency_problems([sent(5, hash=h("other"))], notice(), NOW) == []
    nine = [sent(120 + i * 600) for i in range(9)]
    assert frequency_problems(nine, notice(), NOW) == []
    problems = frequency_problems([*nine, sent(86000)], notice(), NOW)
    assert problems == [FrequencyProblem(PHONE, "other_per_day", 10, 86400, 10)]


def test_unknown_outcomes_count_refusals_do_not() -> None:
    assert names(frequency_problems([sent(10, status="unknown")], code(), NOW)) == ["code_gap_s"]
    for status in ("rejected", "not_sent"):
        assert frequency_problems([sent(10, status=status)], code(), NOW) == []


def test_several_limits_at_once_and_only_the_numbers_concerned() -> None:
    rows = [sent(10), sent(1000), sent(2000), sent(100, phone="13900000000")]
    problems = frequency_problems(rows, code(), NOW)
    assert [(p.phone, p.limit, p.count) for p in problems] == [
        (PHONE, "code_gap_s", 1),
        (PHONE, "code_per_hour", 3),
    ]


def test_overridden_limits_apply_and_zero_turns_a_check_off() -> None:
    raised = limits_from({"code_per_hour": 5, "code-gap-s": "0"})
    rows = [sent(10), sent(1000), sent(2000)]
    assert frequency_problems(rows, code(), NOW, raised) == []
    rows += [sent(2500), sent(3000)]
    assert names(frequency_problems(rows, code(), NOW, raised)) == ["code_per_hour"]


# -- the limits table --------------------------------------------------------------------------


def test_default_limits_are_ucloud_defaults() -> None:
    assert DEFAULT_LIMITS.rules(True) == [
        ("code_gap_s", 1, 30),
        ("code_per_hour", 3, 3600),
        ("code_per_day", 10, 86400),
    ]
    assert DEFAULT_LIMITS.rules(False) == [("other_gap_s", 1, 60), ("other_per_day", 10, 86400)]
    assert DEFAULT_LIMITS.lookback_s == 86400


def test_limits_from_takes_numbers_digit_strings_and_ages() -> None:
    limits = limits_from({"code_per_day": "20", "other_gap_s": "2m", "repeat_window_s": 90})
    assert (limits.code_per_day, limits.other_gap_s, limits.repeat_window_s) == (20, 120, 90)
    assert limits_from({}) == DEFAULT_LIMITS


@pytest.mark.parametrize(
    ("mapping", "words"),
    [
        ({"per_hour": 3}, "unknown history limit 'per_hour'"),
        ({"code_per_day": True}, "code_per_day"),
        ({"code_per_day": -1}, "code_per_day"),
        ({"code_per_day": "ten"}, "code_per_day"),
        ({"code_per_day": "2m"}, "code_per_day"),  # an age is for windows only
        ({"code_gap_s": "soon"}, "code_gap_s"),
        ({"code_per_day": 1.5}, "code_per_day"),
    ],
)
def test_bad_limit_overrides_are_config_errors(mapping: dict[str, object], words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        limits_from(mapping)
    assert words in caught.value.message
    assert caught.value.exit_code == ExitCode.USAGE


# -- ages ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2d", timedelta(days=2)),
        ("90d", timedelta(days=90)),
        ("12h", timedelta(hours=12)),
        ("30m", timedelta(minutes=30)),
        ("45s", timedelta(seconds=45)),
        ("1w", timedelta(days=7)),
        (" 7D ", timedelta(days=7)),
    ],
)
def test_parse_age(text: str, expected: timedelta) -> None:
    assert parse_age(text) == expected


@pytest.mark.parametrize("text", ["", "d", "2", "2 days", "-2d", "0d", "1.5d", "2y", "99999999d"])
def test_parse_age_refuses_with_a_message(text: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_age(text)
    assert repr(text) in caught.value.message


@given(st.integers(min_value=1, max_value=36500), st.sampled_from("smhdw"))
def test_parse_age_round_trips(number: int, unit: str) -> None:
    seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[unit] * number
    if seconds > 36500 * 86400:
        with pytest.raises(InputError):
            parse_age(f"{number}{unit}")
    else:
        assert parse_age(f"{number}{unit}").total_seconds() == seconds


@given(st.text(max_size=30))
def test_parse_age_never_crashes(text: str) -> None:
    try:
        age = parse_age(text)
    except InputError as exc:
        assert exc.exit_code == ExitCode.USAGE
    else:
        assert timedelta(0) < age <= timedelta(days=36500)


@pytest.mark.parametrize("text", ["2\u017f", "\u00b2d", "2\u212a"])  # long s, superscript 2, Kelvin
def test_parse_age_takes_only_ascii_digits_and_units(text: str) -> None:
    with pytest.raises(InputError):
        parse_age(text)


def test_limit_counts_take_only_ascii_digits() -> None:
    with pytest.raises(ConfigError):
        limits_from({"code_per_day": "\u00b2"})
