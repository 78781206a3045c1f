"""``usms stats``: what was sent, delivered, failed and billed over a date range."""

# No ``from __future__ import annotations`` in the CLI modules (start-up time; see send.py).

from typing import Annotated

import typer

from usms_cli.cli.account import connection, run
from usms_cli.cli.options import (
    BaseUrlOpt,
    DebugOpt,
    EnvFileOpt,
    JsonOpt,
    ProfileOpt,
    ProjectOpt,
    VerboseOpt,
)

STATS_EPILOG = (
    "Examples: usms stats · usms stats --from 2026-11-01 --to 2026-11-30 --by template · "
    "usms stats --international --by country --csv > november.csv · "
    "usms stats --template UTA1234 --json\n\n"
    "Dates are China dates, YYYY-MM-DD; the default is the current month so far. Without "
    "--domestic or --international both are counted. Every page of the answer is read. "
    "Failed counts include messages the carriers never accepted; success is delivered out of "
    "sent.\n\n"
    "Exit codes: 0 shown · 1 refused by the API · 2 bad dates or options · 4 API unreachable "
    "· 5 an answer usms cannot read."
)


def stats(
    start: Annotated[
        str | None,
        typer.Option(
            "--from",
            metavar="YYYY-MM-DD",
            help="First day (default: the 1st of this month).",
            show_default=False,
        ),
    ] = None,
    end: Annotated[
        str | None,
        typer.Option(
            "--to", metavar="YYYY-MM-DD", help="Last day (default: today).", show_default=False
        ),
    ] = None,
    domestic: Annotated[
        bool | None,
        typer.Option(
            "--domestic/--international",
            help="Only domestic (mainland China) or only international SMS (default: both).",
            show_default=False,
        ),
    ] = None,
    purpose: Annotated[
        str | None,
        typer.Option(
            "--purpose", metavar="code|notice|marketing", help="Only this kind.", show_default=False
        ),
    ] = None,
    template_id: Annotated[
        str | None,
        typer.Option(
            "--template", metavar="TEMPLATE_ID", help="Only this template.", show_default=False
        ),
    ] = None,
    country: Annotated[
        str | None,
        typer.Option(
            "--country",
            metavar="CODES",
            help="Only these countries: CN, or CN-ID.",
            show_default=False,
        ),
    ] = None,
    by: Annotated[
        str, typer.Option("--by", metavar="day|template|country", help="One row per …")
    ] = "day",
    csv_mode: Annotated[
        bool, typer.Option("--csv", help="Print CSV rows (the total last) on stdout.")
    ] = False,
    project_id: ProjectOpt = None,
    base_url: BaseUrlOpt = None,
    env_file: EnvFileOpt = None,
    profile: ProfileOpt = None,
    json_mode: JsonOpt = False,
    verbose: VerboseOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Send statistics with a total (GetUSMSSendStatistics, GetUSMSTemplateSendStatistics)."""
    from usms_cli.app.stats import StatsRequest
    from usms_cli.app.stats import stats as run_stats
    from usms_cli.output.stats_view import render_stats

    conn = connection(profile, project_id, base_url, env_file, verbose)
    request = StatsRequest(start, end, domestic, purpose, template_id, by.strip().lower(), country)
    run(
        lambda output, env: run_stats(output, env, conn, request),
        lambda output, result: render_stats(output, result, csv_mode=csv_mode),
        json_mode=json_mode,
        debug=debug,
    )
