"""Small text helpers shared by the layers: counts in words, display width, safe server text."""

from __future__ import annotations


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
