"""What ``usms send`` shows and reports when it is done: the result rendered for a person or
as one JSON object, and the GitHub/GitLab reports written from the same payload."""

# No ``from __future__ import annotations`` in the CLI modules (start-up time; see send.py).

from typing import TYPE_CHECKING, Any, NoReturn

from usms_cli.cli.funnel import finish
from usms_cli.core.errors import ExitCode, UsmsError
from usms_cli.i18n import tr

if TYPE_CHECKING:
    from usms_cli.app.request import SendRequest
    from usms_cli.app.send import SendResult
    from usms_cli.output.console import Output


def run_send(output: "Output", request: "SendRequest", *, debug: bool) -> NoReturn:
    """Call the send use case, render its result, write the CI reports from it."""
    from usms_cli.app import ci_reports
    from usms_cli.app.env import Env

    env = Env.from_process()
    reports = ci_reports.wanted(env.environ, request.report_dotenv)
    shown: list[bool] = []

    def on_sent(result: "SendResult") -> None:
        from usms_cli.output.render import render_report

        if not output.json_mode:
            render_report(output, result.report)
            shown.append(True)

    def run() -> "SendResult":
        from usms_cli.app.send import send

        result = send(request, env, output, on_sent)
        render_send(output, result, report_shown=bool(shown))
        if reports:
            ci_reports.write_reports(
                output, send_payload(result), env.environ, request.report_dotenv
            )
        return result

    def on_error(exc: UsmsError) -> None:
        from usms_cli.engine.inputs import OutputPathError

        # writing the reports could overwrite another file of the run
        if reports and not isinstance(exc, OutputPathError):
            payload = {"ok": False, "exit_code": int(exc.exit_code), "error": exc.message}
            ci_reports.write_reports(output, payload, env.environ, request.report_dotenv)

    finish(output, run, debug=debug, on_error=on_error)


def send_payload(result: "SendResult") -> dict[str, Any]:
    """The result as ``--json`` prints it (and as the CI reports read it)."""
    from usms_cli.output.render import receipts_json, report_json

    code = result.exit_code
    payload = report_json(result.report, code if result.waited else None)
    payload.update(result.extra)
    if result.repeats:
        payload["repeats"] = [
            {"phone": r.phone, "seconds_ago": round(r.seconds_ago, 1)} for r in result.repeats
        ]
    if result.suppressed:
        payload["suppressed"] = {"count": len(result.suppressed), "phones": result.suppressed}
    if result.receipts is not None:
        payload["receipts"] = receipts_json(result.receipts.state, result.receipts.timed_out)
    elif result.wait_error is not None:
        payload["receipts"] = {"ok": False, "error": result.wait_error.message}
    payload.update(ok=code == ExitCode.OK, exit_code=int(code))
    return payload


def render_send(output: "Output", result: "SendResult", *, report_shown: bool) -> None:
    from usms_cli.output.render import render_cost, render_preview, render_receipts, render_report

    if result.wait_error is not None:
        error = result.wait_error
        output.error(
            tr("sent, but waiting for receipts failed: {message}", message=error.message),
            error.hint,
        )
    if not report_shown:
        payload = send_payload(result) if output.json_mode else None
        render_report(output, result.report, payload=payload)
    if result.repeats:
        count = len(result.repeats)
        shown = ", ".join(output.masker.phone(r.phone) for r in result.repeats[:5])
        if count > 5:
            shown = tr("{shown} and {more:,} more", shown=shown, more=count - 5)
        output.warn(
            tr(
                "skipped {count:,} number(s) sent this same message in the last minute "
                "(--skip-repeats): {shown}",
                count=count,
                shown=shown,
            )
        )
    if result.suppressed:
        count = len(result.suppressed)
        if not output.json_mode:
            output.err.line(
                f"Skipped {count:,} number(s) on the suppression list (they opted out of "
                "marketing SMS; --include-suppressed sends to them)."
            )
    if result.receipts is not None:
        receipts = result.receipts
        render_receipts(
            output,
            receipts.state,
            waited=receipts.waited,
            timed_out=receipts.timed_out,
            embedded=True,
        )
    if result.preview is not None:
        render_preview(output, result.preview, result.preview_total, result.template_known)
    if result.cost is not None and result.report.dry_run:
        render_cost(output, result.cost, messages=result.preview is None)
