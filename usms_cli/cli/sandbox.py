"""``usms sandbox``: a local USMS-compatible endpoint in the foreground."""

# No ``from __future__ import annotations`` in the CLI modules (start-up time; see send.py).

from pathlib import Path
from typing import Annotated

import typer

from usms_cli.cli.funnel import console, finish
from usms_cli.cli.options import DebugOpt
from usms_cli.core.errors import ExitCode

SANDBOX_EPILOG = (
    "Examples: usms sandbox · usms sandbox --port 0 --latency 150 --fail-rate 0.1 "
    "--fail-number 13800000001 --record sent.jsonl · usms sandbox --config templates.toml · "
    "usms sandbox --review-delay 30 --balance 100 --blocked-word 赌博 --receipt-language zh\n\n"
    "Exit codes: 0 stopped cleanly (Ctrl-C or SIGTERM) · 2 bad options or the port is taken.\n\n"
    "The sandbox keys are fixed and public (usms-sandbox-public-key / usms-sandbox-private-key): "
    "they are not secrets, so they may be given as flags. Only loopback addresses are allowed.\n\n"
    '--push-to URL POSTs each receipt to URL as UCloud does ({"MsgType":2,"Data":[…]}, '
    'several per POST; 3 retries 1 s apart unless answered {"code":0}); usms sandbox reply '
    "NUMBER TEXT pushes a reply from a number (MsgType 0). --pull answers PullUSMSReport."
)

sandbox_app = typer.Typer(
    name="sandbox",
    help="Run a local USMS-compatible endpoint for tests and demos (no account needed).",
    epilog=SANDBOX_EPILOG,
    invoke_without_command=True,
    no_args_is_help=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


@sandbox_app.callback()
def sandbox(
    ctx: typer.Context,
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
            metavar="PHONE[=CODE]",
            help="A number whose delivery always fails, with this ReceiptCode (default "
            "UNDELIVRD; e.g. MLBLACK, -131, YX:9432). Repeatable.",
            show_default=False,
        ),
    ] = None,
    unknown_numbers: Annotated[
        list[str] | None,
        typer.Option(
            "--unknown-number",
            metavar="PHONE",
            help="A number whose receipt stays unknown (Unknow). Repeatable.",
            show_default=False,
        ),
    ] = None,
    receipt_language: Annotated[
        str,
        typer.Option(
            "--receipt-language",
            metavar="en|zh",
            help="ReceiptResult words: Success/Fail/Unknow or 发送成功/发送失败/状态未知.",
        ),
    ] = "en",
    review_delay: Annotated[
        float,
        typer.Option(
            "--review-delay",
            metavar="SECONDS",
            help="How long a created template or signature stays under review.",
        ),
    ] = 2.0,
    balance: Annotated[
        int | None,
        typer.Option(
            "--balance",
            metavar="N",
            help="Messages the account may still send; then RetCode 18013.",
            show_default=False,
        ),
    ] = None,
    blocked_words: Annotated[
        list[str] | None,
        typer.Option(
            "--blocked-word",
            metavar="WORD",
            help="A word the carriers block (RetCode 18023). Repeatable.",
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
    push_to: Annotated[
        str | None,
        typer.Option(
            "--push-to",
            metavar="URL",
            help="POST each receipt (and usms sandbox reply) to URL, as UCloud pushes them.",
            show_default=False,
        ),
    ] = None,
    pull: Annotated[
        bool, typer.Option("--pull", help="Answer PullUSMSReport (off, as for a new account).")
    ] = False,
    debug: DebugOpt = False,
) -> None:
    """Run a local USMS-compatible endpoint for tests and demos (no account needed)."""
    # long function: a Typer declaration, one parameter per option; the body is short.
    from usms_cli.sandbox import SandboxOptions

    if ctx.invoked_subcommand is not None:
        return

    options = SandboxOptions(
        host=host,
        port=port,
        public_key=public_key,
        private_key=private_key,
        config_file=config_file,
        templates=tuple(templates or ()),
        signatures=tuple(signatures or ()),
        latency_ms=latency,
        fail_rate=fail_rate,
        fail_numbers=tuple(fail_numbers or ()),
        receipt_delay=receipt_delay,
        record=record,
        display=not quiet,
        review_delay=review_delay,
        balance=balance,
        blocked_words=tuple(blocked_words or ()),
        unknown_numbers=tuple(unknown_numbers or ()),
        receipt_language=receipt_language.strip().lower(),
        push_to=push_to,
        pull=pull,
    )
    output = console()

    def run() -> ExitCode:
        from usms_cli.app.sandbox import run_sandbox

        return run_sandbox(output, options)

    finish(output, run, debug=debug)


REPLY_EPILOG = (
    "Example: usms sandbox reply 13800000000 TD --url http://127.0.0.1:8040\n\n"
    'Exit codes: 0 pushed and answered {"code":0} · 2 bad input, no sandbox there, or it sent '
    "nothing to NUMBER · 4 the push URL did not accept it."
)


@sandbox_app.command("reply", epilog=REPLY_EPILOG)
def reply(
    phone: Annotated[
        str, typer.Argument(metavar="NUMBER", help="Who replies (a number the sandbox sent to).")
    ],
    text: Annotated[str, typer.Argument(metavar="TEXT", help="The reply, e.g. TD.")],
    url: Annotated[
        str,
        typer.Option(
            "--url",
            metavar="URL",
            envvar="UCLOUD_API_BASE_URL",
            show_envvar=False,
            help="The running sandbox. (env UCLOUD_API_BASE_URL)",
        ),
    ] = "http://127.0.0.1:8040",
    json_mode: Annotated[
        bool, typer.Option("--json", help="Print one JSON object on stdout.")
    ] = False,
    show_pii: Annotated[
        bool, typer.Option("--show-pii", help="Show the number in full (masked by default).")
    ] = False,
    debug: DebugOpt = False,
) -> None:
    """Make a recipient reply: the running sandbox pushes it to its --push-to URL (MsgType 0,
    with the ExtendCode and UserId of the last message sent to NUMBER)."""
    output = console(json_mode=json_mode, show_pii=show_pii)

    def run() -> ExitCode:
        from usms_cli.app.sandbox import simulate_reply

        return simulate_reply(output, url, phone, text)

    finish(output, run, debug=debug)
