"""Rendering ``usms stats``: an aligned table with a total row, one ``--json`` object, or
``--csv`` rows for a spreadsheet (the total last)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from usms_cli.i18n import N_, tr
from usms_cli.output.admin import table

if TYPE_CHECKING:
    from usms_cli.core.outcomes import StatsResult
    from usms_cli.core.stats import Counts
    from usms_cli.output.console import Output

_KEY = {"day": N_("Day"), "template": N_("Template"), "country": N_("Country")}
SCOPES = {"domestic": N_("domestic"), "international": N_("international")}
HEADERS = (N_("Sent"), N_("Delivered"), N_("Failed"), N_("Unknown"), N_("Billed"), N_("Success"))


def _rate(counts: Counts) -> str:
    rate = counts.success_rate
    return "-" if rate is None else f"{rate:.1f}%"


def _cells(key: str, counts: Counts) -> tuple[str, ...]:
    return (
        key,
        f"{counts.sent:,}",
        f"{counts.delivered:,}",
        f"{counts.failed + counts.submit_failed:,}",
        f"{counts.unknown:,}",
        f"{counts.billed:,}",
        _rate(counts),
    )


def stats_json(result: StatsResult) -> dict[str, Any]:
    assert result.total is not None
    return {
        "ok": True,
        "exit_code": int(result.exit_code),
        "from": result.start.isoformat(),
        "to": result.end.isoformat(),
        "by": result.by,
        "scopes": result.scopes,
        "rows": [{result.by: line.key, **line.counts.as_json()} for line in result.lines],
        "total": result.total.as_json(),
    }


def _csv(output: Output, result: StatsResult) -> None:
    import csv
    import io

    assert result.total is not None
    fields = ["sent", "delivered", "failed", "submit_failed", "unknown", "billed", "success_rate"]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([result.by, *fields])
    for key, counts in [
        *((line.key, line.counts) for line in result.lines),
        ("total", result.total),
    ]:
        values = counts.as_json()
        writer.writerow([key, *("" if values[f] is None else values[f] for f in fields)])
    output.out.write(buffer.getvalue())  # one write: a closed stdout is handled there


def render_stats(output: Output, result: StatsResult, *, csv_mode: bool = False) -> None:
    assert result.total is not None
    if output.json_mode:
        output.json(stats_json(result))
        return
    if csv_mode:
        _csv(output, result)
        return
    scopes = tr(" and ").join(tr(SCOPES[s]) if s in SCOPES else s for s in result.scopes)
    output.info(
        tr(
            "{scopes} SMS, {start} to {end} (China dates).",
            scopes=scopes[:1].upper() + scopes[1:],
            start=result.start,
            end=result.end,
        )
    )
    headers = (tr(_KEY[result.by]), *(tr(h) for h in HEADERS))
    rows = [_cells(line.key, line.counts) for line in result.lines]
    rows.append(_cells(tr("Total"), result.total))
    table(output, headers, rows)
    if not result.lines:
        output.info(tr("Nothing was sent in that range."))
