"""The ``usms`` command line (Typer only): the app, its root options, and the registration of
each command group, declared one module per group. Commands build a request, call one use case
in ``usms_cli.app`` and render its result; errors go through ``cli.funnel``.

Heavy modules (requests, rich, dotenv) are imported inside the functions that need them.
"""

# No ``from __future__ import annotations`` in the CLI modules: Typer would have to evaluate
# every string annotation of every command on each run (~60 ms per call and per TAB here).

from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any

import typer

from usms_cli import __version__
from usms_cli.cli.funnel import UsmsGroup
from usms_cli.cli.options import EXIT_CODES

_app = typer.Typer(
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


@_app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
    lang: Annotated[
        str | None,
        typer.Option(
            "--lang",
            metavar="zh|en",
            help="Language of messages and help, zh or en, anywhere on the command line "
            "(default: USMS_LANG, the profile's language, then LC_ALL/LC_MESSAGES/LANG).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Send SMS through UCloud USMS: one command that signs, sends and tells you what happened.

    Credentials come from UCLOUD_PUBLIC_KEY and UCLOUD_PRIVATE_KEY, from ./.env, or from
    --env-file; the private key is never accepted as a command-line value.
    """


def _send() -> None:
    from usms_cli.cli import send
    from usms_cli.cli.sections import SectionedCommand

    _app.command(epilog=send.SEND_EPILOG, no_args_is_help=False, cls=SectionedCommand)(send.send)


def _receipt() -> None:
    from usms_cli.cli import receipt

    _app.command(epilog=receipt.RECEIPT_EPILOG)(receipt.receipt)


def _template() -> None:
    from usms_cli.cli import template

    _app.add_typer(template.template_app, name="template")


def _signature() -> None:
    from usms_cli.cli import signature

    _app.add_typer(signature.signature_app, name="signature")


def _stats() -> None:
    from usms_cli.cli import stats

    _app.command(epilog=stats.STATS_EPILOG)(stats.stats)


def _blacklist() -> None:
    from usms_cli.cli import blacklist

    _app.add_typer(blacklist.blacklist_app, name="blacklist")


def _suppress() -> None:
    from usms_cli.cli.suppress import suppress_app

    _app.add_typer(suppress_app, name="suppress")


def _api() -> None:
    from usms_cli.cli import api

    _app.command(epilog=api.API_EPILOG)(api.api)


def _history() -> None:
    from usms_cli.cli.history import history_app

    _app.add_typer(history_app, name="history")


def _sandbox() -> None:
    from usms_cli.cli import sandbox

    _app.add_typer(sandbox.sandbox_app, name="sandbox")


def _listen() -> None:
    from usms_cli.cli import listen

    _app.command(epilog=listen.LISTEN_EPILOG)(listen.listen)


def _config() -> None:
    from usms_cli.cli.config import config_app

    _app.add_typer(config_app, name="config")


# Each command group is declared in its own module and registered here, in the order --help
# lists them. Typer turns every registered command into a Click command on every run (about
# 1 ms per option), so a run that names its command registers only that one.
COMMANDS: dict[str, Callable[[], None]] = {
    "send": _send,
    "receipt": _receipt,
    "template": _template,
    "signature": _signature,
    "stats": _stats,
    "blacklist": _blacklist,
    "suppress": _suppress,
    "api": _api,
    "history": _history,
    "sandbox": _sandbox,
    "listen": _listen,
    "config": _config,
}


# What TAB completion of a command name shows, in the order the app lists its commands (single
# commands, then groups). A test keeps it equal to the registered commands' short help. Completing
# a command name then builds twelve empty commands instead of the whole tree (~20 ms per TAB).
NAMES: dict[str, str] = {
    "send": "Send one template to one or many numbers...",
    "receipt": "Show delivery receipts...",
    "stats": "Send statistics with a total...",
    "api": "Sign and send any action; print its JSON...",
    "listen": "Receive UCloud's pushed delivery reports...",
    "template": "Templates: create, update, delete, show,...",
    "signature": "Signatures: create, update, delete, show,...",
    "blacklist": "The blacklist: numbers that must receive...",
    "suppress": "Numbers that opted out of marketing SMS:...",
    "history": "What was sent to whom: the local send...",
    "sandbox": "Run a local USMS-compatible endpoint for...",
    "config": "Show where each setting comes from, and...",
}
NAMES_ONLY = "<names>"  # invoked(): a command name is being completed


def _completed_words(environ: Mapping[str, str]) -> list[str]:
    """The words TAB completion has before the one being completed (after ``usms``), read as
    Typer's bash, zsh and fish classes read them."""
    if "COMP_WORDS" in environ:  # bash
        cword = environ.get("COMP_CWORD", "")
        words = environ["COMP_WORDS"].split()
        return words[1 : int(cword)] if cword.isdigit() else words[1:]
    line = environ.get("_TYPER_COMPLETE_ARGS", "")  # zsh, fish: the line up to the cursor
    words = line.split()[1:]
    if "_TYPER_COMPLETE_WORD_TO_COMPLETE" in environ:  # PowerShell
        return words[:-1] if environ["_TYPER_COMPLETE_WORD_TO_COMPLETE"] else words
    return words if line.endswith(" ") else words[:-1]


def invoked(argv: Sequence[str], environ: Mapping[str, str]) -> str | None:
    """The command a run names, when it can be told for sure; ``NAMES_ONLY`` when TAB is
    completing the command name itself; None means all of them (help, anything unexpected)."""
    if environ.get("_USMS_COMPLETE"):
        if not environ["_USMS_COMPLETE"].startswith("complete_"):
            return None  # source_bash etc.: the script, written from the whole app
        typed = _completed_words(environ)
        if not typed:
            return NAMES_ONLY
        return typed[0] if typed[0] in COMMANDS else None
    first = next((arg for arg in argv if not arg.startswith("-")), None)
    if first in COMMANDS and argv[0] == first:
        return first
    return None


def _name_only(name: str, short_help: str) -> None:
    def command() -> None:  # never runs: completion stops before any command does
        raise typer.Exit(2)

    _app.command(name, short_help=short_help, add_help_option=False)(command)


_registered: set[str] = set()


def register(only: str | None = None) -> None:
    """Register ``only`` that command, or every one; each at most once. ``NAMES_ONLY``
    registers each name with its short help and nothing else, for TAB completion."""
    if only == NAMES_ONLY:
        for name, short_help in NAMES.items():
            _name_only(name, short_help)
        return
    for name, add in COMMANDS.items():
        if (only is None or name == only) and name not in _registered:
            _registered.add(name)
            add()


def main() -> None:
    """Run the app (the console script goes through usms_cli.__main__.run)."""
    import os
    import sys

    register(invoked(sys.argv[1:], os.environ))
    _app(prog_name="usms")


def __getattr__(name: str) -> Any:
    """``from usms_cli.cli import app`` (tests, CliRunner, library users) gets the app with
    every command registered; ``main`` registers only what the run needs."""
    if name == "app":
        register()
        return _app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
