"""``usms suppress add|remove|list|push``: the local list of numbers that opted out of
marketing SMS (kept in the send history file)."""

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

SUPPRESS_EPILOG = (
    "Examples: usms suppress list · usms suppress add 13800000000 --note 'asked by phone' · "
    "usms suppress remove 13800000000 · usms suppress push\n\n"
    "usms listen adds a number when its reply is an opt-out keyword (TD, R, 退订, STOP, …; "
    "--opt-out-words or USMS_OPT_OUT_WORDS replace them). usms send leaves the numbers on the "
    "list out when the template is for marketing (--include-suppressed sends to them). The "
    "list is kept in the send history file (USMS_HISTORY; off turns both off), mode 0600.\n\n"
    "Exit codes: 0 done · 2 bad input or the history is off (nothing changed) · push: as "
    "usms blacklist add."
)

ADD_EPILOG = (
    "Example: usms suppress add 13800000000 --note 'asked by phone' · usms suppress add -f "
    "opt-outs.txt\n\nExit codes: 0 added (or already there) · 2 bad input or the history is "
    "off (nothing changed)."
)
REMOVE_EPILOG = (
    "Example: usms suppress remove 13800000000\n\nExit codes: 0 removed (or not there) · 2 "
    "bad input or the history is off (nothing changed)."
)
LIST_EPILOG = (
    "Example: usms suppress list · usms suppress list --json\n\nNumbers are masked and "
    "reply text shown as its length unless --show-pii; --json and -q give the numbers in "
    "full.\n\nExit codes: 0 shown · 2 the history is off."
)
PUSH_EPILOG = (
    "Example: usms suppress push · usms suppress push --global --json\n\nEvery number on the "
    "list goes to BatchCreateUSMSBlacklistPhone with purpose marketing (1000 per request), "
    "as usms blacklist add sends them; the result says what became of each number.\n\n"
    "Exit codes: 0 all added · 1 refused · 2 bad input or an empty list (nothing sent) · 3 "
    "some added, some not · 4 API unreachable · 5 some not confirmed (pushing again is "
    "harmless)."
)

suppress_app = typer.Typer(
    name="suppress",
    help="Numbers that opted out of marketing SMS: the local suppression list.",
    epilog=SUPPRESS_EPILOG,
    no_args_is_help=True,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

PhonesArg = Annotated[
    list[str] | None,
    typer.Argument(
        metavar="[NUMBER]...",
        help="Phone numbers; +CC/00CC/(CC) prefixes for numbers abroad.",
        show_default=False,
    ),
]
FilesOpt = Annotated[
    list[str] | None,
    typer.Option(
        "-f",
        "--file",
        metavar="PATH",
        help="Read numbers from a file, one per line; '-' reads stdin. Repeatable.",
        show_default=False,
    ),
]
QuietOpt = Annotated[
    bool, typer.Option("-q", "--quiet", help="Print only the numbers, one a line (in full).")
]
ShowPiiOpt = Annotated[
    bool,
    typer.Option(
        "--show-pii", help="Show phone numbers and reply text in full (masked by default)."
    ),
]


@suppress_app.command("add", epilog=ADD_EPILOG)
def add(
    phones: PhonesArg = None,
    files: FilesOpt = None,
    note: Annotated[
        str,
        typer.Option("--note", metavar="TEXT", help="Why (shown by list).", show_default=False),
    ] = "",
    json_mode: JsonOpt = False,
    quiet: QuietOpt = False,
    show_pii: ShowPiiOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Put numbers on the suppression list by hand (marketing sends skip them)."""
    from usms_cli.app import suppress
    from usms_cli.output.suppress_view import render_suppress

    run(
        lambda output, env: suppress.add(output, env, phones or [], files or [], note),
        render_suppress,
        json_mode=json_mode,
        quiet=quiet,
        show_pii=show_pii,
        debug=debug,
    )


@suppress_app.command("remove", epilog=REMOVE_EPILOG)
def remove(
    phones: PhonesArg = None,
    files: FilesOpt = None,
    json_mode: JsonOpt = False,
    quiet: QuietOpt = False,
    show_pii: ShowPiiOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Take numbers off the suppression list (they get marketing SMS again)."""
    from usms_cli.app import suppress
    from usms_cli.output.suppress_view import render_suppress

    run(
        lambda output, env: suppress.remove(output, env, phones or [], files or []),
        render_suppress,
        json_mode=json_mode,
        quiet=quiet,
        show_pii=show_pii,
        debug=debug,
    )


@suppress_app.command("list", epilog=LIST_EPILOG)
def list_(
    json_mode: JsonOpt = False,
    quiet: QuietOpt = False,
    show_pii: ShowPiiOpt = False,
    debug: DebugOpt = False,
) -> None:
    """The numbers on the list, when and why they were added (masked; --json in full)."""
    from usms_cli.app import suppress
    from usms_cli.output.suppress_view import render_suppress

    run(
        suppress.listing,
        render_suppress,
        json_mode=json_mode,
        quiet=quiet,
        show_pii=show_pii,
        debug=debug,
    )


@suppress_app.command("push", epilog=PUSH_EPILOG)
def push(
    is_global: Annotated[
        bool, typer.Option("--global", help="For every project of the account.")
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
    """Add the whole list to UCloud's blacklist for marketing SMS (BatchCreateUSMSBlacklistPhone),
    so other senders of the account skip the numbers too; reports each number's result."""
    from usms_cli.app import suppress
    from usms_cli.output.admin import render_blacklist

    conn = connection(profile, project_id, base_url, env_file, verbose)
    run(
        lambda output, env: suppress.push(output, env, conn, is_global),
        render_blacklist,
        json_mode=json_mode,
        quiet=quiet,
        show_pii=show_pii,
        debug=debug,
    )
