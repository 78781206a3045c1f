"""Everything a person or a script reads: human text, ``--json``, ``-q``, errors.

stdout carries results; stderr carries progress, warnings and errors. Rich styling is used only
when the stream is a terminal (and ``NO_COLOR`` is unset); otherwise plain lines are written, so
pipes and logs get no escape codes and no re-wrapping. Server text is never treated as markup.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from usms_cli.core.api import redact
from usms_cli.core.errors import ExitCode
from usms_cli.core.privacy import Masker, mask_entry
from usms_cli.core.results import refusal, request_id_text
from usms_cli.core.text import plural, shorten, width
from usms_cli.output.console import Output

if TYPE_CHECKING:
    from usms_cli.core.cost import Cost
    from usms_cli.core.phones import Recipients
    from usms_cli.core.receipts import ReceiptState
    from usms_cli.core.results import RequestOutcome, SendReport


def describe_numbers(numbers: Sequence[str], masker: Masker | None = None) -> str:
    """``1 number (138****8000)``; the numbers are masked unless ``masker`` shows PII."""
    show = (masker or Masker()).phone
    count = len(numbers)
    if count == 1:
        return f"1 number ({show(numbers[0])})"
    return f"{count:,} numbers ({show(numbers[0])} … {show(numbers[-1])})"


def invalid_details(recipients: Recipients, masker: Masker | None = None) -> list[str]:
    """The invalid entries as they may be quoted; digit runs masked unless ``masker`` shows PII.
    (The full text stays in ``--json``'s ``invalid`` list.)"""
    mask = mask_entry if masker is not None and not masker.show_pii else None
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


def failure_line(
    outcome: RequestOutcome, total: int, masker: Masker | None = None, context: str = "send"
) -> tuple[str, str | None]:
    """One plain sentence about a request that was not accepted, plus a hint."""
    from usms_cli.core.codes import HINTS

    result = outcome.result
    assert result is not None
    which = f"request {outcome.index} of {total}" if total > 1 else "the request"
    numbers = describe_numbers(outcome.numbers, masker)
    rid = request_id_text(result)
    if result.status == "rejected":
        return refusal(result, f"{which} to {numbers}", context)
    if result.status == "unknown":
        text = (
            f"{which} to {numbers}: outcome UNKNOWN, {result.error}{rid}. These numbers may "
            "or may not get the message; usms did not resend it."
        )
        return text, (
            "an unknown request has no SessionNo, so usms receipt cannot look it up: check the "
            "console's send records (or the history/journal of this run) before sending to "
            "them again"
        )
    text = f"{which} to {numbers} was not sent: {result.error}{rid}"
    return text, HINTS.get(result.ret_code or -1) if result.ret_code else None


def render_report(
    output: Output, report: SendReport, *, payload: dict[str, Any] | None = None
) -> None:
    """The send report: one JSON object (``payload``, default the report's own), the
    SessionNos (-q) or a summary; then, on stderr, what was refused, unknown or held back."""
    if output.json_mode:
        output.json(payload if payload is not None else report_json(report))
    elif output.quiet:
        output.out.write("".join(sn + "\n" for sn in report.session_nos))
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
            context = "send" if report.columns is None else "csv"
            text, hint = failure_line(outcome, total, output.masker, context)
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
    if report.dry_run:
        _human_dry_run(output, report)
    else:
        _human_outcome(output, report)
    recipients = report.recipients
    out = output.out
    if recipients.duplicates:
        out.line(f"Removed {plural(recipients.duplicates, 'duplicate number')}.")
    if recipients.invalid_count:
        count = plural(recipients.invalid_count, "invalid entry", "invalid entries")
        out.line(f"Skipped {count}:")
        for line in invalid_details(recipients, output.masker):
            out.line(f"  {line}")


def _human_dry_run(output: Output, report: SendReport) -> None:
    out, message, recipients = output.out, report.message, report.recipients
    total = len(report.requests)
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


def _heading(report: SendReport, counts: Mapping[str, int]) -> tuple[str, str]:
    """The first line of a send's summary, and its style: it matches the exit code."""
    accepted, total = counts["accepted"], len(report.requests)
    if accepted and report.exit_code() == ExitCode.OK:
        return f"Sent: {plural(accepted, 'recipient')} accepted in {plural(total, 'request')}.", (
            "bold green"
        )
    if accepted:
        wanted = len(report.recipients.numbers)
        return f"Partly sent: {accepted:,} of {wanted:,} recipients accepted.", "bold yellow"
    if counts["unknown"]:
        who = plural(counts["unknown"], "recipient")
        return f"Outcome unknown: {who} may or may not have the message.", "bold yellow"
    if report.requests:
        return "Not sent: no request was accepted.", "bold red"
    return "Nothing to send.", "bold"


def _human_outcome(output: Output, report: SendReport) -> None:
    out = output.out
    counts = report.counts()
    out.line(*_heading(report, counts))
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


# ---- receipts and look-ups ------------------------------------------------------------------

RESULT_STYLES = {"delivered": "green", "failed": "bold red", "unknown": "yellow", "pending": "dim"}


def _when(timestamp: int | None) -> str:
    if not timestamp:
        return ""
    import datetime

    moment = datetime.datetime.fromtimestamp(timestamp).astimezone()
    return moment.strftime("%Y-%m-%d %H:%M:%S")


def receipts_json(state: ReceiptState, timed_out: bool) -> dict[str, Any]:
    code = state.exit_code()
    return {
        "ok": code == ExitCode.OK,
        "exit_code": int(code),
        "timed_out": timed_out,
        "counts": state.counts(),
        # False: the sessions' phones are not known (no --phones/--expect, not in the history),
        # so phones that have not reported are not in "counts"
        "all_phones_counted": state.counted,
        "sessions_without_receipts": state.silent_sessions(),
        "session_nos": state.session_nos,
        "receipts": [row.as_json() for row in state.rows()],
    }


def render_receipts(
    output: Output, state: ReceiptState, *, waited: bool, timed_out: bool, embedded: bool = False
) -> None:
    """Receipts as a table (human), ``phone<TAB>result`` lines (-q) or one JSON object.
    ``embedded``: part of ``send --wait``, whose JSON and -q output are the send's own."""
    rows = state.rows()
    counts = state.counts()
    if output.json_mode:
        if not embedded:
            output.json(receipts_json(state, timed_out))
    elif output.quiet:
        if not embedded:
            output.out.write("".join(f"{row.phone}\t{row.result}\n" for row in rows))
    else:
        if rows:
            _receipt_table(output, rows)
        summary = ", ".join(f"{counts[k]:,} {k}" for k in counts if counts[k])
        output.out.line(f"Receipts: {summary or 'no receipts yet'}.")
        silent = state.silent_sessions()
        if silent:
            output.out.line(f"No receipts yet for {plural(len(silent), 'session')}.")
        if not state.counted:
            output.out.line(
                "Phones that have not reported cannot be counted: the API lists only those "
                "that have (give --phones or --expect to count the others)."
            )
    if timed_out:
        output.error(
            f"gave up waiting: {counts['pending'] + counts['unknown']:,} phone(s) have no final "
            "receipt yet",
            hint="real receipts can take minutes; ask again later with usms receipt SESSION_NO",
        )
    elif not waited and (counts["pending"] or counts["unknown"] or state.silent_sessions()):
        output.info("Some receipts are not final yet; --wait polls until they are.")


def _receipt_table(output: Output, rows: Sequence[Any]) -> None:
    headers = ("Phone", "Result", "Code", "Description", "Time", "Billed")
    cells = [
        (
            output.masker.phone(r.phone),
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


def render_lookup(output: Output, kind: str, data: Mapping[str, Any]) -> None:
    from usms_cli.core.review import approved, describe_lookup

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
