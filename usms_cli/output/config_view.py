"""How ``usms config show`` and ``usms config check`` look: aligned tables for a person, one
object for ``--json``. Secrets arrive here already masked."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from usms_cli.core.text import width
from usms_cli.i18n import tr

if TYPE_CHECKING:
    from usms_cli.output.console import Output


def aligned(rows: Sequence[Sequence[str]], columns: int) -> list[str]:
    """The first ``columns`` cells of each row padded to one display width (CJK counts 2)."""
    widths = [max(width(row[i]) for row in rows) for i in range(columns)]
    return [
        "".join(cell + " " * (widths[i] - width(cell)) + "  " for i, cell in enumerate(row[:-1]))
        + row[-1]
        for row in rows
    ]


def render_show(
    output: Output,
    rows: Sequence[tuple[str, str, str]],
    payload: dict[str, Any],
    profiles: Sequence[str],
) -> None:
    if output.json_mode:
        output.json(payload)
        return
    table = [(tr("Setting"), tr("Value"), tr("Source")), *rows]
    for index, line in enumerate(aligned(table, 2)):
        output.out.line(line.rstrip(), "bold" if index == 0 else None)
    if profiles:
        output.out.line(tr("Profiles in the files: {names}", names=", ".join(profiles)))
    output.out.line(
        tr("Precedence: command line > environment > --env-file or ./.env > profile > default.")
    )


def render_check(
    output: Output,
    verdict: Any,
    context: Sequence[tuple[str, str, str]],
    payload: dict[str, Any],
) -> None:
    """The verdict in one sentence, and where each setting that mattered came from."""
    if output.json_mode:
        output.json(payload)
    details = aligned([(label, value, f"({source})") for label, value, source in context], 2)
    if verdict.keys_work:
        if not output.json_mode:
            output.out.line(verdict.summary, "bold green")
            for line in details:
                output.out.line(f"  {line}")
            if verdict.hint:
                output.out.line("  " + tr("hint: {hint}", hint=verdict.hint), "yellow")
    else:
        output.error(verdict.summary[:1].lower() + verdict.summary[1:], verdict.hint, details)
