"""Everything a person or a script reads: human text, ``--json``, ``-q``, errors.

stdout carries results; stderr carries progress, warnings and errors. Rich styling is used only
when the stream is a terminal (and ``NO_COLOR`` is unset); otherwise plain lines are written, so
pipes and logs get no escape codes and no re-wrapping. Server text is never treated as markup.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from typing import IO, TYPE_CHECKING, Any

from usms_cli.core import redact
from usms_cli.errors import ExitCode, UsmsError
from usms_cli.phones import Recipients

if TYPE_CHECKING:
    from rich.console import Console

    from usms_cli.send import RequestOutcome, SendReport

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
    ) -> None:
        self.json_mode = json_mode
        self.quiet = quiet
        self.out = Stream(stdout)
        self.err = Stream(stderr, stderr=True)

    # ---- stderr helpers -------------------------------------------------------------------
    def error(self, message: str, hint: str | None = None, details: Sequence[str] = ()) -> None:
        self.err.line(f"{PROG}: error: {message}", "bold red")
        for detail in details:
            self.err.line(f"  {detail}")
        if hint:
            self.err.line(f"  hint: {hint}", "yellow")

    def warn(self, message: str) -> None:
        self.err.line(f"{PROG}: warning: {message}", "yellow")

    def info(self, message: str) -> None:
        if not self.quiet and not self.json_mode:
            self.err.line(message, "dim")

    def verbose(self, message: str) -> None:
        self.err.line(message, "dim")

    def json(self, payload: dict[str, Any]) -> None:
        self.out.file.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
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
        self.error(exc.message, exc.hint, exc.details)


def describe_numbers(numbers: Sequence[str]) -> str:
    count = len(numbers)
    if count == 1:
        return f"1 number ({numbers[0]})"
    return f"{count:,} numbers ({numbers[0]} … {numbers[-1]})"


def plural(count: int, word: str) -> str:
    return f"{count:,} {word}" if count == 1 else f"{count:,} {word}s"


def invalid_details(recipients: Recipients) -> list[str]:
    lines = [item.describe() for item in recipients.invalid]
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
        item["params"] = redact(outcome.form or {})
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


def report_json(report: SendReport) -> dict[str, Any]:
    code = report.exit_code()
    recipients = report.recipients
    message = report.message
    return {
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
                "entry": i.entry.text,
                "source": i.entry.source,
                "line": i.entry.line,
                "reason": i.reason,
            }
            for i in recipients.invalid
        ],
        "request_count": len(report.requests),
        "counts": report.counts(),
        "session_nos": report.session_nos,
        "requests": [_outcome_json(o) for o in report.requests],
    }


def failure_line(outcome: RequestOutcome, total: int) -> tuple[str, str | None]:
    """One plain sentence about a request that was not accepted, plus a hint."""
    from usms_cli.send import HINTS

    result = outcome.result
    assert result is not None
    which = f"request {outcome.index} of {total}" if total > 1 else "the request"
    numbers = describe_numbers(outcome.numbers)
    rid = f" (request id {result.request_id})" if result.request_id else ""
    if result.status == "rejected":
        text = (
            f"{which} to {numbers} was refused by the API: RetCode {result.ret_code}, "
            f"{result.message!r}{rid}"
        )
        return text, HINTS.get(result.ret_code or -1)
    if result.status == "unknown":
        text = (
            f"{which} to {numbers}: outcome UNKNOWN, {result.error}{rid}. These numbers may "
            "or may not get the message; usms did not resend it."
        )
        return text, "check delivery (usms receipt, or the console) before sending to them again"
    text = f"{which} to {numbers} was not sent: {result.error}{rid}"
    hint = HINTS.get(result.ret_code or -1) if result.ret_code else None
    return text, hint


def render_report(output: Output, report: SendReport) -> None:
    if output.json_mode:
        output.json(report_json(report))
    elif output.quiet:
        for sn in report.session_nos:
            output.out.file.write(sn + "\n")
        output.out.file.flush()
    else:
        _human_report(output, report)
    if not report.dry_run:
        total = len(report.requests)
        shown_not_sent = False
        for outcome in report.requests:
            if outcome.status == "accepted":
                continue
            if (
                outcome.status == "not_sent"
                and outcome.result
                and outcome.result.error
                and outcome.result.error.startswith("not sent:")
            ):
                if not shown_not_sent:
                    rest = [
                        o
                        for o in report.requests
                        if o.result
                        and o.status == "not_sent"
                        and (o.result.error or "").startswith("not sent:")
                    ]
                    count = sum(len(o.numbers) for o in rest)
                    output.error(
                        f"{plural(len(rest), 'later request')} ({count:,} numbers) "
                        f"{outcome.result.error}"
                    )
                    shown_not_sent = True
                continue
            text, hint = failure_line(outcome, total)
            output.error(text, hint)
    if report.interrupted:
        output.error("interrupted: no further requests were sent")


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
        params = ", ".join(repr(p) for p in message.params) if message.params else "(none)"
        out.line(f"Params     {params}")
        out.line(f"Numbers    {len(recipients.numbers):,}")
        out.line(f"Requests   {total}")
        for outcome in report.requests:
            out.line(f"  request {outcome.index}: {describe_numbers(outcome.numbers)}")
            form = redact(outcome.form or {})
            body = "&".join(f"{k}={v}" for k, v in form.items() if not k.startswith("PhoneNumbers"))
            out.line(f"    {body}", "dim")
        if len(recipients.numbers) <= 20:
            out.line("Recipients " + " ".join(recipients.numbers))
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
        else:
            out.line("Not sent: no request was accepted.", "bold red")
        for outcome in report.requests:
            if outcome.session_no:
                out.line(
                    f"  SessionNo {outcome.session_no}  ({plural(len(outcome.numbers), 'number')})"
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
        out.line(
            f"Skipped {plural(recipients.invalid_count, 'invalid entry')}".replace(
                "entrys", "entries"
            )
            + ":"
        )
        for line in invalid_details(recipients):
            out.line(f"  {line}")
