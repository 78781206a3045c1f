"""The ``usms`` command line: declares options and wires parsing, sending and rendering.

Nothing here signs, parses numbers or speaks HTTP; see ``core``, ``phones``, ``client``.
Heavy modules (requests, rich, dotenv) are imported inside the functions that need them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from usms_cli import __version__
from usms_cli.errors import ExitCode, UsmsError

EXIT_CODES = (
    "Exit codes: 0 all accepted · 1 refused by the API · 2 bad usage, input or configuration "
    "(nothing sent) · 3 partly sent · 4 API unreachable (nothing sent) · 5 outcome unknown "
    "(may have been sent; never resent) · 130 interrupted."
)

app = typer.Typer(
    name="usms",
    help="Send SMS through UCloud USMS: one command that signs, sends and tells you what happened.",
    epilog=EXIT_CODES,
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
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


# ---- options shared by the commands that call the API --------------------------------------
ProjectOpt = Annotated[
    str | None,
    typer.Option(
        "--project-id",
        metavar="ID",
        help="UCloud project id. (env UCLOUD_PROJECT_ID)",
        show_default=False,
    ),
]
BaseUrlOpt = Annotated[
    str | None,
    typer.Option(
        "--base-url",
        metavar="URL",
        help="API endpoint (default https://api.ucloud.cn; http:// only for loopback). "
        "(env UCLOUD_API_BASE_URL, UCLOUD_BASE_URL)",
        show_default=False,
    ),
]
TimeoutOpt = Annotated[
    str | None,
    typer.Option(
        "--timeout",
        metavar="SECONDS",
        help="Seconds to wait for the API (default 30). (env UCLOUD_TIMEOUT_SECOND)",
        show_default=False,
    ),
]
EnvFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--env-file",
        metavar="PATH",
        dir_okay=False,
        help="Read settings from this .env file instead of ./.env.",
        show_default=False,
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]
QuietOpt = Annotated[bool, typer.Option("-q", "--quiet", help="Print only the SessionNo(s).")]
VerboseOpt = Annotated[
    bool, typer.Option("-v", "--verbose", help="Show requests and answers on stderr (redacted).")
]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show a traceback on unexpected errors.")]

SEND_EPILOG = (
    """\
Examples:

  usms send -t UTA1234 -s Acme -p 123456 13800000000

  usms send -t UTA1234 -s Acme -f numbers.txt --dry-run

  some-command | usms send -t UTA1234 -s Acme -f -

  SN=$(usms send -q -t UTA1234 -s Acme 13800000000)

"""
    + EXIT_CODES
)


@app.command(epilog=SEND_EPILOG, no_args_is_help=False)
def send(
    phones: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[PHONE]...",
            help="Phone numbers; each argument may hold several, separated by commas "
            "or spaces. +CC/00CC/(CC) prefixes for numbers outside mainland China.",
            show_default=False,
        ),
    ] = None,
    files: Annotated[
        list[str] | None,
        typer.Option(
            "-f",
            "--file",
            metavar="PATH",
            help="Read numbers from a file, one per line (# comments ok); '-' reads "
            "stdin; *.csv files use their first column. Repeatable.",
            show_default=False,
        ),
    ] = None,
    column: Annotated[
        str | None,
        typer.Option(
            "--column",
            metavar="NAME|INDEX",
            help="CSV column holding the numbers: header name or 1-based index.",
            show_default=False,
        ),
    ] = None,
    template_id: Annotated[
        str | None,
        typer.Option(
            "-t",
            "--template-id",
            metavar="ID",
            help="Approved template id. (env USMS_TEMPLATE_ID)",
            show_default=False,
        ),
    ] = None,
    sig_content: Annotated[
        str | None,
        typer.Option(
            "-s",
            "--sig-content",
            metavar="TEXT",
            help="Approved signature text, without 【】. (env USMS_SIG_CONTENT)",
            show_default=False,
        ),
    ] = None,
    params: Annotated[
        list[str] | None,
        typer.Option(
            "-p",
            "--param",
            metavar="VALUE",
            help="Template parameter; repeat in template order ({1}, {2}, …).",
            show_default=False,
        ),
    ] = None,
    extend_code: Annotated[
        str | None,
        typer.Option(
            "--extend-code", metavar="DIGITS", help="Extension code (digits).", show_default=False
        ),
    ] = None,
    user_id: Annotated[
        str | None,
        typer.Option(
            "--user-id",
            metavar="TAG",
            help="Your own tag (≤32 chars), echoed in receipts.",
            show_default=False,
        ),
    ] = None,
    project_id: ProjectOpt = None,
    base_url: BaseUrlOpt = None,
    timeout: TimeoutOpt = None,
    env_file: EnvFileOpt = None,
    skip_invalid: Annotated[
        bool, typer.Option("--skip-invalid", help="Send to the valid numbers, report the rest.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Parse, validate, build and sign; send nothing.")
    ] = False,
    json_mode: JsonOpt = False,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Send one template to one or many numbers (SendUSMSMessage, 1000 numbers per request)."""
    from usms_cli.render import Output

    output = Output(json_mode=json_mode, quiet=quiet)
    flags = {
        "project_id": project_id,
        "base_url": base_url,
        "timeout": timeout,
        "template_id": template_id,
        "sig_content": sig_content,
    }

    def run() -> ExitCode:
        from usms_cli.commands import run_send

        return run_send(
            output,
            flags=flags,
            env_file=env_file,
            phones=phones or [],
            files=files or [],
            column=column,
            params=params or [],
            extend_code=extend_code,
            user_id=user_id,
            skip_invalid=skip_invalid,
            dry_run=dry_run,
            verbose=verbose,
        )

    _finish(output, run, debug=debug)


def _finish(output: object, run: object, *, debug: bool) -> NoReturn:
    """The one error funnel: expected errors become a message and an exit code.

    No traceback reaches the user unless --debug is given.
    """
    from usms_cli.render import Output

    assert isinstance(output, Output) and callable(run)
    try:
        code = run()
    except UsmsError as exc:
        output.usms_error(exc)
        code = exc.exit_code
    except KeyboardInterrupt:
        output.error("interrupted")
        code = ExitCode.INTERRUPTED
    except (typer.Exit, typer.Abort):
        raise
    except Exception as exc:
        if debug:
            raise
        output.error(
            f"unexpected internal error ({type(exc).__name__}); nothing more is known",
            hint="run again with --debug to see the traceback, and please report it",
        )
        code = ExitCode.INTERNAL
    raise typer.Exit(int(code))


def main() -> None:
    """Console-script entry point."""
    if os.environ.get("TERM") == "dumb" or "NO_COLOR" in os.environ:
        os.environ.setdefault("TYPER_USE_RICH", os.environ.get("TYPER_USE_RICH", "1"))
    app(prog_name="usms")


if __name__ == "__main__":  # pragma: no cover
    main()
