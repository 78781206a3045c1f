"""``usms blacklist add``: numbers that must receive no SMS (BatchCreateUSMSBlacklistPhone)."""

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

blacklist_app = typer.Typer(
    no_args_is_help=True,
    rich_markup_mode=None,
    help="The blacklist: numbers that must receive no SMS.",
)

ADD_EPILOG = (
    "Examples: usms blacklist add 13800000000 · usms blacklist add -f opt-outs.txt --purpose "
    "marketing --remark 'replied R' · cat stop.txt | usms blacklist add -f - --global --json\n\n"
    "Numbers are read exactly as usms send reads them (arguments, -f files, '-' for stdin, "
    "*.csv first column) and sent 1000 per request. Human output masks them; --json and -q "
    "give them in full.\n\n"
    "Exit codes: 0 all added · 1 refused · 2 bad input (nothing sent) · 3 some added, some "
    "not · 4 API unreachable · 5 some not confirmed (adding again is harmless)."
)


@blacklist_app.command(epilog=ADD_EPILOG)
def add(
    phones: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[NUMBER]...",
            help="Phone numbers; +CC/00CC/(CC) prefixes for numbers abroad.",
            show_default=False,
        ),
    ] = None,
    files: Annotated[
        list[str] | None,
        typer.Option(
            "-f",
            "--file",
            metavar="PATH",
            help="Read numbers from a file, one per line; '-' reads stdin. Repeatable.",
            show_default=False,
        ),
    ] = None,
    purpose: Annotated[
        str,
        typer.Option(
            "--purpose",
            metavar="all|code|notice|marketing",
            help="Which SMS the numbers must not get.",
        ),
    ] = "all",
    is_global: Annotated[
        bool, typer.Option("--global", help="For every project of the account.")
    ] = False,
    remark: Annotated[
        str | None,
        typer.Option(
            "--remark", metavar="TEXT", help="A note (at most 256 characters).", show_default=False
        ),
    ] = None,
    skip_invalid: Annotated[
        bool, typer.Option("--skip-invalid", help="Add the valid numbers, skip the invalid.")
    ] = False,
    project_id: ProjectOpt = None,
    base_url: BaseUrlOpt = None,
    env_file: EnvFileOpt = None,
    profile: ProfileOpt = None,
    json_mode: JsonOpt = False,
    quiet: Annotated[
        bool, typer.Option("-q", "--quiet", help="Print only the numbers added, one a line.")
    ] = False,
    show_pii: Annotated[
        bool, typer.Option("--show-pii", help="Show phone numbers in full (masked by default).")
    ] = False,
    verbose: VerboseOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Add numbers to the blacklist (BatchCreateUSMSBlacklistPhone, 1000 per request)."""
    from usms_cli.app.blacklist import BlacklistRequest
    from usms_cli.app.blacklist import add as run_add
    from usms_cli.output.admin import render_blacklist

    conn = connection(profile, project_id, base_url, env_file, verbose)
    request = BlacklistRequest(
        tuple(phones or ()), tuple(files or ()), purpose, is_global, remark, skip_invalid
    )
    run(
        lambda output, env: run_add(output, env, conn, request),
        render_blacklist,
        json_mode=json_mode,
        quiet=quiet,
        show_pii=show_pii,
        debug=debug,
    )
