"""What a send will cost, when the template text is known: each distinct message as the
recipient reads it, its length and its SMS segments, and the total for the batch.

A message the API would refuse (wrong number of params, over 500 characters) is an input
error here, before anything is sent.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from usms_cli.core import content
from usms_cli.core.errors import InputError
from usms_cli.core.phones import is_international
from usms_cli.core.privacy import Masker
from usms_cli.i18n import tr

SHOWN_MESSAGES = 5


@dataclass
class CostLine:
    text: str  # in full (machine output)
    shown: str  # for a person: params masked unless --show-pii
    length: int
    segments: int
    recipients: int = 0


@dataclass
class Cost:
    lines: dict[tuple[tuple[str, ...], bool], CostLine] = field(default_factory=dict)

    @property
    def recipients(self) -> int:
        return sum(line.recipients for line in self.lines.values())

    @property
    def total_segments(self) -> int:
        return sum(line.segments * line.recipients for line in self.lines.values())

    def as_json(self) -> dict[str, Any]:
        shown = list(self.lines.values())[:SHOWN_MESSAGES]
        return {
            "distinct_messages": len(self.lines),
            "messages": [
                {
                    "text": line.text,
                    "length": line.length,
                    "segments": line.segments,
                    "recipients": line.recipients,
                }
                for line in shown
            ],
            "recipients": self.recipients,
            "total_segments": self.total_segments,
        }


def measure(
    template: str,
    sig_content: str | None,
    recipients: Iterable[tuple[str, Sequence[str], str]],
    masker: Masker,
) -> Cost:
    """``recipients``: (phone, params, where) for each recipient; ``where`` names it in an
    error (``line 7``), or is empty for a plain send."""
    cost = Cost()
    for phone, params, where in recipients:
        abroad = is_international(phone)
        key = (tuple(params), abroad)
        line = cost.lines.get(key)
        if line is None:
            line = cost.lines[key] = _line(template, params, sig_content, abroad, masker, where)
        line.recipients += 1
    return cost


def _line(
    template: str,
    params: Sequence[str],
    sig_content: str | None,
    abroad: bool,
    masker: Masker,
    where: str,
) -> CostLine:
    try:
        message = content.preview(template, params, sig_content, international=abroad)
    except InputError as exc:
        if where:  # a CSV row: its params come from columns, not -p
            exc.message = tr(
                "{where}: {message}; nothing was sent", where=where, message=exc.message
            )
            if exc.hint and "-p/--param" in exc.hint:
                exc.hint = tr("give one CSV column per {N} in the template (--param-columns A,B)")
        else:
            exc.message = tr("{message}; nothing was sent", message=exc.message)
        raise
    masked = [masker.param(p) for p in params]
    shown = content.with_signature(
        content.render(template, masked), sig_content, international=abroad
    )
    return CostLine(message.text, shown, message.length, message.segments)
