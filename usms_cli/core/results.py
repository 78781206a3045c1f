"""The result types of a USMS call and of a send, and the rule that turns a send into an exit
code."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from usms_cli.core.errors import ExitCode
from usms_cli.core.text import LazyPattern
from usms_cli.i18n import tr

if TYPE_CHECKING:
    from usms_cli.core.api import Message
    from usms_cli.core.phones import Recipients


Status = Literal["accepted", "rejected", "unknown", "not_sent"]


@dataclass
class ApiResult:
    """The outcome of one API call, already classified."""

    status: Status
    ret_code: int | None = None
    message: str | None = None
    body: dict[str, Any] | None = None
    request_id: str | None = None
    http_status: int | None = None
    attempts: int = 0
    error: str | None = None  # our own plain-words description when there is no API message
    throttled: bool = False  # HTTP 429 or RetCode 153
    skipped: bool = False  # never attempted: an earlier answer or an interruption stopped it

    @property
    def ok(self) -> bool:
        return self.status == "accepted"


# What a SessionNo looks like ("5a3c…-7d42-…"); anything else is treated as missing.
_SESSION_NO = LazyPattern(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}")


@dataclass
class RequestOutcome:
    index: int  # 1-based
    numbers: Sequence[str]
    result: ApiResult | None  # None in a dry run
    form: dict[str, str] | None = None  # the signed form (kept only for dry runs)
    refused: dict[str, str] = field(default_factory=dict)  # phone -> reason, in a partial answer
    items: Sequence[Any] = ()  # what the request was built from (rows of a CSV batch)

    @property
    def accepted_count(self) -> int:
        if self.result is None or self.result.status != "accepted":
            return 0
        return len(self.numbers) - len(self.refused)

    @property
    def status(self) -> str:
        return "dry_run" if self.result is None else self.result.status

    @property
    def session_no(self) -> str | None:
        if self.result is None or self.result.body is None or not self.result.ok:
            return None
        value = self.result.body.get("SessionNo")
        if isinstance(value, str) and _SESSION_NO.fullmatch(value):
            return value
        return None


@dataclass
class SendReport:
    message: Message
    recipients: Recipients
    requests: list[RequestOutcome] = field(default_factory=list)
    dry_run: bool = False
    interrupted_by: int | None = None  # signal number that stopped the run
    previously_accepted: list[str] = field(default_factory=list)  # skipped: journal says sent
    held_back: list[str] = field(default_factory=list)  # skipped: journal says unknown
    columns: list[str] | None = None  # a CSV batch: how its columns were mapped
    journal_failure: str | None = None  # why the journal could not be written (a full disk)

    def refused(self) -> list[tuple[str, str, int]]:
        """``(phone, reason, request index)`` of every phone the API refused by name."""
        return [
            (phone, reason, outcome.index)
            for outcome in self.requests
            for phone, reason in outcome.refused.items()
        ]

    @property
    def interrupted(self) -> bool:
        return self.interrupted_by is not None

    def counts(self) -> dict[str, int]:
        totals = {"accepted": 0, "rejected": 0, "unknown": 0, "not_sent": 0}
        for outcome in self.requests:
            if outcome.result is not None:
                totals[outcome.result.status] += len(outcome.numbers) - len(outcome.refused)
                totals["rejected"] += len(outcome.refused)
        return totals

    @property
    def session_nos(self) -> list[str]:
        return [sn for sn in (o.session_no for o in self.requests) if sn]

    def exit_code(self) -> ExitCode:
        if self.interrupted_by is not None:
            return ExitCode.INTERRUPTED if self.interrupted_by == 2 else ExitCode.TERMINATED
        if self.dry_run:
            return ExitCode.OK
        statuses = {o.status for o in self.requests}
        if self.held_back:
            statuses.add("unknown")
        if not statuses:
            return ExitCode.OK
        if "unknown" in statuses:
            return ExitCode.UNKNOWN
        if statuses == {"accepted"}:
            if any(outcome.refused for outcome in self.requests):
                return ExitCode.PARTIAL
            return ExitCode.OK
        if "accepted" in statuses:
            return ExitCode.PARTIAL
        if statuses == {"not_sent"}:
            # Nothing went out because the journal could not be written: not the API's fault.
            return ExitCode.USAGE if self.journal_failure else ExitCode.UNREACHABLE
        return ExitCode.REJECTED


def request_id_text(result: ApiResult) -> str:
    """`` (request id …)`` when the API gave one, for error messages."""
    if not result.request_id:
        return ""
    return tr(" (request id {request_id})", request_id=result.request_id)


def refusal(result: ApiResult, subject: str, context: str = "send") -> tuple[str, str | None]:
    """ "<subject> was refused by the API: RetCode N, 'message' (request id …)", and a hint
    that fits ``context`` (see ``core.codes.hint_for``)."""
    from usms_cli.core.codes import hint_for

    text = tr(
        "{subject} was refused by the API: RetCode {ret_code}, {message!r}{request_id}",
        subject=subject,
        ret_code=result.ret_code,
        message=result.message,
        request_id=request_id_text(result),
    )
    return text, hint_for(result.ret_code, context)
