"""Delivery receipts (``usms receipt``, ``send --wait``) and a template or signature look-up:
a table for a person (result words translated), ``phone<TAB>result`` lines for ``-q``, one
English ``--json`` object."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from usms_cli.core.errors import ExitCode
from usms_cli.core.text import width
from usms_cli.i18n import N_, tr, tr_n
from usms_cli.output.words import KINDS, LABELS, RECEIPTS, REVIEW, shown

if TYPE_CHECKING:
    from usms_cli.core.receipts import ReceiptState
    from usms_cli.output.console import Output

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
        summary = tr(", ").join(
            tr("{count:,} {result}", count=counts[k], result=shown(RECEIPTS, k))
            for k in counts
            if counts[k]
        )
        output.out.line(tr("Receipts: {summary}.", summary=summary or tr("no receipts yet")))
        silent = len(state.silent_sessions())
        if silent:
            output.out.line(
                tr_n(
                    "No receipts yet for {n:,} session.",
                    "No receipts yet for {n:,} sessions.",
                    silent,
                    n=silent,
                )
            )
        if not state.counted:
            output.out.line(
                tr(
                    "Phones that have not reported cannot be counted: the API lists only those "
                    "that have (give --phones or --expect to count the others)."
                )
            )
    if timed_out:
        output.error(
            tr(
                "gave up waiting: {count:,} phone(s) have no final receipt yet",
                count=counts["pending"] + counts["unknown"],
            ),
            hint=tr("real receipts can take minutes; ask again later with usms receipt SESSION_NO"),
        )
    elif not waited and (counts["pending"] or counts["unknown"] or state.silent_sessions()):
        output.info(tr("Some receipts are not final yet; --wait polls until they are."))


HEADERS = (N_("Phone"), N_("Result"), N_("Code"), N_("Description"), N_("Time"), N_("Billed"))


def _receipt_table(output: Output, rows: Sequence[Any]) -> None:
    headers = tuple(tr(h) for h in HEADERS)
    cells = [
        (
            output.masker.phone(r.phone),
            shown(RECEIPTS, r.result),
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

        table = Table(header_style="bold", box=None, pad_edge=False)
        for index, header in enumerate(headers):
            # A narrow terminal folds the other cells, never the phone or the result.
            table.add_column(header, no_wrap=index < 2, overflow="fold")
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
    for line, (label, _) in zip(lookup_lines(rows), rows, strict=True):
        style = None
        if label == "Status":
            style = "bold green" if ok else "bold red"
        output.out.line(line, style)
    if not ok:
        output.error(
            tr(
                "the {kind} is not approved; sends using it will be refused",
                kind=shown(KINDS, kind),
            )
        )


def lookup_lines(rows: Sequence[tuple[str, str]]) -> list[str]:
    """Label and value lines, the labels padded to one display width; labels and the status
    and purpose words in this run's language."""
    labels = [shown(LABELS, label) for label, _ in rows]
    column = max(width(label) for label in labels)
    return [
        label
        + " " * (column - width(label))
        + "  "
        + (shown(REVIEW, value) if raw in ("Status", "Purpose") else value)
        for label, (raw, value) in zip(labels, rows, strict=True)
    ]
