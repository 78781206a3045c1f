"""Phone numbers: normalisation to the wire form, splitting, list/CSV parsing and collection."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from usms_cli.core.phones import (
    COUNTRY_CODES,
    Entry,
    Invalid,
    InvalidPhone,
    Recipients,
    collect,
    normalize,
    parse_block,
    parse_csv_lines,
    parse_lines,
    split_argument,
)

WIRE = re.compile(r"1[0-9]{10}|\(([0-9]{1,3})\)([0-9]{4,14})")

# --------------------------------------------------------------------------- example table

VALID = [
    # mainland, plain and with separators
    ("13800000000", "13800000000"),
    ("  13800000000  ", "13800000000"),
    ("138-0000-0000", "13800000000"),
    ("138.0000.0000", "13800000000"),
    ("138 0000 0000", "13800000000"),
    ("1-3-8-0-0-0-0-0-0-0-0", "13800000000"),
    ("13800000000\n", "13800000000"),
    ("138\u00a00000\u30000000", "13800000000"),  # no-break and ideographic spaces
    ("19912345678", "19912345678"),
    # the spec: "a plain 11-digit number starting with 1 is mainland" (even 10x/11x/12x)
    # mainland with every accepted China prefix
    ("+8613800000000", "13800000000"),
    ("+86 138 0000 0000", "13800000000"),
    ("+86-138-0000-0000", "13800000000"),
    ("+86 (138) 0000 0000", "13800000000"),  # parentheses tolerated, number unchanged
    ("86 138 0000 0000", "13800000000"),
    ("8613800000000", "13800000000"),
    ("008613800000000", "13800000000"),
    ("0086 185-0000-0000", "18500000000"),
    ("(86)13800000000", "13800000000"),
    ("(86) 138 0000 0000", "13800000000"),
    ("( 86 ) 138-0000-0000", "13800000000"),
    ("(0086)13800000000", "13800000000"),
    ("(+86)13800000000", "13800000000"),
    # other countries
    ("(852) 9123 4567", "(852)91234567"),
    ("(852)91234567", "(852)91234567"),
    ("+852 9123 4567", "(852)91234567"),
    ("00852 9123 4567", "(852)91234567"),
    ("(00852)91234567", "(852)91234567"),
    ("+1 415-555-0100", "(1)4155550100"),
    ("+1 (415) 555-0100", "(1)4155550100"),
    ("(1)4155550100", "(1)4155550100"),
    ("0044 20 7123 4567", "(44)2071234567"),
    ("+44 20 7123 4567", "(44)2071234567"),
    ("(0060)123456789", "(60)123456789"),
    ("(60)123456789", "(60)123456789"),
    ("+7 912 345-67-89", "(7)9123456789"),
    ("+81 90-1234-5678", "(81)9012345678"),
    ("+65 9123.4567", "(65)91234567"),
    ("+886 912 345 678", "(886)912345678"),
    ("+971 50 123 4567", "(971)501234567"),
    # "00" then a mainland-looking number is the +1 country code: international dialling rules
    ("0013800000000", "(1)3800000000"),
]


@pytest.mark.parametrize(("raw", "wire"), VALID, ids=[repr(raw) for raw, _ in VALID])
def test_normalize_valid(raw: str, wire: str) -> None:
    assert normalize(raw) == wire
    assert normalize(wire) == wire


INVALID = [
    ("abc", "letters"),
    ("1380000000a", "letters"),
    ("tel:13800000000", "letters"),
    ("+86 138 0000 0000 ext 12", "letters"),
    ("1380000000", "wrong length"),  # 10-digit mainland
    ("138000000000", "wrong length"),  # 12-digit mainland
    ("1", "wrong length"),
    ("+9991234567", "unknown country code +999"),
    ("(999)12345678", "unknown country code +999"),
    ("00999 1234 5678", "unknown country code +999"),
    ("+86 1234", "mainland mobile"),
    ("(86)1380000000", "mainland mobile"),
    ("+86 10 1234 5678", "mainland mobile"),  # a Beijing landline
    ("86 1380000000", "no country code"),
    ("852 9123 4567", "no country code"),
    ("02012345678", "no country code"),
    ("", "empty"),
    ("   ", "empty"),
    ("\t\n", "empty"),
    ("++8613800000000", "not a phone number"),
    ("１３８００００００００", "not a phone number"),  # full-width digits are not ASCII digits
    ("13800000000#", "not a phone number"),
    ("138,0000,0000", "not a phone number"),
    ("+", "not a phone number"),
    ("+1 415 555 010", "10 digits"),
    ("+1 415 555 01000", "10 digits"),
    ("+44 123", "wrong length"),
    ("12345678901", "start with 13 to 19"),
    ("+42 123456", "unknown country code +42"),  # not silently read as +421
    ("+4412345678901234", "wrong length"),  # 16 digits in all
    ("+212 1234567890123", "wrong length"),  # 16 digits in all
    ("(86)", "only digits"),
    ("(852)9123x4567", "letters"),
]


@pytest.mark.parametrize(("raw", "reason"), INVALID, ids=[repr(raw) for raw, _ in INVALID])
def test_normalize_invalid(raw: str, reason: str) -> None:
    with pytest.raises(InvalidPhone) as caught:
        normalize(raw)
    assert reason in str(caught.value)
    assert "\n" not in str(caught.value)
    assert "Traceback" not in str(caught.value)


@pytest.mark.parametrize(
    ("pasted", "shown"),
    [
        ("138\u200b00000000", "'138\\u200b00000000'"),  # a zero-width space from a web page
        ("\u202e13800000000", "'\\u202e13800000000'"),  # a right-to-left override
        ("138\u00ad00000000", "'138\\xad00000000'"),  # a soft hyphen
    ],
)
def test_an_invisible_character_in_a_number_is_shown_in_the_error(pasted: str, shown: str) -> None:
    """The number looks right on screen and is refused anyway: the message must make the
    character visible, or the user cannot tell what to fix (and a right-to-left override must
    not reorder the line it is printed in)."""
    recipients = collect([Entry(pasted, "list.txt", 3)])
    assert recipients.numbers == [] and recipients.invalid_count == 1
    (invalid,) = recipients.invalid
    assert invalid.describe().startswith(f"list.txt:3: {shown}: not a phone number")
    assert not any(ch in invalid.describe() for ch in "\u200b\u202e\u00ad")


def test_country_codes_form_a_prefix_code() -> None:
    """The country code of +CCC… is found by prefix; that only works if no code prefixes another."""
    for code in COUNTRY_CODES:
        assert code.isdigit() and code.isascii() and 1 <= len(code) <= 3
        for size in range(1, len(code)):
            assert code[:size] not in COUNTRY_CODES, (code, code[:size])
    assert {"1", "7", "44", "60", "86", "852", "886"} <= COUNTRY_CODES
    assert not {"0", "999", "800", "881"} & COUNTRY_CODES


# --------------------------------------------------------------------------- strategies

DIGIT = st.sampled_from("0123456789")
SEPARATOR = st.sampled_from(["", "", " ", "-", "."])
MAINLAND = st.builds(
    lambda second, rest: "1" + second + "".join(rest),
    st.sampled_from("3456789"),
    st.lists(DIGIT, min_size=9, max_size=9),
)
CHINA_PREFIX = st.sampled_from(["+86", "86", "0086", "(86)", "(0086)", ""])
OTHER_CODES = sorted(COUNTRY_CODES - {"86", "1"})
SHORT_CODES = [code for code in OTHER_CODES if len(code) <= 2]


@st.composite
def international(draw: st.DrawFn) -> tuple[str, str]:
    """A country code other than 86 and 1, and a national number of 6 to 15-len(cc) digits."""
    # Half the time a 1- or 2-digit code: the short cases are where numbers can run together.
    code = draw(st.sampled_from(SHORT_CODES) | st.sampled_from(OTHER_CODES))
    size = draw(st.integers(min_value=6, max_value=15 - len(code)))
    national = "".join(draw(st.lists(DIGIT, min_size=size, max_size=size)))
    return code, national


@st.composite
def spaced_mainland(draw: st.DrawFn) -> tuple[str, str]:
    """(typed form, wire form) of a mainland mobile with a China prefix and separators."""
    number = draw(MAINLAND)
    # No separator between the first two digits: "+861 3800000000" reads as country code 861.
    separators = [""] + draw(st.lists(SEPARATOR, min_size=9, max_size=9))
    pairs = zip(separators, number[1:], strict=True)
    body = number[0] + "".join(sep + digit for sep, digit in pairs)
    typed = draw(CHINA_PREFIX) + draw(SEPARATOR) + body
    padding = draw(st.sampled_from(["", " ", "\t"]))
    return padding + typed + padding, number


@st.composite
def typed_international(draw: st.DrawFn) -> tuple[str, str]:
    code, national = draw(international())
    form = draw(
        st.sampled_from(
            [
                "+{c} {n}",
                "+{c}{n}",
                "00{c} {n}",
                "({c}){n}",
                "({c}) {n}",
                "(00{c}){n}",
                "(+{c}){n}",
                "+{c}-{n}",
            ]
        )
    )
    return form.format(c=code, n=national), f"({code}){national}"


TYPED = spaced_mainland() | typed_international()
WIRE_NUMBERS = TYPED.map(lambda pair: pair[1])
PHONEISH = st.text(
    alphabet=st.sampled_from(list("0123456789+()-. #,;x") + ["\u3000", "１", "\n"]), max_size=25
)


# --------------------------------------------------------------------------- properties


@settings(max_examples=200, deadline=None)
@given(pair=spaced_mainland())
def test_mainland_with_any_prefix_and_separators(pair: tuple[str, str]) -> None:
    typed, number = pair
    assert normalize(typed) == number


@settings(max_examples=200, deadline=None)
@given(pair=international())
def test_international_forms_all_normalise_to_bracketed(pair: tuple[str, str]) -> None:
    code, national = pair
    expected = f"({code}){national}"
    assert normalize(f"+{code} {national}") == expected
    assert normalize(f"00{code} {national}") == expected
    assert normalize(f"({code}){national}") == expected


@settings(max_examples=150, deadline=None)
@given(pair=TYPED)
def test_normalize_is_idempotent(pair: tuple[str, str]) -> None:
    typed, wire = pair
    once = normalize(typed)
    assert once == wire
    assert normalize(once) == once


@settings(max_examples=300, deadline=None)
@given(text=st.text() | PHONEISH)
def test_normalize_returns_wire_form_or_raises_invalid_phone(text: str) -> None:
    try:
        wire = normalize(text)
    except InvalidPhone as exc:
        assert str(exc)
        return
    match = WIRE.fullmatch(wire)
    assert match, wire
    if match.group(1) is not None:
        assert match.group(1) in COUNTRY_CODES
        assert len(match.group(1)) + len(match.group(2)) <= 15
    assert normalize(wire) == wire


@settings(max_examples=150, deadline=None)
@given(numbers=st.lists(WIRE_NUMBERS, min_size=1, max_size=6), joiner=st.sampled_from([", ", " "]))
def test_split_argument_round_trips_joined_numbers(numbers: list[str], joiner: str) -> None:
    entries = list(split_argument(joiner.join(numbers), "arg"))
    assert [normalize(entry.text) for entry in entries] == numbers
    assert all(entry.source == "arg" and entry.line is None for entry in entries)


@settings(max_examples=50, deadline=None)
@given(
    codes=st.lists(st.sampled_from(SHORT_CODES), min_size=2, max_size=2),
    nationals=st.lists(
        st.text(alphabet="0123456789", min_size=4, max_size=6), min_size=2, max_size=2
    ),
)
def test_split_argument_keeps_two_short_numbers_apart(
    codes: list[str], nationals: list[str]
) -> None:
    """``(44)1234 (44)5678`` is two numbers; read as one it would be a third, wrong, number."""
    numbers = [f"({code}){national}" for code, national in zip(codes, nationals, strict=True)]
    entries = list(split_argument(" ".join(numbers), "arg"))
    assert [normalize(entry.text) for entry in entries] == numbers


@st.composite
def entry_texts(draw: st.DrawFn) -> list[str]:
    pool = draw(st.lists(TYPED, min_size=1, max_size=4))
    bad = st.sampled_from(["abc", "123", "", "+999 1234 5678", "1380000000"])
    items = st.one_of(st.sampled_from([typed for typed, _ in pool]), bad)
    return draw(st.lists(items, max_size=30))


@settings(max_examples=150, deadline=None)
@given(texts=entry_texts(), keep=st.integers(min_value=0, max_value=5))
def test_collect_counts_add_up_and_keep_first_order(texts: list[str], keep: int) -> None:
    entries = [Entry(text, "list.txt", line) for line, text in enumerate(texts, start=1)]
    result = collect(entries, keep_invalid=keep)

    expected: list[str] = []
    invalid_lines: list[int] = []
    for line, text in enumerate(texts, start=1):
        try:
            wire = normalize(text)
        except InvalidPhone:
            invalid_lines.append(line)
            continue
        if wire not in expected:
            expected.append(wire)

    assert result.numbers == expected
    assert len(result.numbers) + result.duplicates + result.invalid_count == len(entries)
    assert result.invalid_count == len(invalid_lines)
    assert len(result.invalid) == min(keep, len(invalid_lines))
    assert [bad.entry.line for bad in result.invalid] == invalid_lines[:keep]


# --------------------------------------------------------------------------- split_argument


def test_split_argument_keeps_a_spaced_number_whole() -> None:
    assert [e.text for e in split_argument("+86 138 0000 0000", "arg")] == ["+86 138 0000 0000"]
    assert [e.text for e in split_argument("+1 415 555 0100", "arg")] == ["+1 415 555 0100"]


def test_split_argument_splits_on_commas_semicolons_spaces_and_newlines() -> None:
    text = "13800000000 13900000000, 13700000000;+1 415 555 0100\r\n(852)91234567，13600000000"
    assert [e.text for e in split_argument(text, "arg", 3)] == [
        "13800000000",
        "13900000000",
        "13700000000",
        "+1 415 555 0100",
        "(852)91234567",
        "13600000000",
    ]
    assert {e.line for e in split_argument(text, "arg", 3)} == {3}


def test_split_argument_keeps_an_invalid_token_for_reporting() -> None:
    assert [e.text for e in split_argument("13800000000 abc", "arg")] == ["13800000000", "abc"]
    assert [e.text for e in split_argument("hello world", "arg")] == ["hello world"]


def test_split_argument_does_not_merge_two_complete_numbers() -> None:
    """Two bracketed numbers separated by a space are two numbers, not one longer one."""
    entries = list(split_argument("(683)4002 (683)4003", "arg"))  # Niue has 4-digit numbers
    assert [normalize(e.text) for e in entries] == ["(683)4002", "(683)4003"]


# --------------------------------------------------------------------------- collect / Invalid


def test_collect_drops_duplicates_after_normalisation() -> None:
    texts = [
        "13800000000",
        "+86 138 0000 0000",
        "(86)13800000000",
        "13900000000",
        "0086-138-0000-0000",
    ]
    result = collect(Entry(text, "arg") for text in texts)
    assert result == Recipients(numbers=["13800000000", "13900000000"], duplicates=3)


def test_collect_reports_invalid_with_source_and_line() -> None:
    entries = [
        Entry("13800000000", "list.txt", 1),
        Entry("abc", "list.txt", 2),
        Entry("+999 1234", "list.txt", 5),
        Entry("12", "arg"),
    ]
    result = collect(entries)
    assert result.numbers == ["13800000000"]
    assert result.invalid_count == 3
    assert [bad.describe() for bad in result.invalid] == [
        "list.txt:2: 'abc': contains letters",
        "list.txt:5: '+999 1234': unknown country code +999",
        "arg: '12': wrong length: a mainland mobile has 11 digits, this has 2",
    ]


def test_collect_keeps_at_most_twenty_details_by_default() -> None:
    result = collect(Entry(f"bad{i}", "f", i) for i in range(1, 51))
    assert result.invalid_count == 50
    assert len(result.invalid) == 20
    assert result.invalid[-1].entry.line == 20
    assert result.numbers == [] and result.duplicates == 0


def test_invalid_describe() -> None:
    assert Invalid(Entry("x", "a.csv", 7), "contains letters").describe() == (
        "a.csv:7: 'x': contains letters"
    )
    assert Entry("x", "<stdin>").where() == "<stdin>"


# --------------------------------------------------------------------------- parse_lines


def shown(items: list[object]) -> list[tuple[str, int | None]]:
    """Wire numbers as (number, None); invalid entries as (typed text, line)."""
    out: list[tuple[str, int | None]] = []
    for item in items:
        if isinstance(item, list):
            out.extend((number, None) for number in item)
        elif isinstance(item, str):
            out.append((item, None))
        else:
            assert isinstance(item, Invalid)
            out.append((item.entry.text, item.entry.line))
    return out


def test_parse_lines_skips_blanks_and_comments_and_keeps_file_line_numbers() -> None:
    lines = [
        "\ufeff13800000000\n",
        "\n",
        "# a comment\n",
        "   # an indented comment\n",
        "13900000000  # the boss\n",
        "   \n",
        "+86 137 0000 0000\n",
        "13600000000, 13500000000\n",
        "1380000 # too short\n",
    ]
    items = list(parse_lines(lines, "list.txt"))
    assert shown(items) == [
        ("13800000000", None),
        ("13900000000", None),
        ("13700000000", None),
        ("13600000000", None),
        ("13500000000", None),
        ("1380000", 9),
    ]
    assert isinstance(items[-1], Invalid) and items[-1].entry.source == "list.txt"


def test_parse_lines_bom_on_any_line_is_ignored() -> None:
    items = list(parse_lines(["\ufeff# header comment\n", "\ufeff13800000000\n", "\ufeffx\n"], "f"))
    assert shown(items) == [("13800000000", None), ("x", 3)]


def test_parse_lines_crlf() -> None:
    items = list(parse_lines(["13800000000\r\n", "\r\n", "# x\r\n", "(852) 9123 4567\r\n"], "f"))
    assert collect(items).numbers == ["13800000000", "(852)91234567"]


def test_parse_lines_from_splitlines_of_a_crlf_file() -> None:
    text = "\ufeff13800000000\r\n\r\n13900000000 # x\r\nbad\r\n"
    items = list(parse_lines(text.splitlines(keepends=True), "f"))
    assert shown(items) == [("13800000000", None), ("13900000000", None), ("bad", 4)]


@settings(max_examples=200, deadline=None)
@given(lines=st.lists(TYPED.map(lambda pair: pair[0]) | PHONEISH, max_size=30))
def test_parse_block_is_parse_lines_fast(lines: list[str]) -> None:
    """The block parser (used for files) gives exactly what the line parser gives."""
    text = "".join(line.replace("\n", " ") + "\n" for line in lines)
    slow = shown(list(parse_lines(text.splitlines(keepends=True), "f")))
    fast = shown(list(parse_block(text, "f")))
    assert fast == slow


# --------------------------------------------------------------------------- parse_csv_lines


def csv_entries(text: str, column: str | None = None) -> list[tuple[str, int | None]]:
    lines = text.splitlines(keepends=True)
    return shown(list(parse_csv_lines(lines, "people.csv", column)))


def test_csv_first_column_with_header_skipped() -> None:
    assert csv_entries("phone,name\n13800000000,Ann\n13900000000,Bob\n") == [
        ("13800000000", None),
        ("13900000000", None),
    ]


def test_csv_without_header_keeps_first_row() -> None:
    assert csv_entries("13800000000,Ann\n13900000000,Bob\n") == [
        ("13800000000", None),
        ("13900000000", None),
    ]


def test_csv_bom_and_crlf() -> None:
    assert csv_entries("\ufeffphone,name\r\n13800000000,Ann\r\n") == [("13800000000", None)]
    assert csv_entries("\ufeff13800000000,Ann\r\n") == [("13800000000", None)]


def test_csv_column_by_header_name_case_insensitive() -> None:
    text = "Name,MOBILE,Note\nAnn,13800000000,x\nBob,+86 139 0000 0000,y\n"
    assert csv_entries(text, column="mobile") == [
        ("13800000000", None),
        ("13900000000", None),
    ]
    assert csv_entries(text, column=" Mobile ") == csv_entries(text, column="mobile")


def test_csv_column_by_one_based_index() -> None:
    assert csv_entries("name,phone\nAnn,13800000000\n", column="2") == [("13800000000", None)]
    assert csv_entries("Ann,13800000000\nBob,13900000000\n", column="2") == [
        ("13800000000", None),
        ("13900000000", None),
    ]


def test_csv_missing_header_name_names_the_source() -> None:
    with pytest.raises(InvalidPhone, match=r"people\.csv.*'mobile'"):
        csv_entries("name,phone\nAnn,13800000000\n", column="mobile")
    with pytest.raises(InvalidPhone, match=r"people\.csv.*'mobile'"):
        csv_entries("", column="mobile")


def test_csv_quoted_fields_with_commas() -> None:
    text = 'name,phone\n"Doe, John",13800000000\n"Roe, ""Jane""","+86 139 0000 0000"\n'
    assert csv_entries(text, column="phone") == [
        ("13800000000", None),
        ("13900000000", None),
    ]
    assert csv_entries('"+1 (415) 555-0100","Doe, John"\n') == [("(1)4155550100", None)]


def test_csv_empty_cells_and_blank_rows_skipped() -> None:
    text = "phone,name\n13800000000,Ann\n,Bob\n\n   ,Carl\n13900000000,Dan\nshort\n"
    assert csv_entries(text) == [("13800000000", None), ("13900000000", None), ("short", 7)]
    assert csv_entries("name,phone\nAnn,13800000000\nBob\nCarl,\n", column="2") == [
        ("13800000000", None)
    ]


def test_csv_bad_column_index_is_invalid_phone() -> None:
    with pytest.raises(InvalidPhone, match="starts at 1"):
        csv_entries("13800000000\n", column="0")


def test_csv_odd_digit_column_is_invalid_phone_not_a_crash() -> None:
    """``"²".isdigit()`` is True but ``int("²")`` fails: still a user error, not a traceback."""
    with pytest.raises(InvalidPhone):
        csv_entries("phone\n13800000000\n", column="²")
