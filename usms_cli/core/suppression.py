"""The suppression list's pure parts: what one entry holds, what ``usms suppress`` reports,
and the rule that decides whether a send skips suppressed numbers.

Rule: a send leaves out the numbers on the list when its template is a marketing template
(purpose 3), unless ``--include-suppressed``. A template whose purpose could not be learned
is treated as marketing (an opt-out must be honoured; the warning says so). Other templates
(verification codes, notifications) go to every number.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from usms_cli.core.codes import MARKETING
from usms_cli.core.errors import ExitCode
from usms_cli.i18n import N_

SOURCES = {"reply": N_("opt-out reply"), "hand": N_("added by hand")}


@dataclass(frozen=True)
class Suppressed:
    """One number on the list: when it was added (Unix seconds), how (``reply`` or
    ``hand``), and the reply text or the note given by hand."""

    phone: str
    added: float
    source: str
    detail: str = ""

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class SuppressResult:
    """What ``usms suppress add|remove|list`` did or found."""

    action: str  # add, remove, list
    changed: list[str] = field(default_factory=list)  # added / removed
    unchanged: list[str] = field(default_factory=list)  # already there / not there
    duplicates: int = 0
    entries: list[Suppressed] = field(default_factory=list)  # list
    path: str = ""
    exit_code: ExitCode = ExitCode.OK


def applies(purpose: Any) -> bool | None:
    """Whether a template with this QueryUSMSTemplate ``Purpose`` skips suppressed numbers;
    None when the purpose is unknown (the caller treats it as marketing, with a warning)."""
    if purpose is None or str(purpose).strip() == "":
        return None
    return str(purpose).strip() == str(MARKETING)
