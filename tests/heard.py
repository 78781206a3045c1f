"""Chinese runs of English checks: ``"nothing was sent" in result.stderr`` in either language.

The suite's checks are written in English. With ``USMS_TEST_LANG=zh`` (``.ci/run``'s second
pass of the whole suite) the CLI speaks Chinese, and ``run_usms`` hands back its output as
:class:`Heard` text. ``needle in heard`` then holds when the output says what the needle says:

1. the needle is there as it is (numbers, masked phones, options, RetCodes, JSON, anything
   not translated), ignoring line breaks and indentation (Chinese wraps differently); or
2. the needle is English words with values in them (numbers, quoted names, options, ids, any
   Chinese), every value is there as it is, and the words come from the catalog's messages
   (``po/zh_CN/*.po``) whose Chinese is shown: one message whose ``{fields}`` the values
   fill, or, run by run, messages filled into one another ("Sent: {recipients} accepted"
   with "{n} recipient"). A message is shown when every fixed part of its translation is,
   and those parts hold some Chinese (not only brackets and a field name).

A one-word needle ("Sent:", "refused") must come whole from a message shown; a token that is
not a word (a key, an id, a path) is only ever there as it is. Anything else is not there, so
``not in`` checks keep their meaning: a message that must not be shown must not be shown in
Chinese either.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from pathlib import Path
from typing import SupportsIndex

PO_DIR = Path(__file__).resolve().parent.parent / "po" / "zh_CN"
_FIELD = re.compile(r"\{[^{}]*\}")
# What a test puts where a message has a field: numbers, quoted names, masked phones, ids,
# options (messages often take an option's name as a field), and Chinese (already translated).
_VALUE = re.compile(
    r"'[^']*'|\"[^\"]*\"|[0-9][0-9*,.:/-]*|\b[A-Z]{2,}[A-Za-z0-9_]*\d\w*|(?<![\w-])--?[a-z][a-z0-9-]*"
    r"|[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]+"
)
_SPACE = re.compile(r"\s+")


def _squeeze(text: str) -> str:
    return _SPACE.sub("", text)


@functools.cache
def catalog() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """(English message, its Chinese fixed parts) for every message and plural form."""
    from babel.messages.pofile import read_po

    pairs: list[tuple[str, tuple[str, ...]]] = []
    for po in sorted(PO_DIR.glob("*.po")):
        with po.open("rb") as handle:
            for message in read_po(handle):
                if not message.id or not message.string:
                    continue
                ids = message.id if isinstance(message.id, tuple) else (message.id,)
                strings = message.string if isinstance(message.string, tuple) else (message.string,)
                chinese = strings[0]
                parts = tuple(
                    squeezed
                    for part in _FIELD.split(chinese.replace("{{", "{").replace("}}", "}"))
                    if (squeezed := _squeeze(part))
                )
                for english in ids:
                    pairs.append((english.replace("{{", "{").replace("}}", "}"), parts))
    return tuple(pairs)


def _fixed_pieces(needle: str) -> list[str]:
    """The needle without what looks like a value: the words a message would hold fixed."""
    return [piece for piece in _VALUE.split(needle) if piece.strip()]


def _from_message(needle: str, english: str) -> bool:
    """Could ``needle`` be a part of ``english`` once its fields are filled in?"""
    if needle in english:
        return True
    if not _FIELD.search(english):
        return False
    pieces = _fixed_pieces(needle)
    if not pieces or sum(map(len, pieces)) < 3:
        return False
    template = _FIELD.sub("\0", english)
    at = 0
    for piece in pieces:
        found = template.find(piece, at)
        if found < 0:
            return False
        at = found + len(piece)
    return True


@functools.cache
def _translations(needle: str) -> tuple[tuple[str, ...], ...]:
    return tuple(parts for english, parts in catalog() if _from_message(needle, english))


@functools.cache
def _holding(piece: str) -> tuple[tuple[str, ...], ...]:
    """The Chinese fixed parts of every message whose fixed English text holds ``piece``."""
    return tuple(parts for english, parts in catalog() if piece in _FIELD.sub("\0", english))


_PUNCTUATION = ".,;:!?()[]'\" "


def _said(words: list[str], shown: Callable[[str], bool], present: Callable[[str], bool]) -> bool:
    """Whether ``words`` can be cut, longest runs first, into runs each said by a message shown
    (``shown``) or there as they are (``present``: a name, a value, a symbol)."""
    at = 0
    while at < len(words):
        for end in range(len(words), at, -1):
            run = " ".join(words[at:end])
            bare = run.strip(_PUNCTUATION)
            if not bare or present(bare) or (any(map(str.isalpha, bare)) and shown(run)):
                at = end
                break
        else:
            return False
    return True


_CJK = re.compile(r"[\u3400-\u9fff]")


def _specific(parts: tuple[str, ...]) -> bool:
    """Whether a translation's fixed parts say something of their own: some Chinese (not only
    brackets and a field name, which any output may hold)."""
    return any(_CJK.search(part) for part in parts)


def says(text: str, needle: str) -> bool:
    """Whether Chinese ``text`` says what the English ``needle`` says (see the module doc)."""
    if str.__contains__(text, needle):
        return True
    squeezed = _squeeze(text)
    if str.__contains__(squeezed, _squeeze(needle)):
        return True

    def in_text(candidates: tuple[tuple[str, ...], ...]) -> bool:
        return any(
            _specific(parts) and all(part in squeezed for part in parts) for parts in candidates
        )

    if " " not in needle:  # one word ("Sent:", "refused") from a message, or a value as it is
        return needle.strip(_PUNCTUATION).isalpha() and in_text(_translations(needle))
    # The values of a message are the same in either language (a quoted example text with
    # spaces may be translated).
    values = (value.strip(_PUNCTUATION) for value in _VALUE.findall(needle))
    if not all(_squeeze(value) in squeezed for value in values if " " not in value):
        return False
    if in_text(_translations(needle)):
        return True
    # A needle across messages filled into one another ("Sent: {recipients} accepted" with
    # "{n} recipient"): each run of its words must come from a message shown, or be there as
    # it is (a name, a value, a symbol). A needle of symbols and values only says nothing.
    pieces = [piece for piece in _fixed_pieces(needle) if any(map(str.isalpha, piece))]
    return bool(pieces) and all(
        _said(
            piece.split(),
            lambda run: in_text(_holding(run) + _holding(run.strip(_PUNCTUATION))),
            lambda bare: _squeeze(bare) in squeezed,
        )
        for piece in pieces
    )


class Heard(str):
    """Output of a Chinese run, checked with English needles (``needle in heard``)."""

    def __contains__(self, needle: object) -> bool:
        if not isinstance(needle, str):
            return str.__contains__(self, needle)  # type: ignore[operator]
        return says(self, needle)

    def __add__(self, other: str) -> Heard:
        return Heard(str.__add__(self, other))

    def __radd__(self, other: str) -> Heard:
        return Heard(other + str(self))

    def strip(self, chars: str | None = None) -> Heard:
        return Heard(str.strip(self, chars))

    def splitlines(self, keepends: bool = False) -> list[str]:  # type: ignore[override]
        return [Heard(line) for line in str.splitlines(self, keepends)]

    def __getitem__(self, key: SupportsIndex | slice) -> Heard:
        return Heard(str.__getitem__(self, key))
