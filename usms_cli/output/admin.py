"""Rendering the account commands: a create/update/delete, a review (``show``/``wait``), a
``template apply`` run, a blacklist run and a raw ``usms api`` answer. Human text, ``-q``
lines or one ``--json`` object; phone numbers masked in human output only."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from usms_cli.core.text import width
from usms_cli.i18n import tr, tr_n
from usms_cli.output.words import ACTIONS, KINDS, NOTES, REVIEW, shown

if TYPE_CHECKING:
    from usms_cli.core.outcomes import (
        ApiCallResult,
        ApplyResult,
        BlacklistResult,
        ChangeResult,
        ReviewResult,
    )
    from usms_cli.output.console import Output


def table(output: Output, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Plain aligned columns on stdout (wide characters counted twice)."""
    widths = [max([width(h), *(width(r[i]) for r in rows)]) for i, h in enumerate(headers)]
    for line in (headers, *rows):
        padded = (v + " " * (w - width(v)) for v, w in zip(line, widths, strict=True))
        output.out.line("  ".join(padded).rstrip())


def render_change(output: Output, result: ChangeResult) -> None:
    kind = result.kind
    if output.json_mode:
        output.json(
            {
                "ok": True,
                "exit_code": int(result.exit_code),
                "kind": kind,
                "action": result.action,
                "ids": result.ids,
                "answer": result.answer,
            }
        )
        return
    if output.quiet:
        for item in result.ids:
            output.out.line(item)
        return
    what = shown(KINDS, kind)
    if result.action == "create":
        created = tr("Created {kind} {id}; it is now under review.", kind=what, id=result.ids[0])
        output.out.line(created, "green")
        command = f"usms {kind} wait {'--id ' if kind == 'signature' else ''}{result.ids[0]}"
        output.info(
            tr(
                "Review takes about a working day; `{command}` waits for the verdict.",
                command=command,
            )
        )
    elif result.action == "update":
        updated = tr("Updated {kind} {id}; it is under review again.", kind=what, id=result.ids[0])
        output.out.line(updated, "green")
    else:
        count = len(result.ids)
        deleted = tr_n(
            "Deleted {n:,} template: {ids}.",
            "Deleted {n:,} templates: {ids}.",
            count,
            n=count,
            ids=", ".join(result.ids),
        )
        if kind == "signature":
            deleted = tr_n(
                "Deleted {n:,} signature: {ids}.",
                "Deleted {n:,} signatures: {ids}.",
                count,
                n=count,
                ids=", ".join(result.ids),
            )
        output.out.line(deleted)


def render_review(output: Output, result: ReviewResult) -> None:
    """A template or signature and its review status (the ``show`` and ``wait`` answers)."""
    from usms_cli.core.review import describe_lookup

    rows = describe_lookup(result.kind, result.data)
    status = dict(rows).get("Status", "")
    code = result.exit_code
    if output.json_mode:
        payload: dict[str, Any] = {
            "ok": code == 0,
            "exit_code": int(code),
            "kind": result.kind,
            "approved": result.state == "approved",
            "review": result.state,
            "status": status,
            "data": dict(result.data),
        }
        if result.waited:
            payload["timed_out"] = result.timed_out
        output.json(payload)
    elif output.quiet:
        output.out.line(status)
    else:
        from usms_cli.output.receipts_view import lookup_lines

        colour = {"approved": "bold green", "rejected": "bold red"}.get(result.state, "yellow")
        for line, (label, _) in zip(lookup_lines(rows), rows, strict=True):
            output.out.line(line, colour if label == "Status" else None)
    kind, words = shown(KINDS, result.kind), shown(REVIEW, status or "not reviewed")
    if result.timed_out:
        output.error(
            tr("gave up waiting: the {kind} is still {status}", kind=kind, status=words),
            hint=tr("review usually takes a working day; wait longer with --timeout SECONDS"),
        )
    elif result.state == "rejected":
        output.error(
            tr("the {kind} is {status}; sends using it will be refused", kind=kind, status=words)
        )
    elif result.state == "pending" and not result.waited:
        output.error(
            tr(
                "the {kind} is not approved yet ({status}); `wait` waits for it",
                kind=kind,
                status=words,
            )
        )


def render_apply(output: Output, result: ApplyResult) -> None:
    code = result.exit_code
    if output.json_mode:
        output.json(
            {
                "ok": code == 0,
                "exit_code": int(code),
                "file": str(result.path),
                "dry_run": result.dry_run,
                "templates": [item.as_json() for item in result.items],
            }
        )
        return
    if output.quiet:
        for item in result.items:
            output.out.line(f"{item.name}\t{item.template_id or ''}\t{item.status}")
        return
    if result.dry_run:
        output.out.line(
            tr("Plan for {path} (dry run: nothing is created or changed):", path=result.path)
        )
    rows = [
        (
            item.name,
            item.template_id or "-",
            shown(ACTIONS, item.action),
            shown(REVIEW, item.status),
            item.error or shown(NOTES, item.reason),
        )
        for item in result.items
    ]
    if rows:
        headers = (tr("Template"), tr("Id"), tr("Action"), tr("Review"), tr("Note"))
        table(output, headers, rows)
    counts: dict[str, int] = {}
    for item in result.items:
        counts[item.action] = counts.get(item.action, 0) + 1
    summary = tr(", ").join(
        tr("{count} {action}", count=n, action=shown(ACTIONS, action))
        for action, n in counts.items()
    )
    total = len(result.items)
    output.out.line(
        tr_n(
            "{n:,} template: {summary}.",
            "{n:,} templates: {summary}.",
            total,
            n=total,
            summary=summary or tr("none in the file"),
        )
    )
    if code != 0:
        failed = [i for i in result.items if i.code != 0]
        output.error(
            tr_n(
                "{n:,} template rejected or not handled",
                "{n:,} templates rejected or not handled",
                len(failed),
                n=len(failed),
            ),
            details=[
                f"{i.name}: {i.error or shown(NOTES, i.reason) or shown(REVIEW, i.status)}"
                for i in failed[:20]
            ],
        )


def render_blacklist(output: Output, result: BlacklistResult) -> None:
    code = result.exit_code
    if output.json_mode:
        output.json(
            {
                "ok": code == 0,
                "exit_code": int(code),
                "added": result.added,
                "refused": result.refused,
                "unconfirmed": result.unconfirmed,
                "not_sent": result.not_sent,
                "requests": result.requests,
            }
        )
        return
    if output.quiet:
        for number in result.added:
            output.out.line(number)
    else:
        added = len(result.added)
        line = tr_n(
            "Blacklist: {n:,} number added", "Blacklist: {n:,} numbers added", added, n=added
        )
        if result.duplicates:
            n = result.duplicates
            line += tr_n(" ({n:,} duplicate skipped)", " ({n:,} duplicates skipped)", n, n=n)
        output.out.line(line + tr("."), "green" if code == 0 else None)
    for numbers, text in (
        (
            result.refused,
            tr_n(
                "{n:,} number refused",
                "{n:,} numbers refused",
                len(result.refused),
                n=len(result.refused),
            ),
        ),
        (
            result.unconfirmed,
            tr_n(
                "{n:,} number not confirmed (ask again: adding twice is harmless)",
                "{n:,} numbers not confirmed (ask again: adding twice is harmless)",
                len(result.unconfirmed),
                n=len(result.unconfirmed),
            ),
        ),
        (
            result.not_sent,
            tr_n(
                "{n:,} number not sent",
                "{n:,} numbers not sent",
                len(result.not_sent),
                n=len(result.not_sent),
            ),
        ),
    ):
        if numbers:
            output.error(text, details=_reasons(output, numbers))


def _reasons(output: Output, numbers: Mapping[str, str], shown: int = 20) -> list[str]:
    lines = [f"{output.masker.phone(n)}: {why}" for n, why in list(numbers.items())[:shown]]
    if len(numbers) > shown:
        more = len(numbers) - shown
        lines.append(tr("… and {count:,} more (--json lists them all)", count=more))
    return lines


def render_api(output: Output, call: ApiCallResult) -> None:
    """The answer as JSON on stdout (whatever its RetCode); a failure explained on stderr."""
    from usms_cli.core.results import refusal, request_id_text

    result = call.result
    if result.body is not None:
        output.json(result.body)
    if result.status == "rejected":
        text, _ = refusal(result, call.action)  # the hints speak of send's flags: not here
        output.error(text)
    elif result.status in ("not_sent", "unknown"):
        message = (
            tr("{action} was not sent: {error}{rid}")
            if result.status == "not_sent"
            else tr("{action} may have been carried out: {error}{rid}")
        )
        rid = request_id_text(result)
        output.error(message.format(action=call.action, error=result.error, rid=rid))
