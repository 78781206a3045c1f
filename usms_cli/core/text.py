"""Small text helpers shared by the layers: counts in words, display width, safe server text,
tables of texts translated when read."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any, TypeVar

from usms_cli.i18n import tr

K = TypeVar("K")
V = TypeVar("V", str, tuple[str, str])


def printable(text: str | None, limit: int) -> str:
    """Server-chosen text made safe for a terminal: control characters escaped, length capped."""
    if not text:
        return ""
    cleaned = "".join(ch if ch.isprintable() else f"\\x{ord(ch):02x}" for ch in text[:limit])
    return cleaned + ("…" if len(text) > limit else "")


def shorten(text: str, limit: int = 40) -> str:
    """A value as it may be quoted in a message: at most ``limit`` characters."""
    return text if len(text) <= limit else f"{text[:limit]}… ({len(text):,} characters)"


def plural(count: int, word: str, many: str | None = None) -> str:
    return f"{count:,} {word}" if count == 1 else f"{count:,} {many or word + 's'}"


def width(text: str) -> int:
    """Terminal columns: East Asian wide and full-width characters take two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


class Translated(Mapping[K, V]):
    """A table of texts a person reads (each marked with ``N_``), translated when a value is
    read: ``HINTS[153]`` is in this run's language. ``english`` is the table as written, for
    what a script reads."""

    __slots__ = ("english",)

    def __init__(self, table: Mapping[K, V]) -> None:
        self.english: Mapping[K, V] = table

    def __getitem__(self, key: K) -> V:
        value = self.english[key]
        if isinstance(value, str):
            return tr(value)
        return tuple(tr(part) for part in value)  # type: ignore[return-value]

    def __iter__(self) -> Iterator[K]:
        return iter(self.english)

    def __len__(self) -> int:
        return len(self.english)


class LazyPattern:
    """A regular expression compiled on first use: a run that never needs a pattern (the CSV
    one, in a send of one number) does not pay for compiling it at start-up."""

    __slots__ = ("_args", "_compiled")

    def __init__(self, pattern: str, flags: int = 0) -> None:
        self._args = (pattern, flags)
        self._compiled: re.Pattern[str] | None = None

    def compiled(self) -> re.Pattern[str]:
        if self._compiled is None:
            self._compiled = re.compile(*self._args)
        return self._compiled

    @property
    def pattern(self) -> str:
        return self._args[0]

    def match(self, text: str, pos: int = 0) -> re.Match[str] | None:
        return self.compiled().match(text, pos)

    def fullmatch(self, text: str, pos: int = 0) -> re.Match[str] | None:
        return self.compiled().fullmatch(text, pos)

    def search(self, text: str, pos: int = 0) -> re.Match[str] | None:
        return self.compiled().search(text, pos)

    def sub(self, repl: Any, text: str, count: int = 0) -> str:
        return self.compiled().sub(repl, text, count)

    def split(self, text: str, maxsplit: int = 0) -> list[str | Any]:
        return self.compiled().split(text, maxsplit)

    def findall(self, text: str, pos: int = 0) -> list[Any]:
        return self.compiled().findall(text, pos)

    def finditer(self, text: str, pos: int = 0) -> Iterator[re.Match[str]]:
        return self.compiled().finditer(text, pos)
