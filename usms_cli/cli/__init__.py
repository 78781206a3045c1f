"""The ``usms`` command line (Typer only): the app, its root options, and the registration of
each command group, declared one module per group. Commands build a request, call one use case
in ``usms_cli.app`` and render its result; errors go through ``cli.funnel``.

Heavy modules (requests, rich, dotenv) are imported inside the functions that need them.
"""

# No ``from __future__ import annotations`` in the CLI modules: Typer would have to evaluate
# every string annotation of every command on each run (~60 ms per call and per TAB here).

from typing import Annotated

import typer

from usms_cli import __version__
from usms_cli.cli.config import config_app
from usms_cli.cli.funnel import UsmsGroup
from usms_cli.cli.history import history_app
from usms_cli.cli.options import EXIT_CODES

app = typer.Typer(
    name="usms",
    help="Send SMS through UCloud USMS: one command that signs, sends and tells you what happened.",
    epilog=EXIT_CODES,
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    # Plain help: rich-formatted help costs ~80 ms per call on this machine (it imports rich);
    # benchmarks/startup.py holds `usms --help` to <= 2x a bare `import typer`.
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
    cls=UsmsGroup,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"usms {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Send SMS through UCloud USMS: one command that signs, sends and tells you what happened.

    Credentials come from UCLOUD_PUBLIC_KEY and UCLOUD_PRIVATE_KEY, from ./.env, or from
    --env-file; the private key is never accepted as a command-line value.
    """


def _register() -> None:
    """Each command is declared in its own module and registered here (no import cycle)."""
    from usms_cli.cli import (
        api,
        blacklist,
        listen,
        receipt,
        sandbox,
        send,
        signature,
        stats,
        template,
    )
    from usms_cli.cli.sections import SectionedCommand

    app.command(epilog=send.SEND_EPILOG, no_args_is_help=False, cls=SectionedCommand)(send.send)
    app.command(epilog=receipt.RECEIPT_EPILOG)(receipt.receipt)
    app.add_typer(template.template_app, name="template")
    app.add_typer(signature.signature_app, name="signature")
    app.command(epilog=stats.STATS_EPILOG)(stats.stats)
    app.add_typer(blacklist.blacklist_app, name="blacklist")
    app.command(epilog=api.API_EPILOG)(api.api)
    app.command(epilog=sandbox.SANDBOX_EPILOG)(sandbox.sandbox)
    app.command(epilog=listen.LISTEN_EPILOG)(listen.listen)


_register()
app.add_typer(config_app, name="config")
app.add_typer(history_app, name="history")


def main() -> None:
    """Run the app (the console script goes through usms_cli.__main__.run)."""
    app(prog_name="usms")
