"""``usms send``: declares its options (under help headings), builds one SendRequest, calls
the send use case, renders its result and writes the CI reports from it."""

# No ``from __future__ import annotations`` in the CLI modules: Typer would have to evaluate
# every string annotation of every command on each run.

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from usms_cli.cli.funnel import console
from usms_cli.cli.options import (
    EXIT_CODES,
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

if TYPE_CHECKING:
    pass

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
            rich_help_panel="Recipients",
        ),
    ] = None,
    column: Annotated[
        str | None,
        typer.Option(
            "--column",
            metavar="NAME|INDEX",
            help="CSV column holding the numbers: header name or 1-based index.",
            show_default=False,
            rich_help_panel="Recipients",
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
            rich_help_panel="Message",
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
            rich_help_panel="Message",
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
            rich_help_panel="Message",
        ),
    ] = None,
    extend_code: Annotated[
        str | None,
        typer.Option(
            "--extend-code",
            metavar="DIGITS",
            help="Extension code (digits, at most 12).",
            show_default=False,
            rich_help_panel="Message",
        ),
    ] = None,
    user_id: Annotated[
        str | None,
        typer.Option(
            "--user-id",
            metavar="TAG",
            help="Your own tag (≤32 chars), echoed in receipts.",
            show_default=False,
            rich_help_panel="Message",
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
            rich_help_panel="Personalised CSV",
        ),
    ] = None,
    phone_column: Annotated[
        str | None,
        typer.Option(
            "--phone-column",
            metavar="NAME",
            help="With --csv: the column holding the phone numbers (default: phone).",
            show_default=False,
            rich_help_panel="Personalised CSV",
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
            rich_help_panel="Personalised CSV",
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
            rich_help_panel="Personalised CSV",
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
            rich_help_panel="Personalised CSV",
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
            "--skip-invalid",
            help="Send to the valid numbers (or CSV rows), report the rest.",
            rich_help_panel="Recipients",
        ),
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Parse, validate, build and sign; send nothing.",
            rich_help_panel="Safety",
        ),
    ] = False,
    offline: Annotated[
        bool,
        typer.Option(
            "--offline",
            help="With --dry-run: skip the read-only checks (template and signature approved, "
            "marketing hours) that a dry run makes when credentials are set.",
            rich_help_panel="Safety",
        ),
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
            rich_help_panel="Big batches",
        ),
    ] = 4,
    rate: Annotated[
        float | None,
        typer.Option(
            "--rate",
            metavar="PER_SECOND",
            help="At most this many requests per second (all workers together).",
            show_default=False,
            rich_help_panel="Big batches",
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
            rich_help_panel="Big batches",
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
            rich_help_panel="Big batches",
        ),
    ] = 0.0,
    resend_unknown: Annotated[
        bool,
        typer.Option(
            "--resend-unknown",
            help="With --journal: also resend requests whose outcome was unknown "
            "(they may already have been delivered).",
            rich_help_panel="Big batches",
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
            rich_help_panel="Big batches",
        ),
    ] = None,
    sandbox: Annotated[
        bool,
        typer.Option(
            "--sandbox",
            help="Send through a local sandbox started for this command (throwaway keys; "
            "no account, nothing leaves this machine).",
            rich_help_panel="Safety",
        ),
    ] = False,
    wait: Annotated[
        bool,
        typer.Option(
            "--wait",
            help="After sending, wait for delivery receipts (see usms receipt).",
            rich_help_panel="Output",
        ),
    ] = False,
    wait_timeout: Annotated[
        float,
        typer.Option(
            "--wait-timeout",
            metavar="SECONDS",
            help="With --wait: give up after this.",
            rich_help_panel="Output",
        ),
    ] = 600.0,
    wait_interval: Annotated[
        float,
        typer.Option(
            "--wait-interval",
            metavar="SECONDS",
            help="With --wait: first pause between checks.",
            rich_help_panel="Output",
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
            rich_help_panel="Message",
        ),
    ] = None,
    show_pii: Annotated[
        bool,
        typer.Option(
            "--show-pii",
            help="Show phone numbers and template params in full in human output (masked by "
            "default; --json, -q, --journal and --failed-out always keep them).",
            rich_help_panel="Output",
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
            rich_help_panel="Output",
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
            rich_help_panel="Safety",
        ),
    ] = None,
    yes: Annotated[
        bool,
        typer.Option(
            "-y", "--yes", help="Do not ask before a large send.", rich_help_panel="Safety"
        ),
    ] = False,
    allow_outside_hours: Annotated[
        bool,
        typer.Option(
            "--allow-outside-hours",
            help="Send a marketing template outside 08:00-20:00 China time.",
            rich_help_panel="Safety",
        ),
    ] = False,
    again: Annotated[
        bool,
        typer.Option(
            "--again",
            help="Send even to numbers that were sent this same message in the last minute "
            "(the repeat guard stops such a send by default).",
            rich_help_panel="Safety",
        ),
    ] = False,
    skip_repeats: Annotated[
        bool,
        typer.Option(
            "--skip-repeats",
            help="Leave out the numbers that just got this same message; send to the others.",
            rich_help_panel="Safety",
        ),
    ] = False,
    strict_limits: Annotated[
        bool,
        typer.Option(
            "--strict-limits",
            envvar="USMS_STRICT_LIMITS",
            show_envvar=False,
            help="Refuse (exit 2) instead of warning when a number would pass UCloud's "
            "per-number limits. (env USMS_STRICT_LIMITS)",
            rich_help_panel="Safety",
        ),
    ] = False,
    include_suppressed: Annotated[
        bool,
        typer.Option(
            "--include-suppressed",
            help="Marketing templates: send to numbers on the suppression list too.",
            rich_help_panel="Safety",
        ),
    ] = False,
    no_history: Annotated[
        bool,
        typer.Option(
            "--no-history",
            help="Do not record this send in the history (USMS_HISTORY=off turns it off).",
            rich_help_panel="Safety",
        ),
    ] = False,
    json_mode: JsonOpt = False,
    quiet: QuietOpt = False,
    verbose: VerboseOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Send one template to one or many numbers (SendUSMSMessage, 1000 numbers per request),
    or personalised messages from a CSV file (--csv, SendBatchUSMSMessage)."""
    # long function: a Typer declaration, one parameter per option; the body is short.
    import os

    from usms_cli.app.common import Connection
    from usms_cli.app.request import SendRequest

    request = SendRequest(
        phones=tuple(phones or ()),
        files=tuple(files or ()),
        column=column,
        params=tuple(params or ()),
        extend_code=extend_code,
        user_id=user_id,
        template_text=template_text,
        csv_file=csv_file,
        phone_column=phone_column,
        param_columns=param_columns,
        user_id_column=user_id_column,
        preview=preview,
        concurrency=concurrency,
        rate=rate,
        journal=journal,
        wait_lock=wait_lock,
        resend_unknown=resend_unknown,
        failed_out=failed_out,
        dry_run=dry_run,
        offline=offline,
        skip_invalid=skip_invalid,
        confirm_above=confirm_above,
        yes=yes,
        allow_outside_hours=allow_outside_hours,
        sandbox=sandbox,
        no_history=no_history,
        again=again,
        skip_repeats=skip_repeats,
        strict_limits=strict_limits,
        include_suppressed=include_suppressed,
        wait=wait,
        wait_timeout=wait_timeout,
        wait_interval=wait_interval,
        report_dotenv=report_dotenv,
        connection=Connection(
            profile=profile,
            project_id=project_id,
            base_url=base_url,
            timeout=timeout,
            env_file=env_file,
            template_id=template_id,
            sig_content=sig_content,
            verbose=verbose,
        ),
    )
    github = os.environ.get("GITHUB_ACTIONS") == "true"
    output = console(json_mode=json_mode, quiet=quiet, show_pii=show_pii, github=github)
    from usms_cli.cli.send_output import run_send

    run_send(output, request, debug=debug)
