"""Phone-number parsing and normalisation: pure functions, no I/O.

Wire format (what SendUSMSMessage accepts):
- a mainland China mobile is sent as its plain 11 digits (``13800000000``);
- any other number is sent as ``(CC)national`` (``(1)4155550100``, ``(852)91234567``).

Input is forgiving: spaces, dashes, dots and parentheses are tolerated, and ``+CC``, ``00CC``,
``(CC)``, ``(00CC)`` and (for China only) a bare ``86`` prefix are understood.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from usms_cli.core.text import LazyPattern, shorten
from usms_cli.i18n import N_, tr

__all__ = [
    "COUNTRY_CODES",
    "Entry",
    "Invalid",
    "InvalidPhone",
    "MAX_LINE",
    "Recipients",
    "Parsed",
    "check",
    "collect",
    "normalize",
    "parse_argument",
    "parse_csv_lines",
    "parse_lines",
    "split_argument",
]

# ITU-T E.164 geographic country calling codes (the same set as libphonenumber's metadata,
# without the non-geographic 8xx/9xx service codes). They form a prefix code, so the country
# code of ``+CCC...`` is the one prefix of it that is in this set.
COUNTRY_CODES: frozenset[str] = frozenset(
    """
    1 7 20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49 51 52 53 54 55 56 57 58 60 61 62 63
    64 65 66 81 82 84 86 90 91 92 93 94 95 98 211 212 213 216 218 220 221 222 223 224 225 226 227
    228 229 230 231 232 233 234 235 236 237 238 239 240 241 242 243 244 245 246 247 248 249 250
    251 252 253 254 255 256 257 258 260 261 262 263 264 265 266 267 268 269 290 291 297 298 299
    350 351 352 353 354 355 356 357 358 359 370 371 372 373 374 375 376 377 378 380 381 382 383
    385 386 387 389 420 421 423 500 501 502 503 504 505 506 507 508 509 590 591 592 593 594 595
    596 597 598 599 670 672 673 674 675 676 677 678 679 680 681 682 683 685 686 687 688 689 690
    691 692 850 852 853 855 856 880 886 960 961 962 963 964 965 966 967 968 970 971 972 973 974
    975 976 977 992 993 994 995 996 998
    """.split()
)

MAX_LINE = 4096
"""Characters per line of a numbers file: a line holds one number, or a few; a longer one is
not a list of numbers (and is refused before it costs time or memory)."""

_MAINLAND = LazyPattern(r"1[3-9][0-9]{9}")
_DIGITS = LazyPattern(r"[0-9]+")
# Separators people type inside a number: spaces (incl. no-break and ideographic), dashes, dots.
_SEPARATORS = str.maketrans("", "", " \t\u00a0\u3000-\u2010\u2011\u2012\u2013.")
# Possessive quantifiers (*+) here and below: what follows them can never start with what
# they take, so giving characters back only costs time (quadratic on a line of spaces).
_LEADING_CODE = LazyPattern(r"\(\s*+(\+|00)?([0-9]{0,4})\s*+\)(.*)", re.DOTALL)
# "+44 20…", "+1 (415)…", "0044-20…": digits up to the first separator are the country code.
_EXPLICIT_CODE = LazyPattern(r"([0-9]{1,3})[ \t\u00a0\u3000.(\-]")
# A national trunk "(0)" written right after the country code: "+44 (0) 20 7123 4567".
_TRUNK_ZERO = LazyPattern(r"^[ \t\u00a0\u3000.\-]*\(0\)")
_AREA = LazyPattern(r"\(([0-9]{1,6})\)")
_LETTER = LazyPattern(r"[^\W\d_]")
_PIECE_SPLIT = LazyPattern(r"[,;\uff0c\uff1b\r\n]+")
# Fast path for the common spellings of one mainland mobile on a line; the match is exactly what
# normalize() returns for it (a property test holds the two together).
_MAINLAND_MOBILE = (
    r"[ \t]*+(?:\+86|0086|86|\([ \t]*(?:\+86|0086|86)[ \t]*\))?[ \t.\-]*+"
    r"(1[3-9][0-9])[ \t.\-]?([0-9]{4})[ \t.\-]?([0-9]{4})"
)
_FAST_MAINLAND = LazyPattern(_MAINLAND_MOBILE + r"[ \t]*\r?\n?")


_NOT_A_NUMBER = N_("not a phone number (only digits, spaces, dashes, dots, + and ( ) allowed)")


class InvalidPhone(ValueError):
    """A number that cannot be sent; ``str()`` is the reason in plain words."""


def _international(code: str, national: str) -> str:
    if code == "86":
        if _MAINLAND.fullmatch(national):
            return national
        raise InvalidPhone(tr("a +86 number must be a mainland mobile: 11 digits starting 13-19"))
    if code not in COUNTRY_CODES:
        raise InvalidPhone(tr("unknown country code +{code}", code=code))
    if code == "1" and len(national) != 10:
        raise InvalidPhone(tr("a +1 number needs 10 digits after the country code"))
    if not 4 <= len(national) <= 14 or len(code) + len(national) > 15:
        raise InvalidPhone(
            tr(
                "wrong length for a +{code} number ({digits} digits after +{code})",
                code=code,
                digits=len(national),
            )
        )
    return f"({code}){national}"


def _split_code(digits: str) -> tuple[str, str]:
    for size in (1, 2, 3):
        if digits[:size] in COUNTRY_CODES:
            return digits[:size], digits[size:]
    raise InvalidPhone(tr("unknown country code +{code}", code=digits[:3]))


def _national(rest: str) -> str:
    """Digits after the country code. One leading bracketed group (an area code, as in
    ``+1 (415) 555-0100``) is allowed; a ``(`` later on is not, so two bracketed numbers on
    one line are never merged into one."""
    national = _TRUNK_ZERO.sub("", rest, count=1).translate(_SEPARATORS)
    area = _AREA.match(national)
    if area:
        national = area.group(1) + national[area.end() :]
    if not _DIGITS.fullmatch(national):
        raise InvalidPhone(tr("only digits, spaces, dashes and dots may follow the country code"))
    return national


def normalize(raw: str) -> str:
    """Return the wire form of one phone number, or raise :class:`InvalidPhone`."""
    text = raw.strip()
    if not text:
        raise InvalidPhone(tr("empty"))
    if _LETTER.search(text):
        raise InvalidPhone(tr("contains letters"))
    bracketed = _LEADING_CODE.fullmatch(text)
    if bracketed:
        prefix, code, rest = bracketed.groups()
        if prefix is None and code.startswith("00"):
            code = code[2:]
        if not code:
            raise InvalidPhone(tr("no country code inside the ( )"))
        return _international(code, _national(rest))
    if text.startswith(("+", "00")):
        body = text[1:] if text.startswith("+") else text[2:]
        explicit = _EXPLICIT_CODE.match(body)
        if explicit:
            return _international(explicit.group(1), _national(body[explicit.end(1) :]))
        digits = body.translate(_SEPARATORS).replace("(", "").replace(")", "")
        if not _DIGITS.fullmatch(digits):
            raise InvalidPhone(tr(_NOT_A_NUMBER))
        return _international(*_split_code(digits))
    digits = text.translate(_SEPARATORS).replace("(", "").replace(")", "")
    if not _DIGITS.fullmatch(digits):
        raise InvalidPhone(tr(_NOT_A_NUMBER))
    if _MAINLAND.fullmatch(digits):
        return digits
    if len(digits) == 13 and digits.startswith("86") and _MAINLAND.fullmatch(digits[2:]):
        return digits[2:]
    if digits.startswith("1"):
        if len(digits) != 11:
            raise InvalidPhone(
                tr(
                    "wrong length: a mainland mobile has 11 digits, this has {digits}",
                    digits=len(digits),
                )
            )
        raise InvalidPhone(tr("not a mainland mobile: those start with 13 to 19"))
    raise InvalidPhone(
        tr(
            "no country code: mainland mobiles have 11 digits starting with 1; "
            "write other numbers as +CC… or (CC)…"
        )
    )


# The same over a block of lines (re.MULTILINE): one tuple per line, either the three digit
# groups of a fast-path number, or (in the last group) the whole line for the careful path,
# which also takes every line longer than MAX_LINE (to refuse it).
_BLOCK_LINES = LazyPattern(
    rf"^(?:(?=.{{0,{MAX_LINE}}}$)" + _MAINLAND_MOBILE + r"[ \t\r]*|(.*))$", re.MULTILINE
)


def is_international(number: str) -> bool:
    """For a wire number: ``(CC)…`` is outside mainland China; mainland ones are bare."""
    return number.startswith("(")


@dataclass(frozen=True, slots=True)
class Entry:
    """One recipient as typed, with where it came from (for error messages)."""

    text: str
    source: str
    line: int | None = None

    def where(self) -> str:
        return f"{self.source}:{self.line}" if self.line is not None else self.source


@dataclass(frozen=True, slots=True)
class Invalid:
    entry: Entry
    reason: str

    def describe(self, mask: Callable[[str], str] | None = None) -> str:
        """``where: 'text': reason``; ``mask`` hides personal data in the quoted text."""
        text = shorten(self.entry.text)
        return f"{self.entry.where()}: {(mask or str)(text)!r}: {self.reason}"


def split_argument(text: str, source: str, line: int | None = None) -> Iterator[Entry]:
    """Split one argument or file line into entries.

    Commas, semicolons and newlines always separate numbers. Within a piece, spaces are part of
    the number when the whole piece is one valid number (``+86 138 0000 0000``); otherwise they
    separate numbers (``13800000000 13900000000``).
    """
    for piece in _PIECE_SPLIT.split(text):
        piece = piece.strip()
        if not piece:
            continue
        tokens = piece.split()
        if len(tokens) > 1:
            try:
                normalize(piece)
            except InvalidPhone:
                if any(_valid(token) for token in tokens):
                    for token in tokens:
                        yield Entry(token, source, line)
                    continue
        yield Entry(piece, source, line)


def _valid(text: str) -> bool:
    try:
        normalize(text)
    except InvalidPhone:
        return False
    return True


Parsed = str | Invalid
"""What the parsers yield: a wire number, or an :class:`Invalid` saying why an entry is not one."""


def check(entry: Entry) -> Parsed:
    """Normalise one entry into a wire number, or an :class:`Invalid` with the reason."""
    try:
        return normalize(entry.text)
    except InvalidPhone as exc:
        return Invalid(entry, str(exc))


def parse_argument(text: str, source: str) -> Iterator[Parsed]:
    """Numbers of one command-line argument (see :func:`split_argument`)."""
    for entry in split_argument(text, source):
        yield check(entry)


def parse_lines(lines: Iterable[str], source: str) -> Iterator[Parsed]:
    """A plain list: one number per line; blank lines, ``#`` comments and BOMs ignored."""
    fast = _FAST_MAINLAND.fullmatch
    for number, line in enumerate(lines, start=1):
        match = fast(line) if len(line) <= MAX_LINE else None
        if match:
            yield match.group(1) + match.group(2) + match.group(3)
            continue
        yield from _parse_line(line, source, number)


def _parse_line(line: str, source: str, number: int) -> Iterator[Parsed]:
    if len(line) > MAX_LINE and len(line.rstrip("\r\n")) > MAX_LINE:
        raise InvalidPhone(
            tr(
                "{source}: line {line:,} is longer than {limit:,} characters; not a list of "
                "recipients; nothing was sent",
                source=source,
                line=number,
                limit=MAX_LINE,
            )
        )
    line = line.lstrip("\ufeff")
    if "#" in line:
        line = line.split("#", 1)[0]
    if line.strip():
        for entry in split_argument(line, source, number):
            yield check(entry)


def parse_block(text: str, source: str, first_line: int = 1) -> Iterator[Parsed | list[str]]:
    """Like :func:`parse_lines` over ``text`` (whole lines, ``\\n``-separated), but fast.

    Runs of lines that are plain mainland numbers come back as one ``list`` of wire numbers
    (the regex engine does the per-line work); every other line goes through the careful
    path. Order is kept.
    """
    rows = _BLOCK_LINES.findall(text)
    if text.endswith("\n"):
        rows.pop()  # the empty match after the final newline
    numbers = [a + b + c for a, b, c, _ in rows]
    start = 0
    while True:
        try:
            other = numbers.index("", start)
        except ValueError:
            break
        if other > start:
            yield numbers[start:other]
        yield from _parse_line(rows[other][3], source, first_line + other)
        start = other + 1
    if start < len(numbers):
        yield numbers[start:] if start else numbers


def parse_csv_lines(
    lines: Iterable[str], source: str, column: str | None = None
) -> Iterator[Parsed]:
    """One CSV column: the first, or ``column`` (a header name or a 1-based index).

    A header row is skipped: always when ``column`` is a name, otherwise when the first row's
    cell holds no digit at all (``phone``, ``手机号``).
    """
    reader = csv.reader(_strip_bom(lines))
    index = 0
    by_name = column is not None and not _DIGITS.fullmatch(column.strip())
    if column is not None and not by_name:
        index = int(column) - 1
        if index < 0:
            raise InvalidPhone(tr("--column index starts at 1"))
    header_checked = False
    fast = _FAST_MAINLAND.fullmatch
    for row in reader:
        number = reader.line_num
        if not row or not any(cell.strip() for cell in row) or row[0].lstrip().startswith("#"):
            continue
        if by_name:
            assert column is not None
            names = [cell.strip().lower() for cell in row]
            wanted = column.strip().lower()
            if wanted not in names:
                raise InvalidPhone(
                    tr(
                        "{source}:{line}: no column named {column!r} in the header row",
                        source=source,
                        line=number,
                        column=column,
                    )
                )
            index = names.index(wanted)
            by_name = False
            header_checked = True
            continue
        cell = row[index].strip() if index < len(row) else ""
        if not header_checked:
            header_checked = True
            if not any(ch in "0123456789" for ch in cell):
                continue  # a header row such as "phone,name"
        if not cell:
            continue
        match = fast(cell)
        if match:
            yield match.group(1) + match.group(2) + match.group(3)
        else:
            yield check(Entry(cell, source, number))
    if by_name:
        raise InvalidPhone(
            tr(
                "{source}: empty file, no header row with a column named {column!r}",
                source=source,
                column=column,
            )
        )


def _strip_bom(lines: Iterable[str]) -> Iterator[str]:
    for line in lines:
        yield line.lstrip("\ufeff")


@dataclass(slots=True)
class Recipients:
    """Unique wire numbers in input order, and what was dropped on the way."""

    numbers: list[str] = field(default_factory=list)
    duplicates: int = 0
    invalid: list[Invalid] = field(default_factory=list)
    invalid_count: int = 0


def collect(items: Iterable[Parsed | list[str] | Entry], keep_invalid: int = 20) -> Recipients:
    """De-duplicate in order; count invalid entries and keep details of the first few.

    ``items`` are what the ``parse_*`` functions yield (a wire number, a list of them, or an
    :class:`Invalid`); plain :class:`Entry` objects are normalised here.
    """
    result = Recipients()
    ordered: dict[str, None] = {}  # insertion-ordered set
    for item in items:
        if type(item) is list:
            before = len(ordered)
            ordered.update(dict.fromkeys(item))
            result.duplicates += len(item) - (len(ordered) - before)
            continue
        if type(item) is Entry:
            item = check(item)
        if type(item) is str:
            if item in ordered:
                result.duplicates += 1
            else:
                ordered[item] = None
            continue
        assert isinstance(item, Invalid)
        result.invalid_count += 1
        if len(result.invalid) < keep_invalid:
            result.invalid.append(item)
    result.numbers = list(ordered)
    return result
