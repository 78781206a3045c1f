"""Sending a message to many recipients: chunk, sign, call, classify, decide the exit code.

No printing here: progress and verbose lines go to the callables the caller passes in.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from usms_cli.core import MAX_NUMBERS_PER_SEND, Message, build_send, chunks
from usms_cli.errors import ExitCode
from usms_cli.phones import Recipients
from usms_cli.signing import signed_params

if TYPE_CHECKING:
    from usms_cli.client import ApiResult, Client

# RetCodes that will fail every remaining request the same way: stop instead of repeating them.
STOP_BATCH = frozenset(
    {
        160,
        161,
        170,
        171,
        172,
        173,
        174,
        290,
        291,
        292,
        293,
        294,
        295,
        299,
        18013,
        18016,
        18017,
        18018,
    }
)

HINTS: dict[int, str] = {
    153: "the API is throttling requests; wait a little and send again",
    170: "the request had no Signature: this is a bug in usms-cli, please report it",
    171: "check UCLOUD_PRIVATE_KEY: it must be the private key that belongs to UCLOUD_PUBLIC_KEY",
    172: "check UCLOUD_PUBLIC_KEY: the API does not know this key",
    173: "the UCloud account is restricted; see the console",
    292: "check --project-id / UCLOUD_PROJECT_ID",
    290: "check --project-id / UCLOUD_PROJECT_ID: the key has no access to that project",
    294: "this machine's IP address is not on the API key's allow-list",
    299: "the key lacks permission for USMS (IAM)",
    18013: "the account or project has no SMS balance left",
    18014: "some numbers were refused as invalid",
    18016: "check -s/--sig-content: it must be an approved signature, written without 【】",
    18017: "check -t/--template-id: the template must exist and be approved",
    18018: "give one -p/--param per variable {1}, {2}, … of the template, in order",
    18019: "more than 1000 numbers in one request: this is a bug in usms-cli, please report it",
    18023: "a parameter contains a keyword the carriers block",
    18033: "a parameter value breaks the template variable rules (length or characters)",
}


@dataclass
class RequestOutcome:
    index: int  # 1-based
    numbers: Sequence[str]
    result: ApiResult | None  # None in a dry run
    form: dict[str, str] | None = None  # the signed form (kept only for dry runs)

    @property
    def status(self) -> str:
        return "dry_run" if self.result is None else self.result.status

    @property
    def session_no(self) -> str | None:
        if self.result is None or self.result.body is None or not self.result.ok:
            return None
        value = self.result.body.get("SessionNo")
        return value if isinstance(value, str) and value else None


@dataclass
class SendReport:
    message: Message
    recipients: Recipients
    requests: list[RequestOutcome] = field(default_factory=list)
    dry_run: bool = False
    interrupted: bool = False

    def counts(self) -> dict[str, int]:
        totals = {"accepted": 0, "rejected": 0, "unknown": 0, "not_sent": 0}
        for outcome in self.requests:
            if outcome.result is not None:
                totals[outcome.result.status] += len(outcome.numbers)
        return totals

    @property
    def session_nos(self) -> list[str]:
        return [sn for sn in (o.session_no for o in self.requests) if sn]

    def exit_code(self) -> ExitCode:
        if self.interrupted:
            return ExitCode.INTERRUPTED
        if self.dry_run or not self.requests:
            return ExitCode.OK
        statuses = {o.status for o in self.requests}
        if "unknown" in statuses:
            return ExitCode.UNKNOWN
        if statuses == {"accepted"}:
            return ExitCode.OK
        if "accepted" in statuses:
            return ExitCode.PARTIAL
        if statuses == {"not_sent"}:
            return ExitCode.UNREACHABLE
        return ExitCode.REJECTED


def plan(message: Message, numbers: Sequence[str]) -> list[dict[str, Any]]:
    """The unsigned parameters of every request, in order."""
    return [build_send(message, chunk) for chunk in chunks(numbers, MAX_NUMBERS_PER_SEND)]


def dry_run(
    message: Message, recipients: Recipients, public_key: str, private_key: str
) -> SendReport:
    """Everything up to the HTTP call: build and sign each request, send nothing."""
    report = SendReport(message, recipients, dry_run=True)
    for index, chunk in enumerate(chunks(recipients.numbers, MAX_NUMBERS_PER_SEND), start=1):
        form = signed_params(build_send(message, chunk), public_key, private_key)
        report.requests.append(RequestOutcome(index, chunk, None, form))
    return report


def send(
    client: Client,
    message: Message,
    recipients: Recipients,
    public_key: str,
    private_key: str,
    *,
    progress: Callable[[RequestOutcome, int], None] | None = None,
) -> SendReport:
    """Send every chunk in order. Stops early when the API's answer means the rest would fail too
    (bad key, template, signature, balance) or the API cannot be reached; those chunks are
    reported as ``not_sent``. Ctrl-C marks the request in flight ``unknown`` and the rest
    ``not_sent``, and sets ``interrupted``."""
    from usms_cli.client import ApiResult

    report = SendReport(message, recipients)
    pieces = list(chunks(recipients.numbers, MAX_NUMBERS_PER_SEND))
    stop_reason: str | None = None
    for index, chunk in enumerate(pieces, start=1):
        if stop_reason is not None:
            report.requests.append(
                RequestOutcome(index, chunk, ApiResult("not_sent", error=stop_reason))
            )
            continue
        form = signed_params(build_send(message, chunk), public_key, private_key)
        try:
            result = client.call(form, idempotent=False)
        except KeyboardInterrupt:
            report.interrupted = True
            result = ApiResult("unknown", error="interrupted while the request was in flight")
            stop_reason = "not sent: interrupted"
        outcome = RequestOutcome(index, chunk, result)
        report.requests.append(outcome)
        if progress is not None:
            progress(outcome, len(pieces))
        if result.status == "not_sent" and stop_reason is None:
            stop_reason = f"not sent: an earlier request failed ({result.error})"
        elif result.status == "rejected" and result.ret_code in STOP_BATCH:
            stop_reason = f"not sent: an earlier request was refused with RetCode {result.ret_code}"
    return report
