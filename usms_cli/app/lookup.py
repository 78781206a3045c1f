"""Template and signature look-ups (QueryUSMSTemplate, QueryUSMSSignature): the ``usms
template``/``usms signature`` use case, and the template text a send's cost preview needs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from usms_cli.app.common import Connection, look_up, resolve
from usms_cli.core.errors import ExitCode, InputError, UsmsError
from usms_cli.i18n import tr

if TYPE_CHECKING:
    from usms_cli.app.env import Env
    from usms_cli.engine.settings import Settings
    from usms_cli.output.console import Output


@dataclass(frozen=True)
class LookupResult:
    kind: str  # "template" or "signature"
    data: dict[str, Any]

    @property
    def exit_code(self) -> ExitCode:
        from usms_cli.core.review import approved

        return ExitCode.OK if approved(self.data) else ExitCode.REJECTED


def lookup(
    console: Output,
    env: Env,
    connection: Connection,
    kind: str,
    key: str | None,
    sig_id: str | None = None,
) -> LookupResult:
    """A template (``key`` = its id) or a signature (``key`` = its text, or ``sig_id``)."""
    from usms_cli.core.api import build_signature_query, build_template_query

    settings = resolve(connection, env, console)
    if kind == "template":
        if not key:
            raise InputError(tr("give the template id: usms template TEMPLATE_ID"))
        params = build_template_query(key, settings.project_id)
    else:
        if not key and not sig_id:
            raise InputError(tr("give the signature text, or --id SIG_ID"))
        params = build_signature_query(key, sig_id, settings.project_id)
    return LookupResult(kind, look_up(console, settings, params, kind, connection.verbose))


def template_data(
    console: Output, settings: Settings, template_id: str, verbose: bool
) -> dict[str, Any]:
    """The template as QueryUSMSTemplate describes it; a UsmsError if it cannot be had."""
    from usms_cli.core.api import build_template_query

    query = build_template_query(template_id, settings.project_id)
    return look_up(console, settings, query, "template", verbose)


def template_text(
    console: Output, settings: Settings, template_id: str, verbose: bool, preview: bool = False
) -> str | None:
    """The template's text from QueryUSMSTemplate, or None with a one-line note when it
    cannot be had (no note without credentials, unless a preview was asked for)."""
    if preview:
        fallback = tr(
            "the cost is not shown (--template-text TEXT gives it); the preview shows each "
            "row's params instead"
        )
    else:
        fallback = tr("the cost is not shown (--template-text TEXT gives it)")
    if not settings.public_key or not settings.private_key:
        if preview:
            console.info(
                tr(
                    "Preview: no credentials to look the template text up; {fallback}.",
                    fallback=fallback,
                )
            )
        return None
    try:
        text = template_data(console, settings, template_id, verbose).get("Template")
    except UsmsError as exc:
        console.info(tr("Note: {problem}; {fallback}.", problem=exc.message, fallback=fallback))
        return None
    if not isinstance(text, str) or not text:
        console.info(tr("Note: the template look-up gave no text; {fallback}.", fallback=fallback))
        return None
    return text
