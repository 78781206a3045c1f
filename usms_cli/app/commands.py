"""What each command does, between parsed options and rendered output.

Each ``run_*`` function resolves settings, reads input, calls the core and the client, renders,
and returns the exit code. Typer is not imported here.
"""

from __future__ import annotations

import datetime
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from usms_cli.app.ci_reports import reported
from usms_cli.core.api import Message, check_message
from usms_cli.core.errors import ConfigError, ExitCode, InputError, UsmsError
from usms_cli.output.render import Output, invalid_details, plural

if TYPE_CHECKING:
    from usms_cli.core.cost import Cost
    from usms_cli.core.csvbatch import Table
    from usms_cli.core.phones import Recipients
    from usms_cli.core.privacy import Masker
    from usms_cli.engine.client import ApiResult, Client
    from usms_cli.engine.sender import RequestPlan, SendReport
    from usms_cli.engine.settings import Settings

PLACEHOLDER_PUBLIC_KEY = "dry-run-public-key"
PLACEHOLDER_PRIVATE_KEY = "dry-run-private-key"


@reported
def run_send(
    output: Output,
    *,
    flags: Mapping[str, str | None],
    env_file: Path | None,
    phones: Sequence[str],
    files: Sequence[str],
    column: str | None,
    params: Sequence[str],
    extend_code: str | None,
    user_id: str | None,
    skip_invalid: bool,
    dry_run: bool,
    verbose: bool,
    sandbox: bool = False,
    concurrency: int = 4,
    rate: float | None = None,
    journal: Path | None = None,
    resend_unknown: bool = False,
    failed_out: Path | None = None,
    wait: bool = False,
    wait_timeout: float = 600.0,
    wait_interval: float = 5.0,
    csv_file: str | None = None,
    phone_column: str | None = None,
    param_columns: str | None = None,
    user_id_column: str | None = None,
    preview: int | None = None,
    template_text: str | None = None,
    report_dotenv: Path | None = None,
    confirm_above: int | None = None,
    yes: bool = False,
    allow_outside_hours: bool = False,
    wait_lock: float = 0.0,
) -> ExitCode:
    """``usms send``: one template to a list of numbers (SendUSMSMessage), or with ``csv_file``
    personalised params per row (SendBatchUSMSMessage)."""
    from usms_cli.engine.inputs import check_paths

    output.add_masks(params)
    outputs = {"--journal": journal, "--failed-out": failed_out, "--report-dotenv": report_dotenv}
    check_paths(outputs, {"-f": files, "--csv": [csv_file]})
    settings = _settings(flags, env_file)
    table: Table | None = None
    if csv_file is not None:
        plain = _given(
            ("phone numbers", phones),
            ("-f/--file", files),
            ("--column", column),
            ("-p/--param", params),
            ("--user-id", user_id),
        )
        if plain:
            raise InputError(
                f"--csv cannot be combined with {plain}: the CSV file gives the recipients, "
                "their params and their UserId",
                hint="use --phone-column, --param-columns and --user-id-column to map its columns",
            )
        table = _read_table(csv_file, phone_column, param_columns, user_id_column)
        output.add_masks(value for row in table.rows for value in row.params)
        recipients = table.recipients()
        _require_valid(output, recipients, skip_invalid, "invalid row", table.source)
    else:
        for_csv = _given(
            ("--phone-column", phone_column),
            ("--param-columns", param_columns),
            ("--user-id-column", user_id_column),
            ("--preview", preview),
        )
        if for_csv:
            raise InputError(f"{for_csv} only work with --csv FILE")
        recipients = _read_numbers(output, phones, files, column, skip_invalid)
    _warn(output, settings)
    if preview is not None and not dry_run:
        raise InputError("--preview shows the messages without sending them: add --dry-run")
    if wait:
        _check_wait(wait_timeout, wait_interval, "--wait-timeout", "--wait-interval")
    options = _SendOptions(
        flags, env_file, verbose, concurrency, rate, journal, resend_unknown, failed_out, wait_lock
    )
    with _maybe_sandbox(sandbox, output) as server:
        if server is not None:
            settings = _point_at_sandbox(settings, server)
        message = Message(
            template_id=(settings.template_id or "").strip(),
            sig_content=settings.sig_content,
            params=tuple(params),
            extend_code=extend_code,
            user_id=user_id,
            project_id=settings.project_id,
        )
        check_message(message, recipients.numbers)
        job = _Job(message, recipients, table)
        template = _known_template(
            output, settings, job, server, template_text, dry_run, verbose, preview is not None
        )
        cost = None if template is None else job.cost(template, output.masker)
        if dry_run:
            return _dry_run(output, job, settings, preview, template, cost)
        keys = _require_credentials(settings)
        if not allow_outside_hours:
            _check_marketing_hours(output, settings, message.template_id, verbose)
        _confirm_mass_send(output, len(recipients.numbers), cost, confirm_above, yes)
        client = _send_client(output, settings, options)
        try:
            report = _deliver(output, job, keys, client, server, options)
            return _report_and_wait(
                output, report, client, settings, options, wait, wait_timeout, wait_interval
            )
        finally:
            client.close()


@dataclass(frozen=True)
class _SendOptions:
    flags: Mapping[str, str | None]
    env_file: Path | None
    verbose: bool
    concurrency: int
    rate: float | None
    journal: Path | None
    resend_unknown: bool
    failed_out: Path | None
    wait_lock: float = 0.0


@dataclass
class _Job:
    """What to send: a message to numbers, or (``table``) a CSV batch with params per row."""

    message: Message
    recipients: Recipients
    table: Table | None = None

    def plan(self, numbers: Sequence[str]) -> RequestPlan:
        """The requests for ``numbers`` (all recipients, or those a journal says to send)."""
        if self.table is None:
            from usms_cli.engine.sender import numbers_plan

            return numbers_plan(self.message, numbers)
        from usms_cli.core.csvbatch import batch_plan

        wanted = set(numbers)
        return batch_plan(self.message, [row for row in self.table.rows if row.phone in wanted])

    @property
    def columns(self) -> list[str] | None:
        return None if self.table is None else self.table.columns.describe()

    def cost(self, template: str, masker: Masker) -> Cost:
        """Every message measured; an InputError if one cannot be sent."""
        from usms_cli.core.cost import measure

        sig = self.message.sig_content
        if self.table is None:
            params = self.message.params
            return measure(
                template, sig, ((n, params, "") for n in self.recipients.numbers), masker
            )
        source = self.table.source
        rows = ((row.phone, row.params, f"{source}:{row.line}") for row in self.table.rows)
        return measure(template, sig, rows, masker)


def _given(*options: tuple[str, object]) -> str:
    """The names of the options that were given (not None, not an empty list)."""
    return ", ".join(name for name, value in options if value not in (None, [], ()))


def _read_numbers(
    output: Output,
    phones: Sequence[str],
    files: Sequence[str],
    column: str | None,
    skip_invalid: bool,
) -> Recipients:
    from usms_cli.core.phones import collect
    from usms_cli.engine.inputs import gather

    if not phones and not files:
        raise InputError(
            "no recipients: give phone numbers as arguments, or -f FILE (-f - reads stdin)"
        )
    recipients = collect(gather(phones, files, column=column))
    where = ", ".join([*(["the arguments"] if phones else []), *files])
    _require_valid(output, recipients, skip_invalid, "invalid phone number", where)
    return recipients


def _read_table(
    name: str, phone_column: str | None, param_columns: str | None, user_id_column: str | None
) -> Table:
    from usms_cli.core import csvbatch
    from usms_cli.engine.inputs import read_bytes

    data, source = read_bytes(name)
    text, bom = csvbatch.decode(data, source)
    return csvbatch.parse_table(
        text,
        source,
        phone_column=phone_column or csvbatch.DEFAULT_PHONE_COLUMN,
        param_columns=None if param_columns is None else csvbatch.split_names(param_columns),
        user_id_column=user_id_column,
        bom=bom,
    )


def _require_valid(
    output: Output, recipients: Recipients, skip_invalid: bool, noun: str, where: str
) -> None:
    """Nothing is sent while any entry is invalid, unless --skip-invalid; nor with no entry.
    In GitHub Actions the numbers are masked first, before anything else is printed; then
    the warnings about the settings follow."""
    output.add_masks(recipients.numbers)
    if recipients.invalid_count and not skip_invalid:
        raise InputError(
            f"{plural(recipients.invalid_count, noun)} in {where}; nothing was sent",
            hint="fix them, or pass --skip-invalid to send to the valid ones only",
            details=invalid_details(recipients),
        )
    if not recipients.numbers:
        if recipients.invalid_count:
            raise InputError(
                "no valid phone numbers to send to; nothing was sent",
                details=invalid_details(recipients),
            )
        raise InputError(f"no phone numbers found in {where}; nothing was sent")


def _dry_run(
    output: Output,
    job: _Job,
    settings: Settings,
    preview: int | None,
    template: str | None,
    cost: Cost | None,
) -> ExitCode:
    from usms_cli.engine.sender import dry_run
    from usms_cli.output.render import render_cost, render_preview, render_report

    report = dry_run(
        job.message,
        job.recipients,
        settings.public_key or PLACEHOLDER_PUBLIC_KEY,
        settings.private_key or PLACEHOLDER_PRIVATE_KEY,
        plan=job.plan(job.recipients.numbers),
    )
    report.columns = job.columns
    extra: dict[str, Any] = {}
    if cost is not None:
        extra["cost"] = cost.as_json()
    shown = None
    if preview is not None and job.table is not None:
        shown = extra["preview"] = _preview_rows(job, job.table, template, preview)
    render_report(output, report, extra=extra)
    if shown is not None and job.table is not None:
        render_preview(output, shown, len(job.table.rows), template is not None)
    if cost is not None:
        render_cost(output, cost, messages=shown is None)
    return report.exit_code()


def _known_template(
    output: Output,
    settings: Settings,
    job: _Job,
    server: Any,
    given: str | None,
    look_up: bool,
    verbose: bool,
    preview: bool,
) -> str | None:
    """The template text, when it is known without slowing a send down: --template-text, the
    sandbox's own, or (``look_up``, for dry runs) QueryUSMSTemplate."""
    template_id = job.message.template_id
    if given is not None:
        return given
    if server is not None:
        known = server.config.templates.get(template_id)
        return None if known is None else str(known.text)
    if not look_up:
        return None
    return _template_text(output, settings, template_id, verbose, preview)


def _template_data(
    output: Output, settings: Settings, template_id: str, verbose: bool
) -> dict[str, Any]:
    """The template as QueryUSMSTemplate describes it; a UsmsError if it cannot be had."""
    from usms_cli.core.api import build_template_query

    query = build_template_query(template_id, settings.project_id)
    return _look_up(output, settings, query, "template", verbose)


def _look_up(
    output: Output, settings: Settings, query: Mapping[str, Any], kind: str, verbose: bool
) -> dict[str, Any]:
    """One read-only look-up: its ``Data`` item, or a UsmsError."""
    client = _api_client(output, settings, verbose)
    try:
        body = _query(client, query, settings, f"the {kind} look-up")
    finally:
        client.close()
    return _data_of(body, kind)


def _data_of(body: Mapping[str, Any], kind: str) -> dict[str, Any]:
    """The one item a look-up answered with (``Data``, an object or a one-item list)."""
    data = body.get("Data")
    if isinstance(data, list):
        data = data[0] if data else None
    if not isinstance(data, dict):
        raise ApiFailure(f"the {kind} look-up answered without Data")
    return data


def _template_text(
    output: Output, settings: Settings, template_id: str, verbose: bool, preview: bool = False
) -> str | None:
    """The template's text from QueryUSMSTemplate, or None with a one-line note when it
    cannot be had (no note without credentials, unless a preview was asked for)."""
    fallback = "the cost is not shown (--template-text TEXT gives it)"
    if preview:
        fallback += "; the preview shows each row's params instead"
    if not settings.public_key or not settings.private_key:
        if preview:
            output.info(f"Preview: no credentials to look the template text up; {fallback}.")
        return None
    try:
        text = _template_data(output, settings, template_id, verbose).get("Template")
    except UsmsError as exc:
        output.info(f"Note: {exc.message}; {fallback}.")
        return None
    if not isinstance(text, str) or not text:
        output.info(f"Note: the template look-up gave no text; {fallback}.")
        return None
    return text


def now() -> datetime.datetime:
    """The current time, or ``USMS_NOW`` (an ISO 8601 time; a testing aid, read only here)."""
    raw = os.environ.get("USMS_NOW", "").strip()
    if not raw:
        return datetime.datetime.now(datetime.UTC)
    try:
        moment = datetime.datetime.fromisoformat(raw)
    except ValueError:
        raise ConfigError(f"USMS_NOW must be an ISO 8601 time, got {raw!r}") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


def _check_marketing_hours(
    output: Output, settings: Settings, template_id: str, verbose: bool
) -> None:
    """Refuse a marketing template (purpose 3) outside 08:00-20:00 China time. The template
    is looked up only outside those hours, so a send in hours stays one request."""
    from usms_cli.core import content

    moment = now()
    if not content.outside_marketing_hours(moment):
        return
    try:
        purpose = _template_data(output, settings, template_id, verbose).get("Purpose")
    except UsmsError as exc:
        output.warn(
            f"outside 08:00-20:00 China time, and whether template {template_id} is a marketing "
            f"template could not be checked ({exc.message}); sending anyway"
        )
        return
    if str(purpose) == str(content.MARKETING):
        local = moment.astimezone(content.CHINA).strftime("%H:%M")
        raise InputError(
            f"template {template_id} is a marketing template; marketing SMS may be sent only "
            f"08:00-20:00 China time, and it is {local} there; nothing was sent",
            hint="send it in those hours, or pass --allow-outside-hours if it may go out now",
        )


DEFAULT_CONFIRM_ABOVE = 1000


def interactive() -> bool:
    """Whether a person can answer a question: stdin and stderr are terminals. (Tests
    monkeypatch this.)"""
    import sys

    try:
        return sys.stdin.isatty() and sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def _confirm_mass_send(
    output: Output, count: int, cost: Cost | None, confirm_above: int | None, yes: bool
) -> None:
    """Above the threshold, ask in a terminal; without one, a threshold set explicitly (flag
    or USMS_CONFIRM_ABOVE) needs --yes. Never asks, and never hangs, otherwise."""
    import sys

    explicit = confirm_above  # the flag, or USMS_CONFIRM_ABOVE (Typer reads and checks it)
    threshold = DEFAULT_CONFIRM_ABOVE if explicit is None else explicit
    if yes or count <= threshold:
        return
    segments = "" if cost is None else f" ({plural(cost.total_segments, 'SMS segment')})"
    what = f"{plural(count, 'recipient')}{segments}"
    if interactive():
        output.err.line(f"usms: about to send to {what}. Send? [y/N] ")
        answer = sys.stdin.readline().strip().lower()
        if answer in ("y", "yes"):
            return
        raise InputError("not sent: the send was not confirmed")
    if explicit is not None:
        raise InputError(
            f"{what} is more than the --confirm-above/USMS_CONFIRM_ABOVE limit of "
            f"{threshold:,}, and there is no terminal to ask; nothing was sent",
            hint="pass --yes to send anyway",
        )


def _preview_rows(
    job: _Job, table: Table, template: str | None, count: int
) -> list[dict[str, Any]]:
    from usms_cli.core import content
    from usms_cli.core.phones import is_international

    message = job.message
    shown: list[dict[str, Any]] = []
    for row in table.rows[:count]:
        item: dict[str, Any] = {
            "line": row.line,
            "phone": row.phone,
            "params": dict(zip(table.columns.params, row.params, strict=True)),
            "user_id": row.user_id,
            "text": None,
        }
        if template is not None:
            abroad = is_international(row.phone)
            shown_message = content.preview(
                template, row.params, message.sig_content, international=abroad
            )
            item.update(
                text=shown_message.text, length=shown_message.length, sms=shown_message.segments
            )
        shown.append(item)
    return shown


def _send_client(output: Output, settings: Settings, options: _SendOptions) -> Client:
    from usms_cli.engine.pacing import Pacer

    rate = options.rate
    if rate is not None and not (math.isfinite(rate) and rate > 0):
        raise InputError("--rate must be a positive number of requests per second")
    return _api_client(
        output, settings, options.verbose, pacer=Pacer(rate), pool_size=options.concurrency
    )


def _api_client(output: Output, settings: Settings, verbose: bool, **kwargs: Any) -> Client:
    """A client whose -v log goes to stderr, masked unless --show-pii."""
    from usms_cli.engine.client import Client

    return Client(
        settings.base_url,
        settings.timeout,
        log=output.verbose if verbose else None,
        mask_pii=not output.masker.show_pii,
        **kwargs,
    )


def _deliver(
    output: Output,
    job: _Job,
    keys: tuple[str, str],
    client: Client,
    server: Any,
    options: _SendOptions,
) -> SendReport:
    """Send (journal, signals, progress bar), then write --failed-out."""
    from usms_cli.engine.sender import Control, send

    to_send: Sequence[str] = job.recipients.numbers
    done: list[str] = []
    held: list[str] = []
    writer = None
    if options.journal is not None:
        to_send, done, held, writer = _open_journal(output, options.journal, job, options)
    plan = job.plan(to_send)
    control = Control()
    try:
        with (
            _signals_stop(control, output),
            output.progress(-(-len(plan.items) // plan.size)) as advance,
        ):
            report = send(
                client,
                job.message,
                job.recipients,
                *keys,
                concurrency=options.concurrency,
                journal=writer,
                control=control,
                progress=advance,
                plan=plan,
            )
    finally:
        if writer is not None:
            writer.close()
    report.previously_accepted = done
    report.held_back = held
    report.columns = job.columns
    if writer is not None:
        from usms_cli.engine.journal import failure_report

        failure = failure_report(writer)
        if failure is not None:
            output.error(*failure)
    if options.failed_out is not None:
        if job.table is None:
            _write_failed_out(options.failed_out, report)
        else:
            _write_failed_rows(output, options.failed_out, report, job.table)
    if server is not None:
        _show_sandbox_inbox(output, server)
    return report


def _open_journal(
    output: Output, path: Path, job: _Job, options: _SendOptions
) -> tuple[list[str], list[str], list[str], Any]:
    """(to send, already accepted, held back, writer) for a run with --journal."""
    from usms_cli import __version__
    from usms_cli.engine import journal as journal_module

    state, writer = journal_module.open_run(
        path, job.message, job.columns, tool=f"usms-cli/{__version__}", wait_lock=options.wait_lock
    )
    if state.torn_last_line:
        output.warn(
            f"{path}: the last line is incomplete (an earlier run was killed while "
            "writing it); that request is treated as unknown"
        )
    to_send, done, held = journal_module.split_for_resume(
        job.recipients.numbers, state, resend_unknown=options.resend_unknown
    )
    if done:
        output.info(
            f"Journal: {plural(len(done), 'number')} already accepted in an earlier "
            "run; not sending them again."
        )
    if not to_send:  # said even with -q: the run is over before it starts
        output.err.line(f"usms: {journal_module.nothing_left(done, held)}")
    return to_send, done, held, writer


def _check_wait(timeout: float, interval: float, timeout_flag: str, interval_flag: str) -> None:
    """Bad wait options are input errors, caught before anything is sent."""
    if not math.isfinite(timeout) or timeout < 0:
        raise InputError(f"{timeout_flag} must be a number of seconds ≥ 0")
    if not math.isfinite(interval) or interval <= 0:
        raise InputError(f"{interval_flag} must be a number of seconds > 0")


def _report_and_wait(
    output: Output,
    report: SendReport,
    client: Client,
    settings: Settings,
    options: _SendOptions,
    wait: bool,
    wait_timeout: float,
    wait_interval: float,
) -> ExitCode:
    """Render the report; with --wait, poll the receipts of what was accepted first."""
    from usms_cli.output.render import render_report

    code = report.exit_code()
    expected = {
        outcome.session_no: [n for n in outcome.numbers if n not in outcome.refused]
        for outcome in report.requests
        if outcome.session_no
    }
    if not wait or not expected or code not in (ExitCode.OK, ExitCode.PARTIAL):
        render_report(output, report)
        return code
    if not output.json_mode:
        render_report(output, report)
    receipt_output = Output(json_mode=output.json_mode, quiet=output.quiet, masker=output.masker)
    receipt_output.capture_json = True
    receipt_output.silent = output.quiet
    try:
        waited = run_receipt(
            receipt_output,
            flags=options.flags,
            env_file=options.env_file,
            session_nos=list(expected),
            wait=True,
            wait_timeout=wait_timeout,
            interval=wait_interval,
            verbose=options.verbose,
            expected=expected,
            client=client,
            settings=settings,
        )
    except UsmsError as exc:  # the send happened: keep its report, say why waiting failed
        output.error(f"sent, but waiting for receipts failed: {exc.message}", exc.hint)
        receipt_output.captured = {"ok": False, "error": exc.message}
        waited = ExitCode.UNKNOWN
    final = code if code != ExitCode.OK else waited
    if output.json_mode:
        render_report(output, report, extra={"receipts": receipt_output.captured}, exit_code=final)
    return final


class _signals_stop:  # noqa: N801 - used as a context manager
    """While a batch runs, turn SIGINT/SIGTERM into a graceful stop (first) or abort (second)."""

    def __init__(self, control: Any, output: Output) -> None:
        self.control = control
        self.output = output
        self.previous: dict[int, Any] = {}

    def handle(self, signum: int, frame: object) -> None:
        if self.control.stop_signal is None:
            self.control.stop_signal = signum
            self.output.err.line(
                "usms: stopping: no new requests; waiting for those in flight "
                "(press Ctrl-C again to quit at once; they will be recorded as unknown)",
                "yellow",
            )
        else:
            self.control.abort = True

    def __enter__(self) -> None:
        import signal
        import threading

        if threading.current_thread() is not threading.main_thread():
            return
        for signum in (signal.SIGINT, signal.SIGTERM):
            self.previous[signum] = signal.signal(signum, self.handle)

    def __exit__(self, *exc: object) -> None:
        import signal

        for signum, handler in self.previous.items():
            signal.signal(signum, handler)


def _write_failed_out(path: Path, report: Any) -> None:
    """Numbers not accepted, one per line (the format -f reads). Numbers whose outcome is
    unknown are listed only as comments: they may already have the message."""
    lines = ["# usms send --failed-out: numbers that were not accepted; send again with -f"]
    unknown: list[str] = list(report.held_back)
    for outcome in report.requests:
        if outcome.status in ("rejected", "not_sent"):
            reason = outcome.result.error or f"RetCode {outcome.result.ret_code}"
            lines.append(f"# request {outcome.index}: {reason}")
            lines.extend(outcome.numbers)
        elif outcome.status == "unknown":
            unknown.extend(outcome.numbers)
        elif outcome.refused:
            lines.append(f"# request {outcome.index}: refused inside an accepted request")
            lines.extend(outcome.refused)
    if unknown:
        lines.append("# outcome UNKNOWN (may already have the message), not resent by -f:")
        lines.extend(f"# {number}" for number in unknown)
    _write_text(path, "\n".join(lines) + "\n" if len(lines) > 1 else "")  # empty: all accepted


def _write_failed_rows(output: Output, path: Path, report: SendReport, table: Table) -> None:
    """The CSV rows not accepted, under the same header, ready for --csv again. Rows whose
    outcome is unknown are left out (they may already have the message), with a warning."""
    from usms_cli.core.csvbatch import Row, format_rows

    failed: list[Row] = []
    unknown = len(report.held_back)
    for outcome in report.requests:
        rows: Sequence[Row] = outcome.items
        if outcome.status in ("rejected", "not_sent"):
            failed.extend(rows)
        elif outcome.status == "unknown":
            unknown += len(rows)
        else:
            failed.extend(row for row in rows if row.phone in outcome.refused)
    everything_accepted = not failed and not unknown
    _write_text(
        path, "" if everything_accepted else format_rows(table.header, failed, bom=table.bom)
    )
    if unknown:
        output.warn(
            f"--failed-out {path}: {plural(unknown, 'row')} with an UNKNOWN outcome left out "
            "(they may already have the message)"
        )


def _write_text(path: Path, text: str) -> None:
    from usms_cli.output.ci import write

    write(path, text, "--failed-out")


class _NoSandbox:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def _maybe_sandbox(enabled: bool, output: Output) -> Any:
    if not enabled:
        return _NoSandbox()
    import secrets

    from usms_cli.sandbox import SandboxConfig, start_sandbox

    config = SandboxConfig(
        public_key=f"throwaway-{secrets.token_hex(8)}",
        private_key=secrets.token_hex(20),
        receipt_delay=1.0,
    )
    server = start_sandbox(config)
    output.info(
        f"Sandbox: a local USMS endpoint at {server.base_url} (nothing leaves this machine)"
    )
    return server


def _point_at_sandbox(settings: Settings, server: Any) -> Settings:
    from dataclasses import replace

    from usms_cli.sandbox import DEFAULT_SIGNATURE, DEFAULT_TEMPLATE_ID

    return replace(
        settings,
        base_url=server.base_url,
        public_key=server.config.public_key,
        private_key=server.config.private_key,
        project_id=server.config.project_id,
        template_id=settings.template_id or DEFAULT_TEMPLATE_ID,
        sig_content=settings.sig_content or DEFAULT_SIGNATURE,
    )


def _show_sandbox_inbox(output: Output, server: Any) -> None:
    masker = output.masker
    for message in list(server.messages)[:20]:
        phone = message["phone"]
        text = masker.text(message["text"], [phone], message["params"])
        output.info(f"  sandbox → {masker.phone(phone)}: {text}")
    extra = len(server.messages) - 20
    if extra > 0:
        output.info(f"  sandbox → … and {extra:,} more messages")


# ---- shared plumbing for commands that call the API ---------------------------------------


def _warn(output: Output, settings: Settings) -> None:
    from usms_cli.app.config import emit_warnings

    emit_warnings(output, settings)


def _settings(flags: Mapping[str, str | None], env_file: Path | None) -> Settings:
    from usms_cli.engine import settings as config

    return config.resolve(flags, os.environ, env_file, Path.cwd())


def _require_credentials(settings: Settings) -> tuple[str, str]:
    missing = [
        name
        for name, value in (
            ("UCLOUD_PUBLIC_KEY", settings.public_key),
            ("UCLOUD_PRIVATE_KEY", settings.private_key),
        )
        if not value
    ]
    if missing or settings.public_key is None or settings.private_key is None:
        raise ConfigError(
            f"no UCloud credentials: {' and '.join(missing)} not set; nothing was sent",
            hint="export them, put them in ./.env, pass --env-file PATH, or use --profile NAME",
        )
    return settings.public_key, settings.private_key


def _query(
    client: Client, params: Mapping[str, Any], settings: Settings, what: str
) -> dict[str, Any]:
    """Call a read-only action; raise an ApiFailure for anything but RetCode 0."""
    from usms_cli.core.signing import signed_params

    public_key, private_key = _require_credentials(settings)
    result = client.call(signed_params(params, public_key, private_key), idempotent=True)
    if result.status == "accepted" and result.body is not None:
        return result.body
    raise ApiFailure.from_result(result, what)


class ApiFailure(UsmsError):
    """A read-only call that did not succeed; the exit code follows the send rules."""

    @classmethod
    def from_result(cls, result: ApiResult, what: str) -> ApiFailure:
        from usms_cli.output.render import refusal, request_id

        rid = request_id(result)
        if result.status == "rejected":
            text, hint = refusal(result, what)
            error = cls(text, hint=hint)
            error.exit_code = ExitCode.REJECTED
        elif result.status == "not_sent":
            error = cls(f"{what} failed: {result.error}{rid}")
            error.exit_code = ExitCode.UNREACHABLE
        else:
            error = cls(f"{what} failed: {result.error}{rid}")
            error.exit_code = ExitCode.UNKNOWN
        return error


def run_receipt(
    output: Output,
    *,
    flags: Mapping[str, str | None],
    env_file: Path | None,
    session_nos: Sequence[str],
    wait: bool,
    wait_timeout: float,
    interval: float,
    verbose: bool,
    expected: Mapping[str, Sequence[str]] | None = None,
    client: Client | None = None,
    settings: Settings | None = None,
) -> ExitCode:
    """Fetch receipts once, or poll until every phone has a final result or time runs out."""
    import time

    from usms_cli.core.api import MAX_SESSIONS_PER_RECEIPT, build_receipt_query, chunks
    from usms_cli.core.receipts import PollPlan, ReceiptState, parse_receipts
    from usms_cli.output.render import render_receipts

    unique = list(dict.fromkeys(sn.strip() for sn in session_nos if sn.strip()))
    if not unique:
        raise InputError("no SessionNo given: usms receipt SESSION_NO...")
    _check_wait(wait_timeout, interval, "--timeout", "--interval")
    if settings is None:
        settings = _settings(flags, env_file)
        _warn(output, settings)
    _require_credentials(settings)
    own_client = client is None
    client = client or _api_client(output, settings, verbose)
    state = ReceiptState(unique, expected or {})
    deadline = time.monotonic() + wait_timeout
    delays = iter(PollPlan(interval=interval, max_interval=max(interval, 60.0)).delays())
    timed_out = False
    try:
        with output.status_line() as status:
            while True:
                for chunk in chunks(unique, MAX_SESSIONS_PER_RECEIPT):
                    params = build_receipt_query(chunk, settings.project_id)
                    try:
                        body = _query(client, params, settings, "the receipt query")
                    except ApiFailure as failure:
                        if not wait or failure.exit_code == ExitCode.REJECTED:
                            raise
                        output.warn(f"{failure.message}; will ask again")
                        continue
                    state.update(parse_receipts(body))
                if not wait or state.done():
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    timed_out = True
                    break
                pause = min(next(delays), remaining)
                counts = state.counts()
                status(
                    f"Waiting for receipts: {counts['delivered']} delivered, "
                    f"{counts['failed']} failed, {counts['pending'] + counts['unknown']} "
                    f"not final · next check in {pause:.0f}s · {remaining:.0f}s left"
                )
                time.sleep(pause)
    finally:
        if own_client:
            client.close()
    render_receipts(output, state, waited=wait, timed_out=timed_out)
    return state.exit_code()


def run_lookup(
    output: Output,
    kind: str,
    *,
    flags: Mapping[str, str | None],
    env_file: Path | None,
    key: str | None,
    sig_id: str | None = None,
    verbose: bool,
) -> ExitCode:
    """Show a template or signature; exit 1 unless it is approved."""
    from usms_cli.core.api import build_signature_query, build_template_query
    from usms_cli.core.receipts import approved
    from usms_cli.output.render import render_lookup

    settings = _settings(flags, env_file)
    _warn(output, settings)
    if kind == "template":
        if not key:
            raise InputError("give the template id: usms template TEMPLATE_ID")
        params = build_template_query(key, settings.project_id)
    else:
        if not key and not sig_id:
            raise InputError("give the signature text, or --id SIG_ID")
        params = build_signature_query(key, sig_id, settings.project_id)
    data = _look_up(output, settings, params, kind, verbose)
    render_lookup(output, kind, data)
    return ExitCode.OK if approved(data) else ExitCode.REJECTED


def run_sandbox(
    output: Output,
    *,
    host: str,
    port: int,
    public_key: str | None,
    private_key: str | None,
    config_file: Path | None,
    templates: Sequence[str],
    signatures: Sequence[str],
    latency_ms: int,
    fail_rate: float,
    fail_numbers: Sequence[str],
    receipt_delay: float,
    record: Path | None,
    display: bool = True,
) -> ExitCode:
    """Serve the sandbox in the foreground until Ctrl-C or SIGTERM."""
    import sys

    from usms_cli import sandbox as sb
    from usms_cli.core.phones import InvalidPhone, normalize

    config = sb.SandboxConfig()
    if public_key:
        config.public_key = public_key
    if private_key:
        config.private_key = private_key
    if config_file is not None:
        try:
            loaded_templates, loaded_signatures = sb.load_config_file(str(config_file))
        except (OSError, ValueError) as exc:
            raise ConfigError(f"sandbox config: {exc}") from None
        config.templates.update(loaded_templates)
        config.signatures.update(loaded_signatures)
    for spec in templates:
        template_id, sep, text = spec.partition("=")
        if not sep or not template_id.strip() or not text:
            raise InputError(f"--template {spec!r}: write it as ID=TEXT, e.g. 'UTA1=Hello {{1}}'")
        config.templates[template_id.strip()] = sb.Template(template_id.strip(), text)
    for content in signatures:
        config.signatures[content] = sb.Signature(f"SIG-{content}", content)
    if not 0 <= fail_rate <= 1:
        raise InputError("--fail-rate must be between 0 and 1")
    if latency_ms < 0 or receipt_delay < 0:
        raise InputError("--latency and --receipt-delay must not be negative")
    config.latency_ms = latency_ms
    config.fail_rate = fail_rate
    config.receipt_delay = receipt_delay
    for number in fail_numbers:
        try:
            config.fail_numbers.add(normalize(number))
        except InvalidPhone as exc:
            raise InputError(f"--fail-number {number!r}: {exc}") from None
    config.record_path = str(record) if record else None
    config.display = display
    try:
        return ExitCode(sb.serve_forever(config, host, port, sys.stdout))
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    except OSError as exc:
        raise ConfigError(
            f"cannot listen on {host}:{port} ({exc.strerror or exc})",
            hint="pick another --port, or --port 0 for a free one",
        ) from None
