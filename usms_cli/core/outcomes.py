"""The result types of the account commands (templates, signatures, ``template apply``,
statistics, blacklist, ``usms api``) and the rule that turns each into an exit code. Pure:
the use cases fill them, the renderers read them."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from usms_cli.core.errors import ExitCode
from usms_cli.core.results import ApiResult
from usms_cli.core.stats import Counts, Line


@dataclass
class ChangeResult:
    """A create, update or delete that the API accepted."""

    kind: str  # "template" or "signature"
    action: str  # "create", "update", "delete"
    ids: list[str]
    answer: dict[str, Any] = field(default_factory=dict)
    exit_code: ExitCode = ExitCode.OK


@dataclass
class ReviewResult:
    """Where a review stands after a look (``show``) or a wait (``wait``)."""

    kind: str
    data: dict[str, Any]
    waited: bool = False
    timed_out: bool = False

    @property
    def state(self) -> str:
        from usms_cli.core.templates import review_state

        return review_state(self.data)

    @property
    def exit_code(self) -> ExitCode:
        """0 approved; 1 rejected (or, for a look, not approved yet); 5 a wait that ran out."""
        state = self.state
        if state == "approved":
            return ExitCode.OK
        if state == "rejected":
            return ExitCode.REJECTED
        return ExitCode.UNKNOWN if self.waited else ExitCode.REJECTED


@dataclass
class ApplyItem:
    """What ``template apply`` did with one entry, and where its review stands."""

    name: str
    template_id: str | None
    action: str  # would create, created, unchanged, differs, updated, delete, deleted, …
    status: str = ""  # approved, under review, rejected, … ("" when not looked up)
    reason: str = ""  # the review's ErrDesc, or why nothing was done
    error: str = ""  # the API's refusal or the transport failure
    code: ExitCode = ExitCode.OK

    def note(self, text: str) -> None:
        self.reason = f"{self.reason}; {text}" if self.reason else text

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "id": self.template_id,
            "action": self.action,
            "status": self.status,
            "reason": self.reason,
            "error": self.error,
        }


@dataclass
class ApplyResult:
    path: Path
    dry_run: bool
    items: list[ApplyItem] = field(default_factory=list)
    changed: bool = False  # something was created, updated or deleted
    stopped: bool = False  # a transport failure stopped the run

    @property
    def exit_code(self) -> ExitCode:
        """5 an outcome unknown; 4 unreachable (3 if something changed before); 3 a change the
        file could not record; 1 a template rejected or a call refused; else 0."""
        codes = {item.code for item in self.items}
        if ExitCode.UNKNOWN in codes:
            return ExitCode.UNKNOWN
        if ExitCode.PARTIAL in codes:
            return ExitCode.PARTIAL
        if ExitCode.UNREACHABLE in codes:
            return ExitCode.PARTIAL if self.changed else ExitCode.UNREACHABLE
        if ExitCode.REJECTED in codes:
            return ExitCode.REJECTED
        return ExitCode.OK


@dataclass
class StatsResult:
    start: datetime.date
    end: datetime.date
    by: str
    scopes: list[str]
    lines: list[Line] = field(default_factory=list)
    total: Counts = field(default_factory=Counts)
    pages: int = 0
    exit_code: ExitCode = ExitCode.OK


@dataclass
class BlacklistResult:
    added: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)  # number -> why
    unconfirmed: dict[str, str] = field(default_factory=dict)  # number -> why
    not_sent: dict[str, str] = field(default_factory=dict)  # number -> why
    requests: int = 0
    duplicates: int = 0

    @property
    def exit_code(self) -> ExitCode:
        """5 any unconfirmed; 0 all added; 3 some added; 4 none reached the API; else 1."""
        if self.unconfirmed:
            return ExitCode.UNKNOWN
        if not self.refused and not self.not_sent:
            return ExitCode.OK
        if self.added:
            return ExitCode.PARTIAL
        if self.not_sent and not self.refused:
            return ExitCode.UNREACHABLE
        return ExitCode.REJECTED


_CALL_CODES = {
    "accepted": ExitCode.OK,
    "rejected": ExitCode.REJECTED,
    "not_sent": ExitCode.UNREACHABLE,
    "unknown": ExitCode.UNKNOWN,
}


@dataclass
class ApiCallResult:
    """One ``usms api`` call: 0 RetCode 0, 1 refused, 4 not sent, 5 outcome unknown."""

    action: str
    result: ApiResult

    @property
    def exit_code(self) -> ExitCode:
        return _CALL_CODES[self.result.status]
