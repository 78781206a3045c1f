"""Rendering the account commands: a create/update/delete, a review (``show``/``wait``), a
``template apply`` run, a blacklist run and a raw ``usms api`` answer. Human text, ``-q``
lines or one ``--json`` object; phone numbers masked in human output only."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from usms_cli.core.text import plural, width

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
    if result.action == "create":
        output.out.line(f"Created {kind} {result.ids[0]}; it is now under review.", "green")
        command = f"usms {kind} wait {'--id ' if kind == 'signature' else ''}{result.ids[0]}"
        output.info(f"Review takes about a working day; `{command}` waits for the verdict.")
    elif result.action == "update":
        output.out.line(f"Updated {kind} {result.ids[0]}; it is under review again.", "green")
    else:
        output.out.line(f"Deleted {plural(len(result.ids), kind)}: {', '.join(result.ids)}.")


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
        column = max(len(label) for label, _ in rows)
        colour = {"approved": "bold green", "rejected": "bold red"}.get(result.state, "yellow")
        for label, value in rows:
            output.out.line(
                f"{label.ljust(column)}  {value}", colour if label == "Status" else None
            )
    if result.timed_out:
        output.error(
            f"gave up waiting: the {result.kind} is still {status or 'not reviewed'}",
            hint="review usually takes a working day; wait longer with --timeout SECONDS",
        )
    elif result.state == "rejected":
        output.error(f"the {result.kind} is {status}; sends using it will be refused")
    elif result.state == "pending" and not result.waited:
        output.error(f"the {result.kind} is not approved yet ({status}); `wait` waits for it")


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
        output.out.line(f"Plan for {result.path} (dry run: nothing is created or changed):")
    rows = [
        (item.name, item.template_id or "-", item.action, item.status, item.error or item.reason)
        for item in result.items
    ]
    if rows:
        table(output, ("Template", "Id", "Action", "Review", "Note"), rows)
    counts: dict[str, int] = {}
    for item in result.items:
        counts[item.action] = counts.get(item.action, 0) + 1
    summary = ", ".join(f"{n} {action}" for action, n in counts.items())
    output.out.line(f"{plural(len(result.items), 'template')}: {summary or 'none in the file'}.")
    if code != 0:
        failed = [i for i in result.items if i.code != 0]
        output.error(
            f"{plural(len(failed), 'template')} rejected or not handled",
            details=[f"{i.name}: {i.error or i.reason or i.status}" for i in failed[:20]],
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
        line = f"Blacklist: {plural(len(result.added), 'number')} added"
        if result.duplicates:
            line += f" ({plural(result.duplicates, 'duplicate')} skipped)"
        output.out.line(line + ".", "green" if code == 0 else None)
    for label, numbers in (
        ("refused", result.refused),
        ("not confirmed (ask again: adding twice is harmless)", result.unconfirmed),
        ("not sent", result.not_sent),
    ):
        if numbers:
            output.error(
                f"{plural(len(numbers), 'number')} {label}", details=_reasons(output, numbers)
            )


def _reasons(output: Output, numbers: Mapping[str, str], shown: int = 20) -> list[str]:
    lines = [f"{output.masker.phone(n)}: {why}" for n, why in list(numbers.items())[:shown]]
    if len(numbers) > shown:
        lines.append(f"… and {len(numbers) - shown:,} more (--json lists them all)")
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
        what = "was not sent" if result.status == "not_sent" else "may have been carried out"
        output.error(f"{call.action} {what}: {result.error}{request_id_text(result)}")
