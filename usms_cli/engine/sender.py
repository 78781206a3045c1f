"""Sending a message to many recipients: chunk, sign, call, classify, decide the exit code.

No printing here: progress and verbose lines go to the callables the caller passes in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from usms_cli.core.api import Message, chunks
from usms_cli.core.codes import STOP_BATCH
from usms_cli.core.plan import RequestPlan, numbers_plan
from usms_cli.core.results import RequestOutcome, SendReport
from usms_cli.core.signing import signed_params

if TYPE_CHECKING:
    from usms_cli.core.phones import Recipients
    from usms_cli.core.results import ApiResult
    from usms_cli.engine.client import Client
    from usms_cli.engine.journal import Writer


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

    from usms_cli.core.results import ApiResult

    control = control or Control()
    if plan is None:
        plan = numbers_plan(message, recipients.numbers)
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
                result = client.call(form, tag=f"[{index + 1}/{total}]")
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
                journal.result(
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
                    journal.sending(ids[index], index + 1, phones_of[index])
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
    return report
