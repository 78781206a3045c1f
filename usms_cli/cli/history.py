"""``usms history``: what was sent to whom, from the local send history; ``prune``."""

# No ``from __future__ import annotations`` in the CLI modules (start-up time; see send.py).

from typing import TYPE_CHECKING, Annotated

import typer

from usms_cli.cli.funnel import console, finish
from usms_cli.cli.options import DebugOpt, JsonOpt
from usms_cli.i18n import tr

if TYPE_CHECKING:
    from usms_cli.app.history import Listing

HISTORY_EPILOG = (
    "Examples: usms history · usms history --phone 13800000000 · usms history --since 2d "
    "--template UTA1234 --json · usms history prune --older-than 90d\n\n"
    "Every real send is recorded (not --dry-run, not --sandbox unless USMS_HISTORY names a "
    "file) in $XDG_STATE_HOME/usms/history.sqlite3 (~/.local/state/usms/…), mode 0600; "
    "USMS_HISTORY=PATH moves it, USMS_HISTORY=off or send --no-history turns it off. It keeps "
    "at most 1,000,000 numbers (the oldest runs go first). Params are never stored, only a "
    "salted hash.\n\n"
    "Exit codes: 0 shown · 2 bad options, or no history yet."
)

history_app = typer.Typer(
    name="history",
    help="What was sent to whom: the local send history.",
    epilog=HISTORY_EPILOG,
    invoke_without_command=True,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@history_app.callback()
def history(
    ctx: typer.Context,
    phone: Annotated[
        str | None,
        typer.Option(
            "--phone", metavar="NUMBER", help="Everything sent to one number.", show_default=False
        ),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since", metavar="AGE", help="Only this recent: 30m, 12h, 2d, 1w.", show_default=False
        ),
    ] = None,
    template: Annotated[
        str | None,
        typer.Option(
            "--template", metavar="ID", help="Only runs of this template.", show_default=False
        ),
    ] = None,
    limit: Annotated[int, typer.Option("--limit", metavar="N", help="At most N rows.")] = 20,
    show_pii: Annotated[
        bool, typer.Option("--show-pii", help="Show phone numbers in full (masked by default).")
    ] = False,
    json_mode: JsonOpt = False,
    debug: DebugOpt = False,
) -> None:
    """List recent sends (runs), or everything sent to one number with its receipts."""
    if ctx.invoked_subcommand is not None:
        return
    output = console(json_mode=json_mode, show_pii=show_pii)

    def run() -> "Listing":
        from usms_cli.app.env import Env
        from usms_cli.app.history import listing
        from usms_cli.output.history_view import render_runs, render_sends

        found = listing(
            Env.from_process(), phone=phone, since=since, template_id=template, limit=limit
        )
        if found.phone is not None:
            render_sends(output, found.phone, found.sends)
        else:
            render_runs(output, found.runs)
        return found

    finish(output, run, debug=debug)


@history_app.command(epilog=HISTORY_EPILOG)
def prune(
    older_than: Annotated[
        str, typer.Option("--older-than", metavar="AGE", help="Forget runs older than this: 90d.")
    ],
    json_mode: JsonOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Forget the sends older than an age."""
    output = console(json_mode=json_mode)

    def run() -> "Listing":
        from usms_cli.app.env import Env
        from usms_cli.app.history import prune as prune_history

        done = prune_history(Env.from_process(), older_than)
        if output.json_mode:
            output.json({"ok": True, "numbers_removed": done.pruned})
        else:
            output.out.line(tr("Removed {count:,} recorded numbers.", count=done.pruned or 0))
        return done

    finish(output, run, debug=debug)
