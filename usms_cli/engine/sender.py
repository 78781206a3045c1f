"""Sending a message to many recipients: chunk, sign, call, classify, decide the exit code.

No printing here: progress and verbose lines go to the callables the caller passes in.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from usms_cli.core.api import MAX_NUMBERS_PER_SEND, Message, build_send, chunks
from usms_cli.core.errors import ExitCode
from usms_cli.core.signing import signed_params

if TYPE_CHECKING:
    from usms_cli.core.phones import Recipients
    from usms_cli.engine.client import ApiResult, Client
    from usms_cli.engine.journal import Writer

# Why the rest of a batch is not sent when the journal cannot be written.
JOURNAL_STOP = "not sent: the journal could not be written"

# What a SessionNo looks like ("5a3c…-7d42-…"); anything else is treated as missing.
_SESSION_NO = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}")

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


def plan(message: Message, numbers: Sequence[str]) -> list[dict[str, Any]]:
    """The unsigned parameters of every request, in order."""
    return [build_send(message, chunk) for chunk in chunks(numbers, MAX_NUMBERS_PER_SEND)]


def dry_run(
    message: Message,
    recipients: Recipients,
    public_key: str,
    private_key: str,
    plan: RequestPlan | None = None,
) -> SendReport:
    """Everything up to the HTTP call: build and sign each request, send nothing."""
    plan = plan or numbers_plan(message, recipients.numbers)
    report = SendReport(message, recipients, dry_run=True)
    for index, chunk in enumerate(chunks(plan.items, plan.size), start=1):
        form = signed_params(plan.build(chunk), public_key, private_key)
        report.requests.append(RequestOutcome(index, plan.phones(chunk), None, form, items=chunk))
    return report


@dataclass
class RequestPlan:
    """How a batch becomes requests: chunk ``items`` by ``size``; ``build`` gives the unsigned
    parameters of one request, ``phones`` the numbers it addresses (journal, reports).

    Optional: ``accept`` reclassifies an answer before anything else looks at it (a partial
    success the API reports with a non-zero RetCode); ``refusals`` gives the phones the API
    refused by name in an answer (accepted or not); ``identity`` gives what, besides the
    phones, makes a chunk's content (per-row params) for its journal id."""

    items: Sequence[Any]
    size: int
    build: Callable[[Sequence[Any]], dict[str, Any]]
    phones: Callable[[Sequence[Any]], Sequence[str]]
    refusals: Callable[[ApiResult, Sequence[Any]], dict[str, str]] | None = None
    accept: Callable[[ApiResult], ApiResult] | None = None
    identity: Callable[[Sequence[Any]], Sequence[str]] | None = None


def numbers_plan(message: Message, numbers: Sequence[str]) -> RequestPlan:
    """SendUSMSMessage: one template, up to 1000 numbers per request."""
    return RequestPlan(
        items=numbers,
        size=MAX_NUMBERS_PER_SEND,
        build=lambda chunk: build_send(message, chunk),
        phones=lambda chunk: chunk,
    )


@dataclass
class Control:
    """Set from signal handlers while a batch runs.

    The first Ctrl-C/SIGTERM sets ``stop_signal``: no new request is dispatched, the ones in
    flight are awaited. A second one sets ``abort``: stop waiting at once; requests still in
    flight are recorded as ``unknown``.
    """

    stop_signal: int | None = None
    abort: bool = False


def send(
    client: Client,
    message: Message,
    recipients: Recipients,
    public_key: str,
    private_key: str,
    *,
    numbers: Sequence[str] | None = None,
    concurrency: int = 1,
    journal: Writer | None = None,
    control: Control | None = None,
    progress: Callable[[RequestOutcome, int], None] | None = None,
    plan: RequestPlan | None = None,
) -> SendReport:
    """Send ``numbers`` (default: all recipients) in requests of at most 1000, or whatever
    ``plan`` describes (see :class:`RequestPlan`).

    Up to ``concurrency`` requests are in flight at once; results are journalled and reported
    in input order. Stops dispatching when an answer means the rest would fail the same way
    (bad key, template, signature, balance) or the API cannot be reached; those chunks are
    ``not_sent``. See :class:`Control` for interruption.
    """
    import queue
    import signal
    import threading

    from usms_cli.engine.client import ApiResult

    control = control or Control()
    if plan is None:
        plan = numbers_plan(message, recipients.numbers if numbers is None else numbers)
    identity = plan.identity

    def chunk_id(fp: str, index: int) -> str:
        from usms_cli.engine.journal import chunk_id as journal_chunk_id

        content = identity(pieces[index]) if identity is not None else None
        return journal_chunk_id(fp, phones_of[index], content)

    pieces = list(chunks(plan.items, plan.size))
    phones_of = [list(plan.phones(piece)) for piece in pieces]
    report = SendReport(message, recipients)
    total = len(pieces)
    message_fp = ""
    if journal is not None:
        message_fp = journal.fingerprint
    tasks: queue.Queue[tuple[int, dict[str, str]] | None] = queue.Queue()
    results: queue.Queue[tuple[int, ApiResult]] = queue.Queue()

    def work() -> None:
        while True:
            item = tasks.get()
            if item is None:
                return
            index, form = item
            try:
                result = client.call(form, idempotent=False)
            except Exception as exc:  # a bug must not lose the outcome of a request
                result = ApiResult("unknown", error=f"internal error ({type(exc).__name__})")
            results.put((index, result))

    workers = [
        threading.Thread(target=work, name=f"usms-send-{n}", daemon=True)
        for n in range(max(1, min(concurrency, total)))
    ]
    for worker in workers:
        worker.start()

    done: dict[int, RequestOutcome] = {}
    ids: dict[int, str] = {}
    in_flight: set[int] = set()
    next_dispatch = 0
    next_write = 0
    stop_reason: str | None = None

    def journal_failed() -> None:
        """The journal cannot be written (a full disk): send nothing more, let the requests
        in flight finish; their outcomes stay in the report and in ``journal.unrecorded``."""
        nonlocal stop_reason
        stop_reason = stop_reason or JOURNAL_STOP

    def finish(index: int, result: ApiResult) -> None:
        nonlocal next_write
        refused: dict[str, str] = {}
        if plan.refusals is not None and result.status in ("accepted", "rejected"):
            refused = plan.refusals(result, pieces[index])
        done[index] = RequestOutcome(
            index + 1, phones_of[index], result, refused=refused, items=pieces[index]
        )
        while next_write in done:
            outcome = done.pop(next_write)
            if journal is not None and outcome.result is not None:
                r = outcome.result
                recorded = journal.result(
                    ids.get(next_write) or chunk_id(message_fp, next_write),
                    outcome.index,
                    outcome.numbers,
                    r.status,
                    r.ret_code,
                    r.message,
                    outcome.session_no,
                    r.request_id,
                    r.error,
                    refused=outcome.refused,
                )
                if not recorded:
                    journal_failed()
            report.requests.append(outcome)
            if progress is not None:
                progress(outcome, total)
            next_write += 1

    try:
        while True:
            while (
                next_dispatch < total
                and len(in_flight) < max(1, concurrency)
                and control.stop_signal is None
            ):
                index = next_dispatch
                next_dispatch += 1
                if stop_reason is not None:
                    finish(index, ApiResult("not_sent", error=stop_reason, skipped=True))
                    continue
                form = signed_params(plan.build(pieces[index]), public_key, private_key)
                if journal is not None:
                    ids[index] = chunk_id(message_fp, index)
                    if not journal.sending(ids[index], index + 1, phones_of[index]):
                        journal_failed()
                        finish(index, ApiResult("not_sent", error=stop_reason, skipped=True))
                        continue
                in_flight.add(index)
                tasks.put((index, form))
            if not in_flight and (next_dispatch >= total or control.stop_signal is not None):
                break
            if control.abort:
                break
            try:
                index, result = results.get(timeout=0.1)
            except queue.Empty:
                continue
            in_flight.discard(index)
            if plan.accept is not None:
                result = plan.accept(result)
            if result.status == "not_sent" and stop_reason is None:
                stop_reason = f"not sent: an earlier request failed ({result.error})"
            elif result.status == "rejected" and result.ret_code in STOP_BATCH:
                stop_reason = (
                    f"not sent: an earlier request was refused with RetCode {result.ret_code}"
                )
            finish(index, result)
    except KeyboardInterrupt:  # no signal handler installed (not the main thread)
        control.stop_signal = control.stop_signal or signal.SIGINT
        control.abort = True
    for index in sorted(in_flight):
        finish(
            index,
            ApiResult("unknown", error="the run was aborted while this request was in flight"),
        )
    for index in range(next_dispatch, total):
        finish(index, ApiResult("not_sent", error="not sent: interrupted", skipped=True))
    for _ in workers:
        tasks.put(None)
    if control.stop_signal is not None:
        report.interrupted_by = control.stop_signal
    if journal is not None:
        report.journal_failure = journal.failure
    return report
