"""The ``usms`` command line: declares options and wires parsing, sending and rendering.

Nothing here signs, parses numbers or speaks HTTP; see ``core``, ``phones``, ``client``.
Heavy modules (requests, rich, dotenv) are imported inside the functions that need them.
"""

# No ``from __future__ import annotations`` in the CLI modules: Typer would have to evaluate
# every string annotation of every command on each run (~60 ms per call and per TAB here).

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from usms_cli import __version__
from usms_cli.cli.config import config_app
from usms_cli.cli.options import (
    BaseUrlOpt,
    DebugOpt,
    EnvFileOpt,
    JsonOpt,
    ProfileOpt,
    ProjectOpt,
    QuietOpt,
    TimeoutOpt,
    VerboseOpt,
)
from usms_cli.core.errors import ExitCode, UsmsError

if TYPE_CHECKING:
    from usms_cli.output.render import Output

EXIT_CODES = (
    "Exit codes: 0 all accepted · 1 refused by the API · 2 bad usage, input or configuration "
    "(nothing sent) · 3 partly sent · 4 API unreachable (nothing sent) · 5 outcome unknown "
    "(may have been sent; never resent) · 70 internal error (--debug shows the traceback) · "
    "130 interrupted (143 SIGTERM)."
)

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
)
app.add_typer(config_app, name="config")


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


SEND_EPILOG = (
    """\
Examples:

  usms send -t UTA1234 -s Acme -p 123456 13800000000

  usms send -t UTA1234 -s Acme -f numbers.txt --dry-run

  some-command | usms send -t UTA1234 -s Acme -f -

  SN=$(usms send -q -t UTA1234 -s Acme 13800000000)

  usms send --csv people.csv -t UTA1234 -s Acme --dry-run --preview 3

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
    csv_file: Annotated[
        str | None,
        typer.Option(
            "--csv",
            metavar="FILE",
            help="Personalised messages (SendBatchUSMSMessage, 200 rows per request): one row "
            "per recipient, the header row names the columns; '-' reads stdin. Not with phone "
            "arguments, -f or -p.",
            show_default=False,
        ),
    ] = None,
    phone_column: Annotated[
        str | None,
        typer.Option(
            "--phone-column",
            metavar="NAME",
            help="With --csv: the column holding the phone numbers (default: phone).",
            show_default=False,
        ),
    ] = None,
    param_columns: Annotated[
        str | None,
        typer.Option(
            "--param-columns",
            metavar="A,B,C",
            help="With --csv: the columns giving {1}, {2}, … in this order (default: every "
            "column but the phone and user_id ones, in file order; '' for none).",
            show_default=False,
        ),
    ] = None,
    user_id_column: Annotated[
        str | None,
        typer.Option(
            "--user-id-column",
            metavar="NAME",
            help="With --csv: the column giving each row's UserId (default: user_id, if the "
            "file has one).",
            show_default=False,
        ),
    ] = None,
    preview: Annotated[
        int | None,
        typer.Option(
            "--preview",
            metavar="N",
            min=1,
            help="With --csv --dry-run: show the first N messages as recipients will read them "
            "(when the template text can be looked up), else their params.",
            show_default=False,
        ),
    ] = None,
    project_id: ProjectOpt = None,
    base_url: BaseUrlOpt = None,
    timeout: TimeoutOpt = None,
    env_file: EnvFileOpt = None,
    profile: ProfileOpt = None,
    skip_invalid: Annotated[
        bool,
        typer.Option(
            "--skip-invalid", help="Send to the valid numbers (or CSV rows), report the rest."
        ),
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Parse, validate, build and sign; send nothing.")
    ] = False,
    concurrency: Annotated[
        int,
        typer.Option(
            "-c",
            "--concurrency",
            metavar="N",
            min=1,
            max=16,
            help="Requests in flight at once (1-16), over one keep-alive connection pool.",
        ),
    ] = 4,
    rate: Annotated[
        float | None,
        typer.Option(
            "--rate",
            metavar="PER_SECOND",
            help="At most this many requests per second (all workers together).",
            show_default=False,
        ),
    ] = None,
    journal: Annotated[
        Path | None,
        typer.Option(
            "--journal",
            metavar="FILE",
            dir_okay=False,
            help="Record every request (JSONL). Run the same command again with the same "
            "journal to send only what was not accepted yet.",
            show_default=False,
        ),
    ] = None,
    wait_lock: Annotated[
        float,
        typer.Option(
            "--wait-lock",
            metavar="SECONDS",
            min=0,
            help="With --journal: when another usms run holds the journal, wait up to this "
            "long for it (default: exit 2 at once).",
        ),
    ] = 0.0,
    resend_unknown: Annotated[
        bool,
        typer.Option(
            "--resend-unknown",
            help="With --journal: also resend requests whose outcome was unknown "
            "(they may already have been delivered).",
        ),
    ] = False,
    failed_out: Annotated[
        Path | None,
        typer.Option(
            "--failed-out",
            metavar="FILE",
            dir_okay=False,
            help="Write the numbers not accepted to FILE, one per line, ready for -f "
            "(with --csv: the rows not accepted, same header, ready for --csv); an empty "
            "file when every number was accepted.",
            show_default=False,
        ),
    ] = None,
    sandbox: Annotated[
        bool,
        typer.Option(
            "--sandbox",
            help="Send through a local sandbox started for this command (throwaway keys; "
            "no account, nothing leaves this machine).",
        ),
    ] = False,
    wait: Annotated[
        bool,
        typer.Option(
            "--wait", help="After sending, wait for delivery receipts (see usms receipt)."
        ),
    ] = False,
    wait_timeout: Annotated[
        float,
        typer.Option("--wait-timeout", metavar="SECONDS", help="With --wait: give up after this."),
    ] = 600.0,
    wait_interval: Annotated[
        float,
        typer.Option(
            "--wait-interval", metavar="SECONDS", help="With --wait: first pause between checks."
        ),
    ] = 5.0,
    template_text: Annotated[
        str | None,
        typer.Option(
            "--template-text",
            metavar="TEXT",
            help="The template's text, e.g. '您的验证码是{1}': checks the params and the length "
            "(at most 500 characters) before sending; --dry-run shows the cost in SMS segments.",
            show_default=False,
        ),
    ] = None,
    show_pii: Annotated[
        bool,
        typer.Option(
            "--show-pii",
            help="Show phone numbers and template params in full in human output (masked by "
            "default; --json, -q, --journal and --failed-out always keep them).",
        ),
    ] = False,
    report_dotenv: Annotated[
        Path | None,
        typer.Option(
            "--report-dotenv",
            metavar="FILE",
            dir_okay=False,
            help="Write the results as USMS_*=value lines (a GitLab dotenv report).",
            show_default=False,
        ),
    ] = None,
    confirm_above: Annotated[
        int | None,
        typer.Option(
            "--confirm-above",
            metavar="N",
            min=0,
            envvar="USMS_CONFIRM_ABOVE",
            show_envvar=False,
            help="Ask before sending to more than N recipients (default 1000, in a terminal "
            "only); when set, runs without a terminal need --yes. (env USMS_CONFIRM_ABOVE)",
            show_default=False,
        ),
    ] = None,
    yes: Annotated[
        bool, typer.Option("-y", "--yes", help="Do not ask before a large send.")
    ] = False,
    allow_outside_hours: Annotated[
        bool,
        typer.Option(
            "--allow-outside-hours",
            help="Send a marketing template outside 08:00-20:00 China time.",
        ),
    ] = False,
    json_mode: JsonOpt = False,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Send one template to one or many numbers (SendUSMSMessage, 1000 numbers per request),
    or personalised messages from a CSV file (--csv, SendBatchUSMSMessage)."""
    from usms_cli.core.privacy import Masker
    from usms_cli.output.render import Output

    masker = Masker(show_pii=show_pii)
    output = Output(json_mode=json_mode, quiet=quiet, masker=masker)
    flags = {
        "profile": profile,
        "project_id": project_id,
        "base_url": base_url,
        "timeout": timeout,
        "template_id": template_id,
        "sig_content": sig_content,
    }

    def run() -> ExitCode:
        from usms_cli.app.commands import run_send

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
            sandbox=sandbox,
            concurrency=concurrency,
            rate=rate,
            journal=journal,
            resend_unknown=resend_unknown,
            failed_out=failed_out,
            wait=wait,
            wait_timeout=wait_timeout,
            wait_interval=wait_interval,
            csv_file=csv_file,
            phone_column=phone_column,
            param_columns=param_columns,
            user_id_column=user_id_column,
            preview=preview,
            template_text=template_text,
            report_dotenv=report_dotenv,
            confirm_above=confirm_above,
            yes=yes,
            allow_outside_hours=allow_outside_hours,
            wait_lock=wait_lock,
        )

    _finish(output, run, debug=debug)


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


@app.command(epilog=RECEIPT_EPILOG)
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
    from usms_cli.core.privacy import Masker
    from usms_cli.output.render import Output

    output = Output(json_mode=json_mode, quiet=quiet, masker=Masker(show_pii=show_pii))
    flags = {"profile": profile, "project_id": project_id, "base_url": base_url}

    def run() -> ExitCode:
        from usms_cli.app.commands import run_receipt

        return run_receipt(
            output,
            flags=flags,
            env_file=env_file,
            session_nos=session_nos,
            wait=wait,
            wait_timeout=wait_timeout,
            interval=interval,
            verbose=verbose,
        )

    _finish(output, run, debug=debug)


LOOKUP_EPILOG = (
    "Examples: usms template UTA1234 · usms template UTA1234 --json · usms signature Acme · "
    "usms signature --id SIG123 -q\n\n"
    "Exit codes: 0 approved · 1 not approved or refused · 2 bad usage · 4 unreachable."
)


@app.command(epilog=LOOKUP_EPILOG)
def template(
    template_id: Annotated[str, typer.Argument(metavar="TEMPLATE_ID", help="Template id.")],
    project_id: ProjectOpt = None,
    base_url: BaseUrlOpt = None,
    env_file: EnvFileOpt = None,
    profile: ProfileOpt = None,
    json_mode: JsonOpt = False,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Print only the status.")] = False,
    verbose: VerboseOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Show a template: name, content, purpose, review status (QueryUSMSTemplate)."""
    _lookup(
        "template",
        template_id,
        None,
        project_id,
        base_url,
        env_file,
        profile,
        json_mode=json_mode,
        quiet=quiet,
        verbose=verbose,
        debug=debug,
    )


@app.command(epilog=LOOKUP_EPILOG)
def signature(
    sig_content: Annotated[
        str | None,
        typer.Argument(
            metavar="[SIG_CONTENT]", help="Signature text, without 【】.", show_default=False
        ),
    ] = None,
    sig_id: Annotated[
        str | None,
        typer.Option("--id", metavar="SIG_ID", help="Look up by signature id.", show_default=False),
    ] = None,
    project_id: ProjectOpt = None,
    base_url: BaseUrlOpt = None,
    env_file: EnvFileOpt = None,
    profile: ProfileOpt = None,
    json_mode: JsonOpt = False,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Print only the status.")] = False,
    verbose: VerboseOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Show a signature and its review status (QueryUSMSSignature)."""
    _lookup(
        "signature",
        sig_content,
        sig_id,
        project_id,
        base_url,
        env_file,
        profile,
        json_mode=json_mode,
        quiet=quiet,
        verbose=verbose,
        debug=debug,
    )


def _lookup(
    kind: str,
    key: str | None,
    sig_id: str | None,
    project_id: str | None,
    base_url: str | None,
    env_file: Path | None,
    profile: str | None,
    *,
    json_mode: bool,
    quiet: bool,
    verbose: bool,
    debug: bool,
) -> None:
    from usms_cli.output.render import Output

    output = Output(json_mode=json_mode, quiet=quiet)
    flags = {"profile": profile, "project_id": project_id, "base_url": base_url}

    def run() -> ExitCode:
        from usms_cli.app.commands import run_lookup

        return run_lookup(
            output, kind, flags=flags, env_file=env_file, key=key, sig_id=sig_id, verbose=verbose
        )

    _finish(output, run, debug=debug)


SANDBOX_EPILOG = (
    "Examples: usms sandbox · usms sandbox --port 0 --latency 150 --fail-rate 0.1 "
    "--fail-number 13800000001 --record sent.jsonl · usms sandbox --config templates.toml\n\n"
    "Exit codes: 0 stopped cleanly (Ctrl-C or SIGTERM) · 2 bad options or the port is taken.\n\n"
    "The sandbox keys are fixed and public (usms-sandbox-public-key / usms-sandbox-private-key): "
    "they are not secrets, so they may be given as flags. Only loopback addresses are allowed."
)


@app.command(epilog=SANDBOX_EPILOG)
def sandbox(
    host: Annotated[
        str, typer.Option("--host", help="Loopback address to listen on.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port (0 picks a free one).")] = 8040,
    public_key: Annotated[
        str | None, typer.Option("--public-key", help="Sandbox public key.", show_default=False)
    ] = None,
    private_key: Annotated[
        str | None,
        typer.Option(
            "--private-key",
            help="Sandbox private key (a test value, not a secret).",
            show_default=False,
        ),
    ] = None,
    config_file: Annotated[
        Path | None,
        typer.Option(
            "--config",
            metavar="FILE",
            help="TOML file of templates and signatures.",
            show_default=False,
        ),
    ] = None,
    templates: Annotated[
        list[str] | None,
        typer.Option(
            "--template",
            metavar="ID=TEXT",
            help="An approved template, e.g. --template 'UTA1=Hello {1}'. Repeatable.",
            show_default=False,
        ),
    ] = None,
    signatures: Annotated[
        list[str] | None,
        typer.Option(
            "--signature",
            metavar="TEXT",
            help="An approved signature. Repeatable.",
            show_default=False,
        ),
    ] = None,
    latency: Annotated[
        int, typer.Option("--latency", metavar="MS", help="Delay every answer.")
    ] = 0,
    fail_rate: Annotated[
        float,
        typer.Option(
            "--fail-rate", metavar="F", help="Fraction (0-1) of sends refused with RetCode 18004."
        ),
    ] = 0.0,
    fail_numbers: Annotated[
        list[str] | None,
        typer.Option(
            "--fail-number",
            metavar="PHONE",
            help="A number whose delivery always fails. Repeatable.",
            show_default=False,
        ),
    ] = None,
    receipt_delay: Annotated[
        float,
        typer.Option("--receipt-delay", metavar="SECONDS", help="Seconds before receipts appear."),
    ] = 2.0,
    quiet: Annotated[
        bool, typer.Option("-q", "--quiet", help="Do not show each accepted message.")
    ] = False,
    record: Annotated[
        Path | None,
        typer.Option(
            "--record",
            metavar="FILE",
            help="Append every accepted message as JSONL.",
            show_default=False,
        ),
    ] = None,
    debug: DebugOpt = False,
) -> None:
    """Run a local USMS-compatible endpoint for tests and demos (no account needed)."""
    from usms_cli.output.render import Output

    output = Output()

    def run() -> ExitCode:
        from usms_cli.app.commands import run_sandbox

        return run_sandbox(
            output,
            host=host,
            port=port,
            public_key=public_key,
            private_key=private_key,
            config_file=config_file,
            templates=templates or [],
            signatures=signatures or [],
            latency_ms=latency,
            fail_rate=fail_rate,
            fail_numbers=fail_numbers or [],
            receipt_delay=receipt_delay,
            record=record,
            display=not quiet,
        )

    _finish(output, run, debug=debug)


def _finish(output: "Output", run: Callable[[], ExitCode], *, debug: bool) -> NoReturn:
    """The one error funnel: expected errors become a message and an exit code.

    No traceback reaches the user unless --debug is given.
    """
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
    """Run the app (the console script goes through usms_cli.__main__.run)."""
    app(prog_name="usms")


if __name__ == "__main__":  # pragma: no cover
    main()
