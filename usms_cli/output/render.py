"""Everything a person or a script reads: human text, ``--json``, ``-q``, errors.

stdout carries results; stderr carries progress, warnings and errors. Rich styling is used only
when the stream is a terminal (and ``NO_COLOR`` is unset); otherwise plain lines are written, so
pipes and logs get no escape codes and no re-wrapping. Server text is never treated as markup.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import IO, TYPE_CHECKING, Any

from usms_cli.core.api import redact
from usms_cli.core.errors import ExitCode, UsmsError
from usms_cli.core.privacy import Masker, mask_digits

if TYPE_CHECKING:
    from rich.console import Console

    from usms_cli.core.cost import Cost
    from usms_cli.core.phones import Recipients
    from usms_cli.core.receipts import ReceiptState
    from usms_cli.engine.client import ApiResult
    from usms_cli.engine.sender import RequestOutcome, SendReport

PROG = "usms"


class Stream:
    """One output stream: rich when it is a terminal, plain text otherwise."""

    def __init__(self, file: IO[str] | None = None, *, stderr: bool = False) -> None:
        self._file = file
        self._stderr = stderr
        self._console: Console | None = None

    @property
    def file(self) -> IO[str]:
        if self._file is not None:
            return self._file
        return sys.stderr if self._stderr else sys.stdout

    @property
    def is_terminal(self) -> bool:
        try:
            return self.file.isatty()
        except (AttributeError, ValueError):
            return False

    @property
    def styled(self) -> bool:
        return (
            self.is_terminal and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"
        )

    def console(self) -> Console:
        if self._console is None:
            from rich.console import Console

            self._console = Console(file=self.file, highlight=False, soft_wrap=True)
        return self._console

    def line(self, text: str = "", style: str | None = None) -> None:
        if self.styled and style:
            from rich.text import Text

            self.console().print(Text(text, style=style))
        else:
            self.file.write(text + "\n")
            self.file.flush()


class Output:
    """The pair of streams plus the chosen mode (human, json, quiet)."""

    def __init__(
        self,
        *,
        json_mode: bool = False,
        quiet: bool = False,
        stdout: IO[str] | None = None,
        stderr: IO[str] | None = None,
        masker: Masker | None = None,
    ) -> None:
        self.json_mode = json_mode
        # What human output may show: masked phone numbers and params unless --show-pii.
        self.masker = masker or Masker()
        self.quiet = quiet
        self.out = Stream(stdout)
        self.err = Stream(stderr, stderr=True)
        self.capture_json = False  # keep the JSON payload in ``captured`` instead of printing
        self.captured: dict[str, Any] | None = None
        self.silent = False  # print nothing on stdout (a step inside another command)
        self.github = False  # in GitHub Actions: ::add-mask:: and ::error:: workflow commands
        self.keep_report = False  # keep the --json-shaped report in ``report_payload``
        self.report_payload: dict[str, Any] | None = None

    # ---- stderr helpers -------------------------------------------------------------------
    def safe(self, text: str) -> str:
        """Free text for a person: digit runs that may be phone numbers masked (no --show-pii)."""
        return text if self.masker.show_pii else mask_digits(text)

    def add_masks(self, values: Iterable[str]) -> None:
        """In GitHub Actions, ask the runner to mask these values in every log line."""
        if self.github:
            from usms_cli.output.ci import add_mask_lines

            lines = add_mask_lines(values)
            if lines:
                self.err.file.write("\n".join(lines) + "\n")
                self.err.file.flush()

    def error(
        self,
        message: str,
        hint: str | None = None,
        details: Sequence[str] = (),
        *,
        verbatim: bool = False,
    ) -> None:
        """``verbatim``: the message holds no personal data; its digits are shown unmasked."""
        shown = message if verbatim else self.safe(message)
        if self.github:
            from usms_cli.output.ci import error_annotation

            self.err.line(error_annotation(shown))
        self.err.line(f"{PROG}: error: {shown}", "bold red")
        for detail in details:
            self.err.line(self.safe(f"  {detail}"))
        if hint:
            self.err.line(f"  hint: {hint}", "yellow")

    def warn(self, message: str) -> None:
        self.err.line(self.safe(f"{PROG}: warning: {message}"), "yellow")

    def info(self, message: str) -> None:
        if not self.quiet and not self.json_mode:
            self.err.line(self.safe(message), "dim")

    def verbose(self, message: str) -> None:
        self.err.line(self.safe(message), "dim")

    def phones(self, numbers: Sequence[str]) -> list[str]:
        return [self.masker.phone(n) for n in numbers]

    def progress(self, total_requests: int) -> ProgressBar:
        """A progress bar on stderr when it is a terminal and the batch has several requests."""
        enabled = self.err.is_terminal and total_requests > 1 and not self.quiet
        return ProgressBar(self.err if enabled else None, total_requests)

    def status_line(self) -> StatusLine:
        """A live one-line status on stderr when it is a terminal; silent otherwise."""
        enabled = self.err.is_terminal and not self.json_mode and not self.quiet
        return StatusLine(self.err if enabled else None)

    def json(self, payload: dict[str, Any]) -> None:
        if self.capture_json:
            self.captured = payload
            return
        # Indented for a person at a terminal; compact (and C-encoded, fast) for pipes.
        indent = 2 if self.out.is_terminal else None
        json.dump(payload, self.out.file, ensure_ascii=False, indent=indent)
        self.out.file.write("\n")
        self.out.file.flush()

    # ---- failures before sending ----------------------------------------------------------
    def usms_error(self, exc: UsmsError) -> None:
        if self.json_mode:
            self.json(
                {
                    "ok": False,
                    "exit_code": int(exc.exit_code),
                    "error": exc.message,
                    "hint": exc.hint,
                    "details": exc.details,
                }
            )
        self.error(exc.message, exc.hint, exc.details, verbatim=exc.verbatim)


class ProgressBar:
    """Context manager yielding ``advance(outcome, total)``; a rich bar, or nothing."""

    def __init__(self, stream: Stream | None, total: int) -> None:
        self._stream = stream
        self._total = total
        self._progress: Any = None
        self._task: Any = None
        self._counts = {"accepted": 0, "rejected": 0, "unknown": 0, "not_sent": 0}

    def __enter__(self) -> Callable[[Any, int], None]:
        if self._stream is not None:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self._progress = Progress(
                TextColumn("Sending"),
                BarColumn(),
                MofNCompleteColumn(),
                TextColumn("requests · {task.fields[counts]} · {task.fields[rate]}"),
                TimeElapsedColumn(),
                TextColumn("ETA"),
                TimeRemainingColumn(),
                console=self._stream.console(),
                transient=False,
            )
            self._task = self._progress.add_task("send", total=self._total, counts="", rate="")
            self._progress.start()
        return self.advance

    def advance(self, outcome: Any, total: int) -> None:
        if self._progress is None:
            return
        if outcome.result is not None:
            refused = len(outcome.refused)
            self._counts[outcome.result.status] += len(outcome.numbers) - refused
            self._counts["rejected"] += refused
        c = self._counts
        counts = f"{c['accepted']:,} accepted, {c['rejected'] + c['not_sent']:,} not, "
        counts += f"{c['unknown']:,} unknown"
        task = self._progress.tasks[0]
        elapsed = task.elapsed or 0.0
        rate = f"{(task.completed + 1) / elapsed:.1f} req/s" if elapsed > 0 else ""
        self._progress.update(self._task, advance=1, counts=counts, rate=rate)

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()


class StatusLine:
    """Context manager yielding ``update(text)``; a rich spinner line, or nothing."""

    def __init__(self, stream: Stream | None) -> None:
        self._stream = stream
        self._status: Any = None

    def __enter__(self) -> Callable[[str], None]:
        if self._stream is not None:
            self._status = self._stream.console().status("")
            self._status.start()
        return self.update

    def update(self, text: str) -> None:
        if self._status is not None:
            self._status.update(text)

    def __exit__(self, *exc: object) -> None:
        if self._status is not None:
            self._status.stop()


def shorten(text: str, limit: int = 40) -> str:
    from usms_cli.core.phones import shorten as _shorten

    return _shorten(text, limit)


def describe_numbers(numbers: Sequence[str], masker: Masker | None = None) -> str:
    """``1 number (138****8000)``; the numbers are masked unless ``masker`` shows PII."""
    show = (masker or Masker()).phone
    count = len(numbers)
    if count == 1:
        return f"1 number ({show(numbers[0])})"
    return f"{count:,} numbers ({show(numbers[0])} … {show(numbers[-1])})"


def plural(count: int, word: str, many: str | None = None) -> str:
    return f"{count:,} {word}" if count == 1 else f"{count:,} {many or word + 's'}"


def invalid_details(recipients: Recipients, masker: Masker | None = None) -> list[str]:
    """The invalid entries as they may be quoted; digit runs masked unless ``masker`` shows PII.
    (The full text stays in ``--json``'s ``invalid`` list.)"""
    mask = mask_digits if masker is not None and not masker.show_pii else None
    lines = [item.describe(mask) for item in recipients.invalid]
    hidden = recipients.invalid_count - len(recipients.invalid)
    if hidden > 0:
        lines.append(f"… and {hidden:,} more invalid entries")
    return lines


def _outcome_json(outcome: RequestOutcome) -> dict[str, Any]:
    result = outcome.result
    item: dict[str, Any] = {
        "index": outcome.index,
        "count": len(outcome.numbers),
        "numbers": list(outcome.numbers),
        "status": outcome.status,
    }
    if result is None:
        item["params"] = shown_params(outcome.form or {})
        return item
    item.update(
        {
            "RetCode": result.ret_code,
            "Message": result.message,
            "SessionNo": outcome.session_no,
            "request_id": result.request_id,
            "http_status": result.http_status,
            "attempts": result.attempts,
            "error": result.error,
        }
    )
    return item


SHOWN_REQUESTS = 5
SHOWN_SESSIONS = 10  # human output; -q and --json always list every SessionNo


def shown_params(form: Mapping[str, str], masker: Masker | None = None) -> dict[str, str]:
    """A signed form as it may be shown: redacted, without the PhoneNumbers.N keys (the
    numbers are listed on their own); params and TaskContent masked for a person."""
    mask_pii = masker is not None and not masker.show_pii
    shown = redact(dict(form), mask_pii=mask_pii)
    return {k: v for k, v in shown.items() if not k.startswith("PhoneNumbers.")}


def report_json(report: SendReport, exit_code: ExitCode | None = None) -> dict[str, Any]:
    code = report.exit_code() if exit_code is None else exit_code
    recipients = report.recipients
    message = report.message
    payload = {
        "ok": code == ExitCode.OK,
        "exit_code": int(code),
        "dry_run": report.dry_run,
        "interrupted": report.interrupted,
        "template_id": message.template_id,
        "sig_content": message.sig_content,
        "recipients": len(recipients.numbers),
        "duplicates_removed": recipients.duplicates,
        "invalid_count": recipients.invalid_count,
        "invalid": [
            {
                "entry": shorten(i.entry.text),
                "source": i.entry.source,
                "line": i.entry.line,
                "reason": i.reason,
            }
            for i in recipients.invalid
        ],
        "request_count": len(report.requests),
        "counts": report.counts(),
        "previously_accepted": len(report.previously_accepted),
        "held_back": list(report.held_back),
        "session_nos": report.session_nos,
        "refused": [
            {"phone": phone, "reason": reason, "request": index}
            for phone, reason, index in report.refused()
        ],
        "requests": [_outcome_json(o) for o in report.requests],
    }
    if report.columns is not None:
        payload["columns"] = report.columns
    return payload


def request_id(result: ApiResult) -> str:
    """`` (request id …)`` when the API gave one, for error messages."""
    return f" (request id {result.request_id})" if result.request_id else ""


def refusal(result: ApiResult, subject: str) -> tuple[str, str | None]:
    """ "<subject> was refused by the API: RetCode N, 'message' (request id …)", and a hint."""
    from usms_cli.engine.sender import HINTS

    text = (
        f"{subject} was refused by the API: RetCode {result.ret_code}, "
        f"{result.message!r}{request_id(result)}"
    )
    return text, HINTS.get(result.ret_code or -1)


def failure_line(
    outcome: RequestOutcome, total: int, masker: Masker | None = None
) -> tuple[str, str | None]:
    """One plain sentence about a request that was not accepted, plus a hint."""
    from usms_cli.engine.sender import HINTS

    result = outcome.result
    assert result is not None
    which = f"request {outcome.index} of {total}" if total > 1 else "the request"
    numbers = describe_numbers(outcome.numbers, masker)
    rid = request_id(result)
    if result.status == "rejected":
        return refusal(result, f"{which} to {numbers}")
    if result.status == "unknown":
        text = (
            f"{which} to {numbers}: outcome UNKNOWN, {result.error}{rid}. These numbers may "
            "or may not get the message; usms did not resend it."
        )
        return text, "check delivery (usms receipt, or the console) before sending to them again"
    text = f"{which} to {numbers} was not sent: {result.error}{rid}"
    hint = HINTS.get(result.ret_code or -1) if result.ret_code else None
    return text, hint


def render_report(
    output: Output,
    report: SendReport,
    *,
    extra: Mapping[str, Any] | None = None,
    exit_code: ExitCode | None = None,
) -> None:
    if output.json_mode or output.keep_report:
        payload = report_json(report, exit_code)
        payload.update(extra or {})
        output.report_payload = payload
    if output.json_mode:
        output.json(payload)
    elif output.quiet:
        for sn in report.session_nos:
            output.out.file.write(sn + "\n")
        output.out.file.flush()
    else:
        _human_report(output, report)
    if not report.dry_run:
        for outcome in report.requests:
            if outcome.status == "accepted" and outcome.session_no is None:
                output.warn(
                    f"request {outcome.index} ({plural(len(outcome.numbers), 'number')}) was "
                    "accepted, but the API gave no usable SessionNo: receipts cannot be looked "
                    "up for it"
                )
        _report_refused(output, report)
        total = len(report.requests)
        shown_not_sent = False
        for outcome in report.requests:
            if outcome.status == "accepted":
                continue
            if outcome.result is not None and outcome.result.skipped:
                if not shown_not_sent:
                    rest = [o for o in report.requests if o.result and o.result.skipped]
                    count = sum(len(o.numbers) for o in rest)
                    output.error(
                        f"{plural(len(rest), 'later request')} ({count:,} numbers) "
                        f"{outcome.result.error}"
                    )
                    shown_not_sent = True
                continue
            text, hint = failure_line(outcome, total, output.masker)
            output.error(text, hint)
    if report.held_back:
        output.error(
            f"{plural(len(report.held_back), 'number')} held back: their outcome was unknown in an "
            "earlier run (they may already have the message)",
            hint="check delivery with usms receipt; --resend-unknown sends to them again",
        )
    if report.interrupted:
        name = "SIGTERM" if report.interrupted_by == 15 else "Ctrl-C"
        output.error(f"stopped by {name}: no further requests were sent")


SHOWN_REFUSED = 20


def _report_refused(output: Output, report: SendReport) -> None:
    refused = report.refused()
    if not refused:
        return
    details = [
        f"{output.masker.phone(phone)}: {reason} (request {index})"
        for phone, reason, index in refused[:SHOWN_REFUSED]
    ]
    if len(refused) > SHOWN_REFUSED:
        details.append(f"… and {len(refused) - SHOWN_REFUSED:,} more")
    output.error(
        f"the API refused {plural(len(refused), 'recipient')} by name:",
        hint="--failed-out FILE writes them out, ready to send again",
        details=details,
    )


def render_preview(
    output: Output, shown: Sequence[Mapping[str, Any]], total: int, rendered: bool
) -> None:
    """The first rows of a CSV batch as recipients will read them, or their params."""
    if output.json_mode or output.quiet or not shown:
        return
    out = output.out
    masker = output.masker
    if rendered:
        out.line(f"Preview: the first {len(shown)} of {total:,} messages, as recipients read them")
        for item in shown:
            size = f"{item['length']} characters, {item['sms']} SMS"
            out.line(f"  line {item['line']}  {masker.phone(item['phone'])}  ({size})")
            text = masker.text(str(item["text"]), [item["phone"]], item["params"].values())
            out.line(f"    {text}")
        return
    out.line(f"Preview: the params of the first {len(shown)} of {total:,} rows")
    for item in shown:
        params = ", ".join(
            f"{name}={masker.param(value)!r}" for name, value in item["params"].items()
        )
        user = f"  user_id={item['user_id']!r}" if item["user_id"] else ""
        phone = masker.phone(item["phone"])
        out.line(f"  line {item['line']}  {phone}  {params or '(no params)'}{user}")


def render_cost(output: Output, cost: Cost, *, messages: bool = True) -> None:
    """Each distinct message (params masked for a person; not with ``messages=False``, when a
    preview shows them), its length and segments, and the total for the batch."""
    from usms_cli.core.cost import SHOWN_MESSAGES

    if output.json_mode or output.quiet:
        return
    out = output.out
    lines = list(cost.lines.values()) if messages else []
    if lines:
        out.line(f"Messages   {plural(len(lines), 'distinct message')}, as recipients read them")
        for line in lines[:SHOWN_MESSAGES]:
            size = f"{line.length} characters, {plural(line.segments, 'SMS segment')}"
            out.line(f"  {line.shown}")
            out.line(f"    ({size}) × {plural(line.recipients, 'recipient')}", "dim")
    if len(lines) > SHOWN_MESSAGES:
        out.line(f"  … and {len(cost.lines) - SHOWN_MESSAGES:,} more distinct messages")
    out.line(
        f"Cost       {plural(cost.total_segments, 'SMS segment')} in total "
        f"for {plural(cost.recipients, 'recipient')}",
        "bold",
    )


def _brief(value: str, limit: int = 100) -> str:
    return value if len(value) <= limit else f"{value[:60]}…({len(value):,} characters)"


def _human_report(output: Output, report: SendReport) -> None:
    out = output.out
    recipients = report.recipients
    message = report.message
    counts = report.counts()
    total = len(report.requests)
    if report.dry_run:
        out.line("Dry run: nothing was sent.", "bold yellow")
        out.line(f"Template   {message.template_id}")
        out.line(f"Signature  {message.sig_content or '(none)'}")
        if report.columns is not None:
            out.line(f"Columns    {', '.join(report.columns)}")
        else:
            shown = [output.masker.param(p) for p in message.params]
            params = ", ".join(repr(p) for p in shown) if shown else "(none)"
            out.line(f"Params     {params}")
        out.line(f"Numbers    {len(recipients.numbers):,}")
        out.line(f"Requests   {total}")
        for outcome in report.requests[:SHOWN_REQUESTS]:
            numbers = describe_numbers(outcome.numbers, output.masker)
            out.line(f"  request {outcome.index}: {numbers}")
            form = shown_params(outcome.form or {}, output.masker).items()
            body = "&".join(f"{k}={_brief(v)}" for k, v in form)
            out.line(f"    {body}", "dim")
        if total > SHOWN_REQUESTS:
            out.line(f"  … and {total - SHOWN_REQUESTS:,} more requests like these")
        if len(recipients.numbers) <= 20:
            out.line("Recipients " + " ".join(output.phones(recipients.numbers)))
    else:
        accepted = counts["accepted"]
        if accepted and report.exit_code() == ExitCode.OK:
            out.line(
                f"Sent: {plural(accepted, 'recipient')} accepted in {plural(total, 'request')}.",
                "bold green",
            )
        elif accepted:
            out.line(
                f"Partly sent: {accepted:,} of {len(recipients.numbers):,} recipients accepted.",
                "bold yellow",
            )
        elif report.requests:
            out.line("Not sent: no request was accepted.", "bold red")
        else:
            out.line("Nothing to send.", "bold")
        if report.previously_accepted:
            out.line(
                f"  already accepted in an earlier run (journal): "
                f"{plural(len(report.previously_accepted), 'number')}"
            )
        if report.held_back:
            out.line(
                f"  held back (outcome unknown in an earlier run): "
                f"{plural(len(report.held_back), 'number')}",
                "yellow",
            )
        with_session = [o for o in report.requests if o.session_no]
        for outcome in with_session[:SHOWN_SESSIONS]:
            refused = f", {len(outcome.refused):,} refused" if outcome.refused else ""
            count = plural(outcome.accepted_count, "number")
            out.line(f"  SessionNo {outcome.session_no}  ({count}{refused})")
        if len(with_session) > SHOWN_SESSIONS:
            out.line(
                f"  … and {len(with_session) - SHOWN_SESSIONS:,} more SessionNos "
                "(-q or --json lists them all)"
            )
        for status in ("rejected", "unknown", "not_sent"):
            if counts[status]:
                label = status.replace("_", " ")
                out.line(
                    f"  {label}: {plural(counts[status], 'number')}",
                    "red" if status != "unknown" else "yellow",
                )
    if recipients.duplicates:
        out.line(f"Removed {plural(recipients.duplicates, 'duplicate number')}.")
    if recipients.invalid_count:
        count = plural(recipients.invalid_count, "invalid entry", "invalid entries")
        out.line(f"Skipped {count}:")
        for line in invalid_details(recipients, output.masker):
            out.line(f"  {line}")


# ---- receipts and look-ups ------------------------------------------------------------------

RESULT_STYLES = {"delivered": "green", "failed": "bold red", "unknown": "yellow", "pending": "dim"}


def _when(timestamp: int | None) -> str:
    if not timestamp:
        return ""
    import datetime

    moment = datetime.datetime.fromtimestamp(timestamp).astimezone()
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def render_receipts(output: Output, state: ReceiptState, *, waited: bool, timed_out: bool) -> None:
    rows = state.rows()
    counts = state.counts()
    code = state.exit_code()
    if output.json_mode:
        output.json(
            {
                "ok": code == ExitCode.OK,
                "exit_code": int(code),
                "timed_out": timed_out,
                "counts": counts,
                "session_nos": state.session_nos,
                "receipts": [row.as_json() for row in rows],
            }
        )
    elif output.silent:
        pass
    elif output.quiet:
        for row in rows:
            output.out.file.write(f"{row.phone}\t{row.result}\n")
        output.out.file.flush()
    else:
        _receipt_table(output, rows)
        summary = ", ".join(f"{counts[k]:,} {k}" for k in counts if counts[k])
        output.out.line(f"Receipts: {summary or 'none yet'}.")
    if timed_out:
        output.error(
            f"gave up waiting: {counts['pending'] + counts['unknown']:,} phone(s) have no final "
            "receipt yet",
            hint="real receipts can take minutes; ask again later with usms receipt SESSION_NO",
        )
    elif not waited and (counts["pending"] or counts["unknown"]):
        output.info("Some receipts are not final yet; --wait polls until they are.")


def _receipt_table(output: Output, rows: Sequence[Any]) -> None:
    headers = ("Phone", "Result", "Code", "Description", "Time", "Billed")
    cells = [
        (
            output.masker.phone(r.phone) if r.phone else "(no receipts yet)",
            r.result,
            r.code,
            r.description,
            _when(r.time),
            "" if r.cost is None else str(r.cost),
        )
        for r in rows
    ]
    if output.out.styled:
        from rich.table import Table
        from rich.text import Text

        table = Table(*headers, header_style="bold", box=None, pad_edge=False)
        for row, cell in zip(rows, cells, strict=True):
            table.add_row(
                Text(cell[0]),
                Text(cell[1], style=RESULT_STYLES.get(row.result, "")),
                *(Text(c) for c in cell[2:]),
            )
        output.out.console().print(table)
        return
    widths = [max(width(h), *(width(c[i]) for c in cells)) for i, h in enumerate(headers)]
    for line in (headers, *cells):
        padded = (v + " " * (w - width(v)) for v, w in zip(line, widths, strict=True))
        output.out.line("  ".join(padded).rstrip())


def width(text: str) -> int:
    """Terminal columns: East Asian wide and full-width characters take two."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def render_lookup(output: Output, kind: str, data: Mapping[str, Any]) -> None:
    from usms_cli.core.receipts import approved, describe_lookup

    ok = approved(data)
    rows = describe_lookup(kind, data)
    if output.json_mode:
        words = dict(rows).get("Status", "")
        output.json(
            {
                "ok": ok,
                "exit_code": 0 if ok else 1,
                "kind": kind,
                "approved": ok,
                "status": words,
                "data": dict(data),
            }
        )
        return
    if output.quiet:
        output.out.line(dict(rows).get("Status", ""))
        return
    column = max(len(label) for label, _ in rows)
    for label, value in rows:
        style = None
        if label == "Status":
            style = "bold green" if ok else "bold red"
        output.out.line(f"{label.ljust(column)}  {value}", style)
    if not ok:
        output.error(f"the {kind} is not approved; sends using it will be refused")
