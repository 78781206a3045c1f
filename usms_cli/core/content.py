"""Message content rules, checked before sending when the template text is known: pure.

- variables are ``{1}``, ``{2}`` …; the number of params must match (else the API says 18018);
- length counts every character, the signature included (``【Sig】`` domestic, ``[Sig]``
  international): one SMS holds 70 characters, longer messages are billed per 67; pure GSM
  7-bit text to international numbers holds 160, then 153 per segment (extension characters
  such as ``{`` ``€`` count twice); 500 characters at most;
- marketing templates (purpose 3) may be sent only 08:00–20:00 China time (UTC+8).
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Sequence
from dataclasses import dataclass

from usms_cli.core.errors import InputError
from usms_cli.core.text import LazyPattern
from usms_cli.i18n import tr

MAX_LENGTH = 500


CHINA = datetime.timezone(datetime.timedelta(hours=8), "China time")
_VARIABLE = LazyPattern(r"\{([0-9]+)\}")
_GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = set("^{}\\[~]|€\f")


def variables(template: str) -> list[int]:
    """The distinct ``{N}`` numbers of a template, ascending."""
    return sorted({int(n) for n in _VARIABLE.findall(template)})


def render(template: str, params: Sequence[str]) -> str:
    """The template with ``{N}`` replaced by the N-th param (in order of the variables)."""
    slots = dict(zip(variables(template), params, strict=False))
    return _VARIABLE.sub(lambda m: slots.get(int(m.group(1)), m.group(0)), template)


def with_signature(text: str, sig_content: str | None, *, international: bool) -> str:
    if not sig_content:
        return text
    return f"[{sig_content}]{text}" if international else f"【{sig_content}】{text}"


def gsm_length(text: str) -> int | None:
    """Septets needed in the GSM 7-bit alphabet, or None if the text needs UCS-2."""
    total = 0
    for ch in text:
        if ch in _GSM_BASIC:
            total += 1
        elif ch in _GSM_EXTENDED:
            total += 2
        else:
            return None
    return total


def segments(text: str, *, international: bool = False) -> int:
    """Billed SMS segments for ``text`` (signature included)."""
    gsm = gsm_length(text) if international else None
    if gsm is not None:
        return 1 if gsm <= 160 else math.ceil(gsm / 153)
    length = len(text)
    return 1 if length <= 70 else math.ceil(length / 67)


@dataclass(frozen=True)
class Preview:
    text: str  # as the recipient reads it
    length: int
    segments: int
    international: bool


def preview(
    template: str, params: Sequence[str], sig_content: str | None, *, international: bool
) -> Preview:
    """Render and measure one message; raise InputError when it cannot be sent."""
    wanted = len(variables(template))
    if wanted != len(params):
        raise InputError(
            tr(
                "the template has {wanted} variable(s) but {given} param(s) were given",
                wanted=wanted,
                given=len(params),
            ),
            hint=tr("give one -p/--param per {N} in the template, in order"),
        )
    text = with_signature(render(template, params), sig_content, international=international)
    if len(text) > MAX_LENGTH:
        raise InputError(
            tr(
                "the message would be {length:,} characters; the limit is {limit}",
                length=len(text),
                limit=MAX_LENGTH,
            ),
            hint=tr("shorten the params (the signature counts too)"),
        )
    return Preview(text, len(text), segments(text, international=international), international)


def outside_marketing_hours(now: datetime.datetime) -> bool:
    """True outside 08:00–20:00 China time, when marketing SMS may not be sent."""
    local = now.astimezone(CHINA)
    return not (8 <= local.hour < 20)
