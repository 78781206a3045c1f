"""Template use cases: create, update, delete, show and wait for the review
(CreateUSMSTemplate, UpdateUSMSTemplate, DeleteUSMSTemplate, QueryUSMSTemplate). Every local
check runs before the settings are even read, so a bad template never costs a request."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from usms_cli.app.common import Connection, look_up, require_credentials, resolve
from usms_cli.app.review import Patience, confirm_delete, submit, wait_review
from usms_cli.core.errors import ExitCode, InputError, UsmsError
from usms_cli.core.outcomes import ChangeResult, ReviewResult
from usms_cli.i18n import N_, tr

if TYPE_CHECKING:
    from usms_cli.app.env import Env
    from usms_cli.core.templates import TemplateChange, TemplateSpec
    from usms_cli.engine.settings import Settings
    from usms_cli.output.console import Output


class UnknownId(UsmsError):
    """The API accepted a Create but its answer names no id: the item probably exists."""

    exit_code = ExitCode.UNKNOWN


def refuse_problems(problems: list[str], subject: str) -> None:
    """An InputError listing every problem (exit 2, nothing sent), or nothing. ``subject`` is
    an ``N_`` constant."""
    if problems:
        if len(problems) == 1:
            text = tr("{subject}: {problem}", subject=tr(subject), problem=problems[0])
        else:
            text = tr(
                "{subject}: {problem} (and more below)", subject=tr(subject), problem=problems[0]
            )
        raise InputError(text, details=problems[1:])


def _ready(console: Output, env: Env, connection: Connection) -> Settings:
    settings = resolve(connection, env, console)
    require_credentials(settings)
    return settings


def create(console: Output, env: Env, connection: Connection, spec: TemplateSpec) -> ChangeResult:
    """``usms template create``: the new TemplateId (the template starts under review)."""
    from usms_cli.core.templates import template_problems

    refuse_problems(template_problems(spec), N_("the template was not sent"))
    settings = _ready(console, env, connection)
    return create_with(console, settings, spec, connection.verbose)


def create_with(
    console: Output, settings: Settings, spec: TemplateSpec, verbose: bool
) -> ChangeResult:
    """One CreateUSMSTemplate with resolved settings (also used by ``template apply``)."""
    from usms_cli.core.templates import build_create, created_id

    body = submit(
        console,
        settings,
        build_create(spec, settings.project_id),
        N_("creating the template"),
        verbose,
    )
    template_id = created_id(body, "TemplateId")
    if template_id is None:
        raise UnknownId(
            tr("the API accepted the template but its answer holds no TemplateId"),
            hint=tr("look for it in the USMS console before creating it again"),
        )
    return ChangeResult("template", "create", [template_id], body)


def update(
    console: Output, env: Env, connection: Connection, template_id: str, change: TemplateChange
) -> ChangeResult:
    """``usms template update``: only a template that failed review can be changed."""
    from usms_cli.core.templates import build_update, check_ids

    [template_id] = check_ids([template_id], "template")
    refuse_problems(change.problems(), N_("the template was not sent"))
    settings = _ready(console, env, connection)
    params = build_update(template_id, change, settings.project_id)
    body = submit(console, settings, params, N_("updating the template"), connection.verbose)
    return ChangeResult("template", "update", [template_id], body)


def delete(
    console: Output, env: Env, connection: Connection, template_ids: Sequence[str], yes: bool
) -> ChangeResult:
    """``usms template delete``: asks first in a terminal; ``yes`` skips the question."""
    from usms_cli.core.templates import build_delete, check_ids

    ids = check_ids(template_ids, "template")
    settings = _ready(console, env, connection)
    confirm_delete(console, env, "template", ids, yes)
    body = submit(
        console,
        settings,
        build_delete(ids, settings.project_id),
        N_("deleting"),
        connection.verbose,
    )
    return ChangeResult("template", "delete", ids, body)


def fetch(console: Output, settings: Settings, template_id: str, verbose: bool) -> dict[str, Any]:
    from usms_cli.core.api import build_template_query

    params = build_template_query(template_id, settings.project_id)
    return look_up(console, settings, params, "template", verbose)


def show(console: Output, env: Env, connection: Connection, template_id: str) -> ReviewResult:
    """``usms template show``: the template and its review (exit 1 unless approved)."""
    from usms_cli.core.templates import check_ids

    [template_id] = check_ids([template_id], "template")
    settings = _ready(console, env, connection)
    return ReviewResult("template", fetch(console, settings, template_id, connection.verbose))


def wait(
    console: Output, env: Env, connection: Connection, template_id: str, patience: Patience
) -> ReviewResult:
    """``usms template wait``: look until approved (0) or rejected (1); 5 at the timeout."""
    from usms_cli.app.request import check_wait
    from usms_cli.core.templates import check_ids

    [template_id] = check_ids([template_id], "template")
    check_wait(patience.timeout, patience.interval, "--timeout", "--interval")
    settings = _ready(console, env, connection)
    return wait_review(
        console,
        "template",
        lambda: fetch(console, settings, template_id, connection.verbose),
        patience,
    )
