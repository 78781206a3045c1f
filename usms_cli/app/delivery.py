"""Delivering a send: the journal (resume, one writer), signals (graceful stop, then abort),
the progress bar, and the --failed-out files."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from usms_cli.i18n import tr, tr_n

if TYPE_CHECKING:
    from usms_cli.app.job import Job
    from usms_cli.app.request import SendRequest
    from usms_cli.core.csvbatch import Table
    from usms_cli.core.results import SendReport
    from usms_cli.engine.client import Client
    from usms_cli.engine.sender import Recorder
    from usms_cli.output.console import Output


def deliver(
    output: Output,
    job: Job,
    keys: tuple[str, str],
    client: Client,
    options: SendRequest,
    recorder: Recorder | None = None,
) -> SendReport:
    """Send (journal, signals, progress bar), then write --failed-out."""
    from usms_cli.engine.sender import Control, send

    to_send: Sequence[str] = job.recipients.numbers
    done: list[str] = []
    held: list[str] = []
    writer = None
    if options.journal is not None:
        to_send, done, held, writer = _open_journal(output, options.journal, job, options)
    plan = job.plan(to_send)
    control = Control()
    try:
        with (
            _signals_stop(control, output),
            output.progress(-(-len(plan.items) // plan.size)) as advance,
        ):
            report = send(
                client,
                job.message,
                job.recipients,
                *keys,
                concurrency=options.concurrency,
                journal=writer,
                control=control,
                progress=advance,
                plan=plan,
                recorder=recorder,
            )
    finally:
        if writer is not None:
            writer.close()
    report.previously_accepted = done
    report.held_back = held
    report.columns = job.columns
    if writer is not None:
        from usms_cli.engine.journal import failure_report

        failure = failure_report(writer)
        if failure is not None:
            output.error(*failure)
    if options.failed_out is not None:
        if job.table is None:
            _write_failed_out(options.failed_out, report)
        else:
            _write_failed_rows(output, options.failed_out, report, job.table)
    return report


def _open_journal(
    output: Output, path: Path, job: Job, options: SendRequest
) -> tuple[list[str], list[str], list[str], Any]:
    """(to send, already accepted, held back, writer) for a run with --journal."""
    from usms_cli import __version__
    from usms_cli.engine import journal as journal_module

    state, writer = journal_module.open_run(
        path, job.message, job.columns, tool=f"usms-cli/{__version__}", wait_lock=options.wait_lock
    )
    if state.torn_last_line:
        output.warn(
            tr(
                "{path}: the last line is incomplete (an earlier run was killed while "
                "writing it); that request is treated as unknown",
                path=path,
            )
        )
    to_send, done, held = journal_module.split_for_resume(
        job.recipients.numbers, state, resend_unknown=options.resend_unknown
    )
    if done:
        output.info(
            tr_n(
                "Journal: {n:,} number already accepted in an earlier run; not sending them again.",
                "Journal: {n:,} numbers already accepted in an earlier run; not sending them "
                "again.",
                len(done),
                n=len(done),
            )
        )
    if not to_send:  # said even with -q: the run is over before it starts
        output.err.line(f"usms: {journal_module.nothing_left(done, held)}")
    return to_send, done, held, writer


class _signals_stop:  # noqa: N801 - used as a context manager
    """While a batch runs, turn SIGINT/SIGTERM into a graceful stop (first) or abort (second)."""

    def __init__(self, control: Any, output: Output) -> None:
        self.control = control
        self.output = output
        self.previous: dict[int, Any] = {}

    def handle(self, signum: int, frame: object) -> None:
        if self.control.stop_signal is None:
            self.control.stop_signal = signum
            self.output.err.line(
                tr(
                    "usms: stopping: no new requests; waiting for those in flight "
                    "(press Ctrl-C again to quit at once; they will be recorded as unknown)"
                ),
                "yellow",
            )
        else:
            self.control.abort = True

    def __enter__(self) -> None:
        import signal
        import threading

        if threading.current_thread() is not threading.main_thread():
            return
        for signum in (signal.SIGINT, signal.SIGTERM):
            self.previous[signum] = signal.signal(signum, self.handle)

    def __exit__(self, *exc: object) -> None:
        import signal

        for signum, handler in self.previous.items():
            signal.signal(signum, handler)


def _write_failed_out(path: Path, report: Any) -> None:
    """Numbers not accepted, one per line (the format -f reads). Numbers whose outcome is
    unknown are listed only as comments: they may already have the message."""
    lines = ["# usms send --failed-out: numbers that were not accepted; send again with -f"]
    unknown: list[str] = list(report.held_back)
    for outcome in report.requests:
        if outcome.status in ("rejected", "not_sent"):
            reason = outcome.result.error or f"RetCode {outcome.result.ret_code}"
            lines.append(f"# request {outcome.index}: {reason}")
            lines.extend(outcome.numbers)
        elif outcome.status == "unknown":
            unknown.extend(outcome.numbers)
        elif outcome.refused:
            lines.append(f"# request {outcome.index}: refused inside an accepted request")
            lines.extend(outcome.refused)
    if unknown:
        lines.append("# outcome UNKNOWN (may already have the message), not resent by -f:")
        lines.extend(f"# {number}" for number in unknown)
    _write_text(path, "\n".join(lines) + "\n" if len(lines) > 1 else "")  # empty: all accepted


def _write_failed_rows(output: Output, path: Path, report: SendReport, table: Table) -> None:
    """The CSV rows not accepted, under the same header, ready for --csv again. Rows whose
    outcome is unknown are left out (they may already have the message), with a warning."""
    from usms_cli.core.csvbatch import Row, format_rows

    failed: list[Row] = []
    unknown = len(report.held_back)
    for outcome in report.requests:
        rows: Sequence[Row] = outcome.items
        if outcome.status in ("rejected", "not_sent"):
            failed.extend(rows)
        elif outcome.status == "unknown":
            unknown += len(rows)
        else:
            failed.extend(row for row in rows if row.phone in outcome.refused)
    everything_accepted = not failed and not unknown
    _write_text(
        path, "" if everything_accepted else format_rows(table.header, failed, bom=table.bom)
    )
    if unknown:
        output.warn(
            tr_n(
                "--failed-out {path}: {n:,} row with an UNKNOWN outcome left out "
                "(they may already have the message)",
                "--failed-out {path}: {n:,} rows with an UNKNOWN outcome left out "
                "(they may already have the message)",
                unknown,
                path=path,
                n=unknown,
            )
        )


def _write_text(path: Path, text: str) -> None:
    from usms_cli.output.ci import write

    write(path, text, "--failed-out")
