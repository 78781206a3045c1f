"""``usms receipt``: delivery receipts, once or until final."""

# No ``from __future__ import annotations`` in the CLI modules (start-up time; see send.py).

from typing import TYPE_CHECKING, Annotated

import typer

from usms_cli.cli.funnel import console, finish
from usms_cli.cli.options import (
    BaseUrlOpt,
    DebugOpt,
    EnvFileOpt,
    JsonOpt,
    ProfileOpt,
    ProjectOpt,
    VerboseOpt,
)

if TYPE_CHECKING:
    from usms_cli.app.receipt import ReceiptResult


RECEIPT_EPILOG = (
    "Examples: usms receipt 5a3c9e1b-7d42-4f7e-9c1a-2b8d4e6f0a13 · "
    'usms receipt --wait --timeout 900 "$SN" · usms receipt --json SN1 SN2\n\n'
    "Receipts usually arrive within seconds but can take minutes (UCloud advises asking again "
    "5-10 minutes after sending). --wait checks after --interval seconds, then backs off by 1.5x "
    "up to one minute between checks, until every phone has a final result or --timeout "
    "(default 600 s) passes.\n\n"
    "Exit codes: 0 all delivered · 1 any failed (or the API refused the query) · 2 bad usage "
    "· 4 API unreachable · 5 some results still unknown."
)


def receipt(
    session_nos: Annotated[
        list[str],
        typer.Argument(
            metavar="SESSION_NO...", help="SessionNo(s) printed by usms send.", show_default=False
        ),
    ],
    wait: Annotated[
        bool, typer.Option("--wait", help="Poll until every phone has a final result.")
    ] = False,
    wait_timeout: Annotated[
        float,
        typer.Option(
            "--timeout",
            "--wait-timeout",
            metavar="SECONDS",
            help="With --wait: give up after this many seconds.",
        ),
    ] = 600.0,
    interval: Annotated[
        float,
        typer.Option(
            "--interval", metavar="SECONDS", help="With --wait: first pause between checks."
        ),
    ] = 5.0,
    project_id: ProjectOpt = None,
    base_url: BaseUrlOpt = None,
    env_file: EnvFileOpt = None,
    profile: ProfileOpt = None,
    json_mode: JsonOpt = False,
    quiet: Annotated[
        bool, typer.Option("-q", "--quiet", help="Print only 'phone<TAB>result' lines.")
    ] = False,
    show_pii: Annotated[
        bool,
        typer.Option("--show-pii", help="Show phone numbers in full (masked by default)."),
    ] = False,
    verbose: VerboseOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Show delivery receipts (GetUSMSSendReceipt, 100 SessionNos per request)."""
    from usms_cli.app.common import Connection
    from usms_cli.app.receipt import Wait

    output = console(json_mode=json_mode, quiet=quiet, show_pii=show_pii)
    connection = Connection(
        profile=profile,
        project_id=project_id,
        base_url=base_url,
        env_file=env_file,
        verbose=verbose,
    )

    def run() -> "ReceiptResult":
        from usms_cli.app.env import Env
        from usms_cli.app.receipt import receipts
        from usms_cli.output.render import render_receipts

        result = receipts(
            output, Env.from_process(), connection, session_nos, Wait(wait, wait_timeout, interval)
        )
        render_receipts(output, result.state, waited=result.waited, timed_out=result.timed_out)
        return result

    finish(output, run, debug=debug)
