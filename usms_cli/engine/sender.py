"""Sending a message to many recipients: chunk, sign, call concurrently, classify, and record
every request in input order (journal, history) before and after it is sent.

No printing here: progress and verbose lines go to the callables the caller passes in. The
never-send-twice rules live here: a request is journalled as ``sending`` before it is handed
to a worker; an answer that never came back is ``unknown``; a batch stops dispatching when an
answer means the rest would fail the same way, when the journal cannot be written, or on a
signal (see :class:`Control`).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from usms_cli.core.api import Message, chunks
from usms_cli.core.codes import STOP_BATCH
from usms_cli.core.plan import RequestPlan, numbers_plan
from usms_cli.core.results import ApiResult, RequestOutcome, SendReport
from usms_cli.core.signing import signed_params
from usms_cli.engine.phrases import Phrase
from usms_cli.i18n import N_

if TYPE_CHECKING:
    from usms_cli.core.phones import Recipients
    from usms_cli.engine.client import Client
    from usms_cli.engine.journal import Writer

# Why the rest of a batch is not sent when the journal cannot be written.
JOURNAL_STOP = Phrase(N_("not sent: the journal could not be written"))


@dataclass
class Control:
    """Set from signal handlers while a batch runs.

    The first Ctrl-C/SIGTERM sets ``stop_signal``: no new request is dispatched, the ones in
    flight are awaited. A second one sets ``abort``: stop waiting at once; requests still in
    flight are recorded as ``unknown``.
    """

    stop_signal: int | None = None
    abort: bool = False


class Recorder(Protocol):
    """Something else that records each request as the batch goes (the send history). It is
    called from the dispatching thread only, in input order; it must not raise."""

    def before(self, index: int, phones: Sequence[str]) -> None: ...

    def after(self, outcome: RequestOutcome) -> None: ...


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
    recorder: Recorder | None = None,
) -> SendReport:
    """Send all recipients in requests of at most 1000, or whatever ``plan`` describes (see
    :class:`RequestPlan`).

    Up to ``concurrency`` requests are in flight at once; results are journalled, recorded
    and reported in input order. Stops dispatching when an answer means the rest would fail
    the same way (bad key, template, signature, balance), the API cannot be reached, or the
    journal cannot be written; those chunks are ``not_sent``. See :class:`Control` for
    interruption.
    """
    batch = _Batch(
        client,
        (public_key, private_key),
        plan or numbers_plan(message, recipients.numbers),
        SendReport(message, recipients),
        journal,
        recorder,
    )
    return batch.run(max(1, concurrency), control or Control(), progress)


class _Batch:
    """One batch in flight: dispatch in order, collect answers in any order, write them in
    order. Only the dispatching thread touches this object; workers only call the client."""

    def __init__(
        self,
        client: Client,
        keys: tuple[str, str],
        plan: RequestPlan,
        report: SendReport,
        journal: Writer | None,
        recorder: Recorder | None,
    ) -> None:
        self.client, self.keys, self.plan, self.report = client, keys, plan, report
        self.journal, self.recorder = journal, recorder
        self.pieces = list(chunks(plan.items, plan.size))
        self.phones_of = [list(plan.phones(piece)) for piece in self.pieces]
        self.total = len(self.pieces)
        self.done: dict[int, RequestOutcome] = {}
        self.ids: dict[int, str] = {}
        self.in_flight: set[int] = set()
        self.next_dispatch = 0
        self.next_write = 0
        self.stop_reason: str | None = None
        self.tasks: queue.Queue[tuple[int, dict[str, str]] | None] = queue.Queue()
        self.results: queue.Queue[tuple[int, ApiResult]] = queue.Queue()
        self.progress: Callable[[RequestOutcome, int], None] | None = None

    # -- the workers ----------------------------------------------------------------------
    def work(self) -> None:
        while True:
            item = self.tasks.get()
            if item is None:
                return
            index, form = item
            try:
                result = self.client.call(form, tag=f"[{index + 1}/{self.total}]")
            except Exception as exc:  # a bug must not lose the outcome of a request
                error = Phrase(N_("internal error ({kind})"), kind=type(exc).__name__)
                result = ApiResult("unknown", error=error)
            self.results.put((index, result))

    # -- the dispatching thread -----------------------------------------------------------
    def run(
        self,
        concurrency: int,
        control: Control,
        progress: Callable[[RequestOutcome, int], None] | None,
    ) -> SendReport:
        import signal

        self.progress = progress
        workers = [
            threading.Thread(target=self.work, name=f"usms-send-{n}", daemon=True)
            for n in range(max(1, min(concurrency, self.total)))
        ]
        for worker in workers:
            worker.start()
        try:
            self.loop(concurrency, control)
        except KeyboardInterrupt:  # no signal handler installed (not the main thread)
            control.stop_signal = control.stop_signal or signal.SIGINT
            control.abort = True
        for index in sorted(self.in_flight):
            error = "the run was aborted while this request was in flight"
            self.finish(index, ApiResult("unknown", error=error))
        for index in range(self.next_dispatch, self.total):
            self.finish(index, ApiResult("not_sent", error="not sent: interrupted", skipped=True))
        for _ in workers:
            self.tasks.put(None)
        if control.stop_signal is not None:
            self.report.interrupted_by = control.stop_signal
        if self.journal is not None:
            self.report.journal_failure = self.journal.failure
        return self.report

    def loop(self, concurrency: int, control: Control) -> None:
        while True:
            while (
                self.next_dispatch < self.total
                and len(self.in_flight) < concurrency
                and control.stop_signal is None
            ):
                self.dispatch(self.next_dispatch)
            dispatched_all = self.next_dispatch >= self.total
            if not self.in_flight and (dispatched_all or control.stop_signal is not None):
                return
            if control.abort:
                return
            try:
                index, result = self.results.get(timeout=0.1)
            except queue.Empty:
                continue
            self.in_flight.discard(index)
            self.answered(index, result)

    def dispatch(self, index: int) -> None:
        """Send request ``index``, or record why it is not sent."""
        self.next_dispatch = index + 1
        if self.stop_reason is not None:
            self.finish(index, ApiResult("not_sent", error=self.stop_reason, skipped=True))
            return
        form = signed_params(self.plan.build(self.pieces[index]), *self.keys)
        if self.journal is not None:
            self.ids[index] = self.chunk_id(index)
            if not self.journal.sending(self.ids[index], index + 1, self.phones_of[index]):
                self.stop_reason = self.stop_reason or JOURNAL_STOP
                self.finish(index, ApiResult("not_sent", error=self.stop_reason, skipped=True))
                return
        if self.recorder is not None:
            self.recorder.before(index + 1, self.phones_of[index])
        self.in_flight.add(index)
        self.tasks.put((index, form))

    def answered(self, index: int, result: ApiResult) -> None:
        if self.plan.accept is not None:
            result = self.plan.accept(result)
        if result.status == "not_sent" and self.stop_reason is None:
            self.stop_reason = Phrase(
                N_("not sent: an earlier request failed ({why})"), why=result.error
            )
        elif result.status == "rejected" and result.ret_code in STOP_BATCH:
            self.stop_reason = Phrase(
                N_("not sent: an earlier request was refused with RetCode {code}"),
                code=result.ret_code,
            )
        self.finish(index, result)

    def finish(self, index: int, result: ApiResult) -> None:
        """Keep the outcome of ``index``; write every outcome that is next in input order."""
        refused: dict[str, str] = {}
        if self.plan.refusals is not None and result.status in ("accepted", "rejected"):
            refused = self.plan.refusals(result, self.pieces[index])
        self.done[index] = RequestOutcome(
            index + 1, self.phones_of[index], result, refused=refused, items=self.pieces[index]
        )
        while self.next_write in self.done:
            outcome = self.done.pop(self.next_write)
            self.write(self.next_write, outcome)
            self.report.requests.append(outcome)
            if self.progress is not None:
                self.progress(outcome, self.total)
            self.next_write += 1

    def write(self, index: int, outcome: RequestOutcome) -> None:
        if self.recorder is not None and outcome.result is not None:
            self.recorder.after(outcome)
        if self.journal is None or outcome.result is None:
            return
        r = outcome.result
        recorded = self.journal.result(
            self.ids.get(index) or self.chunk_id(index),
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
        if not recorded:  # a full disk: send nothing more; those in flight finish
            self.stop_reason = self.stop_reason or JOURNAL_STOP

    def chunk_id(self, index: int) -> str:
        from usms_cli.engine.journal import chunk_id

        assert self.journal is not None
        identity: Any = self.plan.identity
        content = identity(self.pieces[index]) if identity is not None else None
        return chunk_id(self.journal.fingerprint, self.phones_of[index], content)
