"""How ``usms suppress`` looks: what add/remove changed, and the list with when and why each
number is on it (numbers masked, reply text shown as its length unless ``--show-pii``), or
one JSON object with full numbers and texts."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from usms_cli.core.pushes import printable
from usms_cli.core.suppression import SOURCES, Suppressed, SuppressResult
from usms_cli.i18n import tr, tr_n
from usms_cli.output.config_view import aligned
from usms_cli.output.history_view import _when

if TYPE_CHECKING:
    from usms_cli.output.console import Output


def render_suppress(output: Output, result: SuppressResult) -> None:
    if result.action == "list":
        _render_list(output, result)
        return
    if output.json_mode:
        key = "added" if result.action == "add" else "removed"
        other = "already_listed" if result.action == "add" else "not_listed"
        output.json(
            {
                "ok": True,
                "exit_code": int(result.exit_code),
                key: result.changed,
                other: result.unchanged,
                "duplicates": result.duplicates,
                "file": result.path,
            }
        )
        return
    if output.quiet:
        for number in result.changed:
            output.out.line(number)
        return
    changed, unchanged = len(result.changed), len(result.unchanged)
    if result.action == "add":
        line = tr_n(
            "Suppression list: {n:,} number added",
            "Suppression list: {n:,} numbers added",
            changed,
            n=changed,
        )
        rest = tr("{n:,} already on it", n=unchanged)
    else:
        line = tr_n(
            "Suppression list: {n:,} number removed",
            "Suppression list: {n:,} numbers removed",
            changed,
            n=changed,
        )
        rest = tr("{n:,} not on it", n=unchanged)
    if result.unchanged:
        line = tr("{line} ({rest})", line=line, rest=rest)
    output.out.line(tr("{line}.", line=line))


def why(entry: Suppressed, show_pii: bool) -> str:
    """``opt-out reply [2 characters]`` / ``opt-out reply "TD"`` / ``added by hand: note``."""
    text = tr(SOURCES[entry.source]) if entry.source in SOURCES else entry.source
    if entry.source == "reply":
        shown = (
            json.dumps(entry.detail, ensure_ascii=False)
            if show_pii
            else tr("[{n} characters]", n=len(entry.detail))
        )
        return f"{text} {printable(shown)}"
    return f"{text}: {printable(entry.detail)}" if entry.detail else text


def _render_list(output: Output, result: SuppressResult) -> None:
    entries = result.entries
    if output.json_mode:
        output.json(
            {
                "ok": True,
                "count": len(entries),
                "suppressed": [entry.as_json() for entry in entries],
                "file": result.path,
            }
        )
        return
    if output.quiet:
        for entry in entries:
            output.out.line(entry.phone)
        return
    if not entries:
        output.out.line(tr("The suppression list is empty."))
        return
    rows = [(tr("Number"), tr("Added (China)"), tr("Why"))]
    show_pii = output.masker.show_pii
    for entry in entries:
        rows.append((output.masker.phone(entry.phone), _when(entry.added), why(entry, show_pii)))
    for index, line in enumerate(aligned(rows, 2)):
        output.out.line(line.rstrip(), "bold" if index == 0 else None)
    output.out.line(
        tr_n(
            "{n:,} number on the suppression list.",
            "{n:,} numbers on the suppression list.",
            len(entries),
            n=len(entries),
        )
    )
