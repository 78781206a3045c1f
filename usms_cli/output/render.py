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
from usms_cli.core.text import shorten
from usms_cli.i18n import tr, tr_n
from usms_cli.output.console import Output
from usms_cli.output.receipts_view import receipts_json as receipts_json
from usms_cli.output.receipts_view import render_lookup as render_lookup
from usms_cli.output.receipts_view import render_receipts as render_receipts
from usms_cli.output.words import OUTCOMES, field, shown

if TYPE_CHECKING:
    from usms_cli.core.cost import Cost
    from usms_cli.core.phones import Recipients
    from usms_cli.core.results import RequestOutcome, SendReport


def describe_numbers(numbers: Sequence[str], masker: Masker | None = None) -> str:
    """``1 number (138****8000)``; the numbers are masked unless ``masker`` shows PII."""
    show = (masker or Masker()).phone
    count = len(numbers)
    if count == 1:
        return tr("1 number ({phone})", phone=show(numbers[0]))
    return tr(
        "{count:,} numbers ({first} … {last})",
        count=count,
        first=show(numbers[0]),
        last=show(numbers[-1]),
    )


def invalid_details(recipients: Recipients, masker: Masker | None = None) -> list[str]:
    """The invalid entries as they may be quoted; digit runs masked unless ``masker`` shows PII.
    (The full text stays in ``--json``'s ``invalid`` list.)"""
    mask = mask_entry if masker is not None and not masker.show_pii else None
    lines = [item.describe(mask) for item in recipients.invalid]
    hidden = recipients.invalid_count - len(recipients.invalid)
    if hidden > 0:
        lines.append(tr("… and {count:,} more invalid entries", count=hidden))
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
    numbers = describe_numbers(outcome.numbers, masker)
    if total > 1:
        subject = tr(
            "request {index} of {total} to {numbers}",
            index=outcome.index,
            total=total,
            numbers=numbers,
        )
    else:
        subject = tr("the request to {numbers}", numbers=numbers)
    rid = request_id_text(result)
    if result.status == "rejected":
        return refusal(result, subject, context)
    if result.status == "unknown":
        text = tr(
            "{subject}: outcome UNKNOWN, {error}{rid}. These numbers may or may not get the "
            "message; usms did not resend it.",
            subject=subject,
            error=result.error,
            rid=rid,
        )
        return text, tr(
            "an unknown request has no SessionNo, so usms receipt cannot look it up: check the "
            "console's send records (or the history/journal of this run) before sending to "
            "them again"
        )
    text = tr("{subject} was not sent: {error}{rid}", subject=subject, error=result.error, rid=rid)
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
                count = len(outcome.numbers)
                output.warn(
                    tr_n(
                        "request {index} ({count:,} number) was accepted, but the API gave no "
                        "usable SessionNo: receipts cannot be looked up for it",
                        "request {index} ({count:,} numbers) was accepted, but the API gave no "
                        "usable SessionNo: receipts cannot be looked up for it",
                        count,
                        index=outcome.index,
                        count=count,
                    )
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
                        tr_n(
                            "{n:,} later request ({count:,} numbers) {error}",
                            "{n:,} later requests ({count:,} numbers) {error}",
                            len(rest),
                            n=len(rest),
                            count=count,
                            error=outcome.result.error,
                        )
                    )
                    shown_not_sent = True
                continue
            context = "send" if report.columns is None else "csv"
            text, hint = failure_line(outcome, total, output.masker, context)
            output.error(text, hint)
    if report.held_back:
        output.error(
            tr_n(
                "{n:,} number held back: their outcome was unknown in an earlier run (they may "
                "already have the message)",
                "{n:,} numbers held back: their outcome was unknown in an earlier run (they may "
                "already have the message)",
                len(report.held_back),
                n=len(report.held_back),
            ),
            hint=tr("check delivery with usms receipt; --resend-unknown sends to them again"),
        )
    if report.interrupted:
        name = "SIGTERM" if report.interrupted_by == 15 else "Ctrl-C"
        output.error(tr("stopped by {name}: no further requests were sent", name=name))


SHOWN_REFUSED = 20


def _report_refused(output: Output, report: SendReport) -> None:
    refused = report.refused()
    if not refused:
        return
    details = [
        tr(
            "{phone}: {reason} (request {index})",
            phone=output.masker.phone(phone),
            reason=reason,
            index=index,
        )
        for phone, reason, index in refused[:SHOWN_REFUSED]
    ]
    if len(refused) > SHOWN_REFUSED:
        details.append(tr("… and {count:,} more", count=len(refused) - SHOWN_REFUSED))
    output.error(
        tr_n(
            "the API refused {n:,} recipient by name:",
            "the API refused {n:,} recipients by name:",
            len(refused),
            n=len(refused),
        ),
        hint=tr("--failed-out FILE writes them out, ready to send again"),
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
        out.line(
            tr(
                "Preview: the first {shown} of {total:,} messages, as recipients read them",
                shown=len(shown),
                total=total,
            )
        )
        for item in shown:
            size = tr("{length} characters, {sms} SMS", length=item["length"], sms=item["sms"])
            phone = masker.phone(item["phone"])
            out.line(
                "  "
                + tr("line {line}  {phone}  ({size})", line=item["line"], phone=phone, size=size)
            )
            text = masker.text(str(item["text"]), [item["phone"]], item["params"].values())
            out.line(f"    {text}")
        return
    out.line(
        tr(
            "Preview: the params of the first {shown} of {total:,} rows",
            shown=len(shown),
            total=total,
        )
    )
    for item in shown:
        params = ", ".join(
            f"{name}={masker.param(value)!r}" for name, value in item["params"].items()
        )
        user = f"  user_id={item['user_id']!r}" if item["user_id"] else ""
        phone = masker.phone(item["phone"])
        params = params or tr("(no params)")
        out.line(
            "  "
            + tr("line {line}  {phone}  {params}", line=item["line"], phone=phone, params=params)
            + user
        )


def render_cost(output: Output, cost: Cost, *, messages: bool = True) -> None:
    """Each distinct message (params masked for a person; not with ``messages=False``, when a
    preview shows them), its length and segments, and the total for the batch."""
    from usms_cli.core.cost import SHOWN_MESSAGES

    if output.json_mode or output.quiet:
        return
    out = output.out
    lines = list(cost.lines.values()) if messages else []
    if lines:
        distinct = tr_n(
            "{n:,} distinct message, as recipients read them",
            "{n:,} distinct messages, as recipients read them",
            len(lines),
            n=len(lines),
        )
        out.line(field(tr("Messages"), distinct))
        for line in lines[:SHOWN_MESSAGES]:
            size = tr_n(
                "{length} characters, {n:,} SMS segment",
                "{length} characters, {n:,} SMS segments",
                line.segments,
                length=line.length,
                n=line.segments,
            )
            out.line(f"  {line.shown}")
            who = _recipients(line.recipients)
            out.line("    " + tr("({size}) × {recipients}", size=size, recipients=who), "dim")
    if len(lines) > SHOWN_MESSAGES:
        more = len(cost.lines) - SHOWN_MESSAGES
        out.line("  " + tr("… and {count:,} more distinct messages", count=more))
    total = tr_n(
        "{n:,} SMS segment in total for {recipients}",
        "{n:,} SMS segments in total for {recipients}",
        cost.total_segments,
        n=cost.total_segments,
        recipients=_recipients(cost.recipients),
    )
    out.line(field(tr("Cost"), total), "bold")


def _recipients(count: int) -> str:
    return tr_n("{n:,} recipient", "{n:,} recipients", count, n=count)


def _brief(value: str, limit: int = 100) -> str:
    if len(value) <= limit:
        return value
    return tr("{start}…({count:,} characters)", start=value[:60], count=len(value))


def _human_report(output: Output, report: SendReport) -> None:
    if report.dry_run:
        _human_dry_run(output, report)
    else:
        _human_outcome(output, report)
    recipients = report.recipients
    out = output.out
    if recipients.duplicates:
        n = recipients.duplicates
        out.line(
            tr_n("Removed {n:,} duplicate number.", "Removed {n:,} duplicate numbers.", n, n=n)
        )
    if recipients.invalid_count:
        n = recipients.invalid_count
        out.line(tr_n("Skipped {n:,} invalid entry:", "Skipped {n:,} invalid entries:", n, n=n))
        for line in invalid_details(recipients, output.masker):
            out.line(f"  {line}")


def _human_dry_run(output: Output, report: SendReport) -> None:
    out, message, recipients = output.out, report.message, report.recipients
    total = len(report.requests)
    out.line(tr("Dry run: nothing was sent."), "bold yellow")
    out.line(field(tr("Template"), message.template_id))
    out.line(field(tr("Signature"), message.sig_content or tr("(none)")))
    if report.columns is not None:
        out.line(field(tr("Columns"), ", ".join(report.columns)))
    else:
        params = [output.masker.param(p) for p in message.params]
        out.line(field(tr("Params"), ", ".join(repr(p) for p in params) or tr("(none)")))
    out.line(field(tr("Numbers"), f"{len(recipients.numbers):,}"))
    out.line(field(tr("Requests"), str(total)))
    for outcome in report.requests[:SHOWN_REQUESTS]:
        numbers = describe_numbers(outcome.numbers, output.masker)
        out.line("  " + tr("request {index}: {numbers}", index=outcome.index, numbers=numbers))
        form = shown_params(outcome.form or {}, output.masker).items()
        body = "&".join(f"{k}={_brief(v)}" for k, v in form)
        out.line(f"    {body}", "dim")
    if total > SHOWN_REQUESTS:
        more = total - SHOWN_REQUESTS
        out.line("  " + tr("… and {count:,} more requests like these", count=more))
    if len(recipients.numbers) <= 20:
        out.line(field(tr("Recipients"), " ".join(output.phones(recipients.numbers))))


def _heading(report: SendReport, counts: Mapping[str, int]) -> tuple[str, str]:
    """The first line of a send's summary, and its style: it matches the exit code."""
    accepted, total = counts["accepted"], len(report.requests)
    if accepted and report.exit_code() == ExitCode.OK:
        requests = tr_n("{n:,} request", "{n:,} requests", total, n=total)
        text = tr(
            "Sent: {recipients} accepted in {requests}.",
            recipients=_recipients(accepted),
            requests=requests,
        )
        return text, "bold green"
    if accepted:
        wanted = len(report.recipients.numbers)
        text = tr(
            "Partly sent: {accepted:,} of {wanted:,} recipients accepted.",
            accepted=accepted,
            wanted=wanted,
        )
        return text, "bold yellow"
    if counts["unknown"]:
        who = _recipients(counts["unknown"])
        return tr("Outcome unknown: {who} may or may not have the message.", who=who), "bold yellow"
    if report.requests:
        return tr("Not sent: no request was accepted."), "bold red"
    return tr("Nothing to send."), "bold"


def _human_outcome(output: Output, report: SendReport) -> None:
    out = output.out
    counts = report.counts()
    out.line(*_heading(report, counts))
    if report.previously_accepted:
        numbers = _numbers(len(report.previously_accepted))
        out.line(
            "  " + tr("already accepted in an earlier run (journal): {numbers}", numbers=numbers)
        )
    if report.held_back:
        numbers = _numbers(len(report.held_back))
        out.line(
            "  " + tr("held back (outcome unknown in an earlier run): {numbers}", numbers=numbers),
            "yellow",
        )
    with_session = [o for o in report.requests if o.session_no]
    for outcome in with_session[:SHOWN_SESSIONS]:
        refused = tr(", {count:,} refused", count=len(outcome.refused)) if outcome.refused else ""
        count = _numbers(outcome.accepted_count)
        line = tr(
            "SessionNo {session_no}  ({count}{refused})",
            session_no=outcome.session_no,
            count=count,
            refused=refused,
        )
        out.line(f"  {line}")
    if len(with_session) > SHOWN_SESSIONS:
        more = len(with_session) - SHOWN_SESSIONS
        out.line(
            "  " + tr("… and {count:,} more SessionNos (-q or --json lists them all)", count=more)
        )
    for status in ("rejected", "unknown", "not_sent"):
        if counts[status]:
            line = tr(
                "{label}: {numbers}",
                label=shown(OUTCOMES, status),
                numbers=_numbers(counts[status]),
            )
            out.line(f"  {line}", "red" if status != "unknown" else "yellow")


def _numbers(count: int) -> str:
    return tr_n("{n:,} number", "{n:,} numbers", count, n=count)
