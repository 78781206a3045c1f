"""The send use case: a ``SendRequest`` in, a ``SendResult`` out. It reads the recipients,
checks the message, runs the guards, then does a dry run or delivers (and with ``wait``, polls
the receipts). Progress and warnings go to the console; the result is rendered by the caller."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from usms_cli.app import history as app_history
from usms_cli.app import suppress as app_suppress
from usms_cli.app.common import api_client, emit_warnings, require_credentials, resolve
from usms_cli.app.job import Job, read_job
from usms_cli.core.errors import ExitCode, UsmsError
from usms_cli.core.results import SendReport

if TYPE_CHECKING:
    from usms_cli.app.env import Env
    from usms_cli.app.receipt import ReceiptResult
    from usms_cli.app.request import SendRequest
    from usms_cli.core.cost import Cost
    from usms_cli.core.history_rules import Repeat
    from usms_cli.engine.client import Client
    from usms_cli.engine.history_safe import SafeHistory
    from usms_cli.engine.settings import Settings
    from usms_cli.output.console import Output

PLACEHOLDER_PUBLIC_KEY = "dry-run-public-key"
PLACEHOLDER_PRIVATE_KEY = "dry-run-private-key"


@dataclass
class SendResult:
    """What a send did. ``receipts`` is set when ``--wait`` polled; ``wait_error`` when the
    polling itself failed after the send."""

    report: SendReport
    cost: Cost | None = None
    preview: list[dict[str, Any]] | None = None
    preview_total: int = 0
    template_known: bool = False
    receipts: ReceiptResult | None = None
    wait_error: UsmsError | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    repeats: list[Repeat] = field(default_factory=list)  # --skip-repeats: left out
    suppressed: list[str] = field(default_factory=list)  # opted out of marketing: left out
    client: Client | None = field(default=None, repr=False)  # open until --wait is done
    history: SafeHistory | None = field(default=None, repr=False)
    recorder: app_history.Recorder | None = field(default=None, repr=False)

    @property
    def waited(self) -> bool:
        return self.receipts is not None or self.wait_error is not None

    @property
    def exit_code(self) -> ExitCode:
        """The send's own code; after a successful send that waited, the receipts' code."""
        code = self.report.exit_code()
        if code != ExitCode.OK or not self.waited:
            return code
        return ExitCode.UNKNOWN if self.receipts is None else self.receipts.exit_code


def send(
    request: SendRequest,
    env: Env,
    console: Output,
    on_sent: Callable[[SendResult], None] | None = None,
) -> SendResult:
    """Send ``request``. ``on_sent`` sees the result after sending and before waiting for
    receipts, so a person reads the SessionNos while usms waits."""
    from usms_cli.app.sandbox import sandbox_for
    from usms_cli.engine.inputs import check_paths

    request.validate()
    console.add_masks(request.params)
    outputs = {
        "--journal": request.journal,
        "--failed-out": request.failed_out,
        "--report-dotenv": request.report_dotenv,
    }
    check_paths(outputs, {"-f": list(request.files), "--csv": [request.csv_file]})
    settings = resolve(request.connection, env)
    recipients, table = read_job(console, request)
    emit_warnings(console, settings)
    with sandbox_for(request.sandbox, console) as server:
        if server is not None:
            settings = server.point(settings, request, console)
        job = Job.build(settings, request, recipients, table)
        template = _known_template(console, env, settings, job, server, request)
        job, suppressed = app_suppress.leave_out(console, env, settings, job, request)
        cost = None if template is None else job.cost(template, console.masker)
        if request.dry_run:
            dry = _dry_run(job, settings, request, template, cost)
            dry.suppressed = suppressed
            return dry
        keys = require_credentials(settings)
        history = app_history.for_send(console, env, request)
        try:
            guarded = app_history.guard(console, env, history, job, request)
            if guarded.skipped:
                job = job.without({repeat.phone for repeat in guarded.skipped})
            _guard(console, env, settings, request, job, cost)
            result = _deliver(console, env, settings, keys, job, request, history, server)
            result.repeats = guarded.skipped
            result.suppressed = suppressed
            try:
                _maybe_wait(console, result, settings, request, on_sent)
            finally:
                recorder = result.recorder
                if recorder is not None:
                    history.finish_run(recorder.run_id, int(result.exit_code))
            return result
        finally:
            history.close()


def _deliver(
    console: Output,
    env: Env,
    settings: Settings,
    keys: tuple[str, str],
    job: Job,
    request: SendRequest,
    history: SafeHistory,
    server: Any,
) -> SendResult:
    """Deliver the job, recording it in the history as it goes (a run, then each request
    before it is sent and after); the run's exit code is recorded once it is known."""
    from usms_cli.app.delivery import deliver

    client = _send_client(console, settings, request)
    recorder = app_history.start(history, job)
    result = SendResult(SendReport(job.message, job.recipients), history=history)
    try:
        result.report = deliver(console, job, keys, client, request, recorder)
    except BaseException:  # the run stays unfinished in the history: its requests say why
        client.close()
        raise
    result.client, result.recorder = client, recorder
    if server is not None:
        server.show_inbox(console)
    return result


def _guard(
    console: Output, env: Env, settings: Settings, request: SendRequest, job: Job, cost: Any
) -> None:
    from usms_cli.app.guards import check_marketing_hours, confirm_mass_send

    if not request.allow_outside_hours:
        verbose = request.connection.verbose
        check_marketing_hours(console, env, settings, job.message.template_id, verbose)
    count = len(job.recipients.numbers)
    confirm_mass_send(console, env, count, cost, request.confirm_above, request.yes)


def _send_client(console: Output, settings: Settings, request: SendRequest) -> Client:
    from usms_cli.engine.pacing import Pacer

    return api_client(
        console,
        settings,
        request.connection.verbose,
        pacer=Pacer(request.rate),
        pool_size=request.concurrency,
    )


def _dry_run(
    job: Job, settings: Settings, request: SendRequest, template: str | None, cost: Cost | None
) -> SendResult:
    """Everything up to the HTTP call: each request built and signed, nothing sent."""
    from usms_cli.core.plan import dry_run

    report = dry_run(
        job.message,
        job.recipients,
        settings.public_key or PLACEHOLDER_PUBLIC_KEY,
        settings.private_key or PLACEHOLDER_PRIVATE_KEY,
        plan=job.plan(job.recipients.numbers),
    )
    report.columns = job.columns
    result = SendResult(report, cost=cost, template_known=template is not None)
    if cost is not None:
        result.extra["cost"] = cost.as_json()
    if request.preview is not None and job.table is not None:
        result.preview = job.preview(template, request.preview)
        result.preview_total = len(job.table.rows)
        result.extra["preview"] = result.preview
    return result


def _known_template(
    console: Output, env: Env, settings: Settings, job: Job, server: Any, request: SendRequest
) -> str | None:
    """The template text, when it is known without slowing a send down: --template-text, the
    sandbox's own, or (dry runs) QueryUSMSTemplate. A dry run with credentials, unless
    --offline, also makes the read-only checks a real send would fail (guards.preflight)."""
    from usms_cli.app.guards import preflight
    from usms_cli.app.lookup import template_text

    if server is None and request.dry_run and not request.offline:
        if settings.public_key and settings.private_key:
            checked = preflight(console, env, settings, job, request)
            return request.template_text if request.template_text is not None else checked
    if request.template_text is not None:
        return request.template_text
    if server is not None:
        return server.template_text(job.message.template_id)  # type: ignore[no-any-return]
    if not request.dry_run or request.offline:
        return None
    preview = request.preview is not None
    verbose = request.connection.verbose
    return template_text(console, settings, job.message.template_id, verbose, preview)


def _maybe_wait(
    console: Output,
    result: SendResult,
    settings: Settings,
    request: SendRequest,
    on_sent: Callable[[SendResult], None] | None,
) -> None:
    """With --wait, after a send that was accepted (wholly or partly): poll its receipts and
    store them in the history. The send's client is closed here."""
    client = result.client
    assert client is not None
    try:
        _wait(console, result, client, settings, request, on_sent)
    finally:
        client.close()
        result.client = None


def _wait(
    console: Output,
    result: SendResult,
    client: Client,
    settings: Settings,
    request: SendRequest,
    on_sent: Callable[[SendResult], None] | None,
) -> None:
    from usms_cli.app.receipt import Wait, poll

    report = result.report
    expected = {
        outcome.session_no: [n for n in outcome.numbers if n not in outcome.refused]
        for outcome in report.requests
        if outcome.session_no
    }
    if not request.wait or not expected:
        return
    if report.exit_code() not in (ExitCode.OK, ExitCode.PARTIAL):
        return
    if on_sent is not None:
        on_sent(result)
    wait = Wait(True, request.wait_timeout, request.wait_interval)
    try:
        result.receipts = poll(console, client, settings, list(expected), wait, sent_to=expected)
    except UsmsError as exc:  # the send happened: keep its report, say why waiting failed
        result.wait_error = exc
        return
    if result.history is not None:
        result.history.record_receipts(result.receipts.state.rows())
