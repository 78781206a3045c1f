"""Masking personal data for human-facing output: pure functions.

Phone numbers keep their first three and last four digits (``138****8000``); template
parameter values (often verification codes) become ``***``. Machine outputs (``--json``,
``-q``, the journal, ``--failed-out``) keep full values; ``--show-pii`` unmasks human output.
"""

from __future__ import annotations

from collections.abc import Iterable

from usms_cli.core.text import LazyPattern

MASKED_PARAM = "***"
_CODE = LazyPattern(r"^\(([0-9]{1,4})\)")


def mask_phone(number: str) -> str:
    """``13800008000`` → ``138****8000``; ``(1)4155550100`` → ``(1)415***0100``."""
    prefix = ""
    match = _CODE.match(number)
    if match:
        prefix, number = match.group(0), number[match.end() :]
    if len(number) >= 8:
        return f"{prefix}{number[:3]}{'*' * (len(number) - 7)}{number[-4:]}"
    if len(number) >= 3:
        return f"{prefix}{number[0]}{'*' * (len(number) - 2)}{number[-1]}"
    return prefix + "*" * len(number)


def mask_text(text: str, numbers: Iterable[str] = (), params: Iterable[str] = ()) -> str:
    """``text`` with every given number masked and every given param value replaced."""
    for value in sorted({p for p in params if p}, key=len, reverse=True):
        text = text.replace(value, MASKED_PARAM)
    for number in sorted({n for n in numbers if n}, key=len, reverse=True):
        text = text.replace(number, mask_phone(number))
        bare = number.split(")")[-1]
        if bare != number and len(bare) >= 6:
            text = text.replace(bare, mask_phone(bare))
    return text


class Masker:
    """What one run may show: ``show_pii`` turns masking off."""

    def __init__(self, *, show_pii: bool = False) -> None:
        self.show_pii = show_pii

    def phone(self, number: str) -> str:
        return number if self.show_pii else mask_phone(number)

    def param(self, value: str) -> str:
        return value if self.show_pii else MASKED_PARAM

    def text(self, text: str, numbers: Iterable[str] = (), params: Iterable[str] = ()) -> str:
        """``text`` (a rendered message, say) with these numbers and param values masked."""
        return text if self.show_pii else mask_text(text, numbers, params)


# A run of 7 to 15 digits standing alone, as a phone number does in free text. Not part of a
# longer token: request ids (9999473-ab12-…), versions, times, paths and counts written with
# separators (5,248,800) are left alone.
_DIGIT_RUN = LazyPattern(r"(?<![0-9A-Za-z_\-.:/@#])[0-9]{7,15}(?![0-9A-Za-z_\-.:/@#])")


def mask_digits(text: str) -> str:
    """Every phone-shaped run of digits masked (a safety net for free text, such as a typed
    entry or an API answer, where the numbers are not known in advance)."""
    return _DIGIT_RUN.sub(lambda m: mask_phone(m.group(0)), text)


def mask_entry(text: str) -> str:
    """An entry that was meant as a phone number (valid or not), digits masked as a phone's
    are: all but the first three and the last four (the first and last when fewer than 8)."""
    count = sum(ch.isdigit() for ch in text)
    keep_head, keep_tail = (3, 4) if count >= 8 else (1, 1)
    seen = 0
    shown = []
    for ch in text:
        if ch.isdigit():
            seen += 1
            if keep_head < seen <= count - keep_tail:
                ch = "*"
        shown.append(ch)
    return "".join(shown)


def mask_answer(value: object) -> object:
    """An API answer (parsed JSON) with phone numbers masked and template params replaced."""
    if isinstance(value, dict):
        shown: dict[object, object] = {}
        for key, item in value.items():
            if key == "TemplateParams" and isinstance(item, list):
                shown[key] = [MASKED_PARAM for _ in item]
            elif isinstance(key, str) and "Phone" in key and isinstance(item, str):
                shown[key] = mask_phone(item)
            else:
                shown[key] = mask_answer(item)
        return shown
    if isinstance(value, list):
        return [mask_answer(item) for item in value]
    return mask_digits(value) if isinstance(value, str) else value
