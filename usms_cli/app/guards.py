"""The guards before a real send: marketing hours, and a question before a large send."""

from __future__ import annotations

from typing import TYPE_CHECKING

from usms_cli.app.lookup import template_data
from usms_cli.core.codes import MARKETING
from usms_cli.core.errors import ExitCode, InputError, UsmsError
from usms_cli.i18n import N_, tr, tr_n

if TYPE_CHECKING:
    from usms_cli.app.env import Env
    from usms_cli.app.job import Job
    from usms_cli.app.request import SendRequest
    from usms_cli.core.cost import Cost
    from usms_cli.engine.settings import Settings
    from usms_cli.output.console import Output

DEFAULT_CONFIRM_ABOVE = 1000


def check_marketing_hours(
    console: Output, env: Env, settings: Settings, template_id: str, verbose: bool
) -> None:
    """Refuse a marketing template (purpose 3) outside 08:00-20:00 China time. The template
    is looked up only outside those hours, so a send in hours stays one request."""
    from usms_cli.core import content

    moment = env.now()
    if not content.outside_marketing_hours(moment):
        return
    try:
        purpose = template_data(console, settings, template_id, verbose).get("Purpose")
    except UsmsError as exc:
        console.warn(
            tr(
                "outside 08:00-20:00 China time, and whether template {template_id} is a "
                "marketing template could not be checked ({problem}); sending anyway",
                template_id=template_id,
                problem=exc.message,
            )
        )
        return
    _refuse_marketing_outside_hours(env, template_id, purpose)


def _refuse_marketing_outside_hours(env: Env, template_id: str, purpose: object) -> None:
    from usms_cli.core import content

    moment = env.now()
    if str(purpose) == str(MARKETING) and content.outside_marketing_hours(moment):
        local = moment.astimezone(content.CHINA).strftime("%H:%M")
        raise InputError(
            tr(
                "template {template_id} is a marketing template; marketing SMS may be sent "
                "only 08:00-20:00 China time, and it is {local} there; nothing was sent",
                template_id=template_id,
                local=local,
            ),
            hint=tr("send it in those hours, or pass --allow-outside-hours if it may go out now"),
        )


def confirm_mass_send(
    console: Output, env: Env, count: int, cost: Cost | None, confirm_above: int | None, yes: bool
) -> None:
    """Above the threshold, ask in a terminal; without one, a threshold set explicitly (flag
    or USMS_CONFIRM_ABOVE) needs --yes. Never asks, and never hangs, otherwise."""
    explicit = confirm_above  # the flag, or USMS_CONFIRM_ABOVE (Typer reads and checks it)
    threshold = DEFAULT_CONFIRM_ABOVE if explicit is None else explicit
    if yes or count <= threshold:
        return
    what = tr_n("{n:,} recipient", "{n:,} recipients", count, n=count)
    if cost is not None:
        segments = cost.total_segments
        what = tr_n(
            "{what} ({n:,} SMS segment)",
            "{what} ({n:,} SMS segments)",
            segments,
            what=what,
            n=segments,
        )
    if env.interactive():
        console.err.line(tr("usms: about to send to {what}. Send? [y/N] ", what=what))
        answer = env.stdin.readline().strip().lower()
        if answer in ("y", "yes"):
            return
        raise InputError(tr("not sent: the send was not confirmed"))
    if explicit is not None:
        raise InputError(
            tr(
                "{what} is more than the --confirm-above/USMS_CONFIRM_ABOVE limit of "
                "{threshold:,}, and there is no terminal to ask; nothing was sent",
                what=what,
                threshold=threshold,
            ),
            hint=tr("pass --yes to send anyway"),
        )


def preflight(
    console: Output, env: Env, settings: Settings, job: Job, request: SendRequest
) -> str | None:
    """A dry run's read-only checks, so that it fails where the real send would: the template
    and the signature must exist and be approved (QueryUSMSTemplate, QueryUSMSSignature), and
    a marketing template must be inside its hours. Returns the template text (for the cost).
    A refusal is the API's (exit 1, 4 or 5); nothing is sent."""
    from usms_cli.app.common import ApiFailure, look_up
    from usms_cli.core.api import build_signature_query
    from usms_cli.core.codes import STATUS_WORDS, as_int
    from usms_cli.core.review import approved

    verbose = request.connection.verbose
    message = job.message
    data = template_data(console, settings, message.template_id, verbose)
    if not approved(data):
        status = STATUS_WORDS.get(as_int(data.get("Status")) or -1, N_("not approved"))
        reason = tr(" ({reason})", reason=data["ErrDesc"]) if data.get("ErrDesc") else ""
        failure = ApiFailure(
            tr(
                "template {template_id} is {status}{reason}: the send would be refused",
                template_id=message.template_id,
                status=tr(status),
                reason=reason,
            ),
            hint=tr(
                "see usms template {template_id}; only approved templates can send",
                template_id=message.template_id,
            ),
        )
        failure.exit_code = ExitCode.REJECTED
        raise failure
    if message.sig_content:
        query = build_signature_query(message.sig_content, None, settings.project_id)
        signature = look_up(console, settings, query, "signature", verbose)
        if not approved(signature):
            status = STATUS_WORDS.get(as_int(signature.get("Status")) or -1, N_("not approved"))
            failure = ApiFailure(
                tr(
                    "signature {signature!r} is {status}: the send would be refused",
                    signature=message.sig_content,
                    status=tr(status),
                ),
                hint=tr("use an approved signature (usms signature TEXT shows its status)"),
            )
            failure.exit_code = ExitCode.REJECTED
            raise failure
    if not request.allow_outside_hours:
        _refuse_marketing_outside_hours(env, message.template_id, data.get("Purpose"))
    text = data.get("Template")
    return text if isinstance(text, str) and text else None
