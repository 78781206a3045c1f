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
from usms_cli.i18n import tr

if TYPE_CHECKING:
    from usms_cli.app.common import Connection
    from usms_cli.app.env import Env
    from usms_cli.app.receipt import ReceiptResult
    from usms_cli.output.console import Output


RECEIPT_EPILOG = (
    "Examples: usms receipt 5a3c9e1b-7d42-4f7e-9c1a-2b8d4e6f0a13 · "
    'usms receipt --wait --wait-timeout 900 --expect 3 "$SN" · '
    "usms send -q … | usms receipt --wait - · usms receipt --json SN1 SN2\n\n"
    "The API lists only the phones that have reported. To count the others as pending, say "
    "whom the sessions went to: --phones (a file or a list) or --expect N; usms send --wait "
    "knows it already. Without them the summary says that silent phones are not counted.\n\n"
    "Receipts usually arrive within seconds but can take minutes (UCloud advises asking again "
    "5-10 minutes after sending). --wait checks after --wait-interval seconds, then backs off "
    "by 1.5x up to one minute between checks, until every phone has a final result or "
    "--wait-timeout (default 600 s) passes.\n\n"
    "--pull fetches every status report waiting for the account (PullUSMSReport: off until "
    "UCloud support enables it; reports are kept 72 h and deleted once pulled), 200 per call "
    "until none is left, at most 50 calls (10,000 reports) per run.\n\n"
    "Exit codes: 0 every known phone delivered · 1 any failed (or the API refused the query) "
    "· 2 bad usage (e.g. not a SessionNo) · 4 API unreachable · 5 some results still unknown."
)


def receipt(
    session_nos: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="SESSION_NO...",
            help="SessionNo(s) printed by usms send; one argument may hold several, separated "
            "by spaces or newlines; '-' reads them from stdin.",
            show_default=False,
        ),
    ] = None,
    last: Annotated[
        bool,
        typer.Option("--last", help="The SessionNos of the last send in the history."),
    ] = False,
    run_id: Annotated[
        int | None,
        typer.Option(
            "--run",
            metavar="ID",
            help="The SessionNos of run ID (see usms history).",
            show_default=False,
        ),
    ] = None,
    pull: Annotated[
        bool,
        typer.Option(
            "--pull",
            help="Pull the reports waiting for the account (PullUSMSReport, 200 per call, "
            "at most 50 calls); they are stored in the send history.",
        ),
    ] = False,
    wait: Annotated[
        bool, typer.Option("--wait", help="Poll until every phone has a final result.")
    ] = False,
    wait_timeout: Annotated[
        float,
        typer.Option(
            "--wait-timeout",
            metavar="SECONDS",
            help="With --wait: give up after this many seconds.",
        ),
    ] = 600.0,
    old_timeout: Annotated[
        float | None,
        typer.Option("--timeout", hidden=True, help="Old spelling of --wait-timeout."),
    ] = None,
    interval: Annotated[
        float,
        typer.Option(
            "--wait-interval",
            "--interval",
            metavar="SECONDS",
            help="With --wait: first pause between checks.",
        ),
    ] = 5.0,
    phones: Annotated[
        str | None,
        typer.Option(
            "--phones",
            metavar="FILE|LIST",
            help="The phones the sessions were sent to (a file as -f reads it, or a list): "
            "those that have not reported count as pending.",
            show_default=False,
        ),
    ] = None,
    expect: Annotated[
        int | None,
        typer.Option(
            "--expect",
            metavar="N",
            help="How many phones the sessions were sent to, when the numbers are not at hand.",
            show_default=False,
        ),
    ] = None,
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
    # long function: a Typer declaration, one parameter per option; the body is short.
    from usms_cli.app.common import Connection
    from usms_cli.app.receipt import Expected, Wait

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
        from usms_cli.app.receipt import last_run, read_phones, receipts
        from usms_cli.core.errors import InputError
        from usms_cli.output.render import render_receipts

        timeout = wait_timeout if old_timeout is None else old_timeout
        known = Expected(read_phones(phones) if phones is not None else (), expect)
        env = Env.from_process()
        waiting = Wait(wait, timeout, interval)
        if (last or run_id is not None) and session_nos:
            raise InputError(tr("give SessionNos, or --last / --run ID, not both"))
        if pull:
            return _pull(output, env, connection, bool(session_nos or last or run_id or wait))
        if last or run_id is not None:
            result = last_run(output, env, connection, run_id, waiting)
        else:
            result = receipts(output, env, connection, session_nos or [], waiting, known)
        render_receipts(output, result.state, waited=result.waited, timed_out=result.timed_out)
        return result

    finish(output, run, debug=debug)


def _pull(output: "Output", env: "Env", connection: "Connection", other: bool) -> "ReceiptResult":
    from usms_cli.app.receipt import MAX_PULL_CALLS, pull
    from usms_cli.core.errors import InputError
    from usms_cli.output.pull_view import render_pull

    if other:
        raise InputError("--pull takes no SessionNo, --last, --run or --wait: it fetches them all")
    result = pull(output, env, connection)
    render_pull(output, result, MAX_PULL_CALLS)
    return result
