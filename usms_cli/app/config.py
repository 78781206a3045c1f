"""``usms config show`` and ``usms config check``: where each setting comes from, and whether
the credentials work.

Secrets never reach the output: the private key is only ever "<set, hidden>" or "<not set>",
the public key is shortened. Typer is not imported here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from usms_cli.app.common import Connection, api_client, require_credentials, resolve
from usms_cli.core.api import mask_key
from usms_cli.core.codes import CREDENTIAL_REFUSALS
from usms_cli.core.errors import ExitCode
from usms_cli.i18n import N_, tr

if TYPE_CHECKING:
    from usms_cli.app.env import Env
    from usms_cli.core.results import ApiResult
    from usms_cli.engine.settings import Settings
    from usms_cli.output.console import Output

HIDDEN = N_("<set, hidden>")  # in JSON as written; translated where a person reads it
NOT_SET = N_("<not set>")

# setting name -> label, in the order shown
LABELS: dict[str, str] = {
    "public_key": N_("public key"),
    "private_key": N_("private key"),
    "project_id": N_("project"),
    "base_url": N_("base URL"),
    "timeout": N_("timeout"),
    "template_id": N_("template"),
    "sig_content": N_("signature"),
    "profile": N_("profile"),
    "config_file": N_("config file"),
    "credential_file": N_("credential file"),
}

# ---- config show ------------------------------------------------------------------------------


def describe_settings(settings: Settings) -> dict[str, dict[str, Any]]:
    """Every setting as ``{"value": …, "source": …}``, secrets masked; JSON-ready."""
    sources = settings.sources
    described: dict[str, dict[str, Any]] = {}
    for name in LABELS:
        value: Any
        if name == "private_key":
            value = HIDDEN if settings.private_key else NOT_SET
        elif name == "public_key":
            value = mask_key(settings.public_key) if settings.public_key else None
        elif name == "timeout":
            value = int(settings.timeout) if settings.timeout.is_integer() else settings.timeout
        elif name in ("config_file", "credential_file"):
            path: Path | None = getattr(settings, name)
            value = None if path is None else _shown_path(path)
        else:
            value = getattr(settings, name)
        item: dict[str, Any] = {"value": value, "source": sources.get(name, "not set")}
        if name in ("config_file", "credential_file"):
            path = getattr(settings, name)
            item["found"] = path is not None and path.is_file()
        described[name] = item
    return described


def _shown_path(path: Path) -> str:
    from usms_cli.engine.profiles import display_path

    return display_path(path)


def _text(name: str, item: Mapping[str, Any]) -> str:
    """The value as a person reads it (the JSON keeps ``item``'s English)."""
    value = item["value"]
    if value is None or value == NOT_SET:
        return tr(NOT_SET)
    if name == "private_key" and value == HIDDEN:
        return tr(HIDDEN)
    if name == "timeout":
        return tr("{seconds:g} s", seconds=value)
    if name in ("config_file", "credential_file") and not item.get("found"):
        return tr("{path} (not found)", path=value)
    return str(value)


@dataclass(frozen=True)
class ShowResult:
    settings: Settings
    described: dict[str, dict[str, Any]]
    exit_code: ExitCode = ExitCode.OK

    def rows(self) -> list[tuple[str, str, str]]:
        """(label, shown value, source) of every setting, in order."""
        return [
            (tr(LABELS[n]), _text(n, item), item["source"]) for n, item in self.described.items()
        ]


def show(console: Output, env: Env, connection: Connection) -> ShowResult:
    """Every setting with its (masked) value and where it came from."""
    settings = resolve(connection, env, console)
    return ShowResult(settings, describe_settings(settings))


# ---- config check -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """What a check call says about the credentials, in one plain sentence."""

    exit_code: ExitCode
    keys_work: bool
    summary: str
    hint: str | None = None


def interpret_check(
    result: ApiResult, *, action: str, settings: Settings, sig_content: str | None
) -> Verdict:
    """Turn the answer to the one check request into a verdict (pure)."""
    from usms_cli.core.codes import STATUS_WORDS

    sources = settings.sources
    where = settings.base_url
    code = result.ret_code
    if result.status == "not_sent":
        return Verdict(
            ExitCode.UNREACHABLE,
            False,
            tr(
                "Could not reach the API at {url}: {error}. The keys were not checked.",
                url=where,
                error=result.error,
            ),
            hint=tr(
                "check the base URL (from {source}) and the network or proxy",
                source=sources.get("base_url", "default"),
            ),
        )
    if result.status == "unknown":
        return Verdict(
            ExitCode.UNKNOWN,
            False,
            tr(
                "No usable answer from {url}: {error}. The keys were not checked.",
                url=where,
                error=result.error,
            ),
            hint=tr("is the base URL a UCloud API endpoint? run again with -v to see the answer"),
        )
    if result.status == "accepted" or (code is not None and 18000 <= code <= 18999):
        if settings.project_id:
            text = tr(
                "The keys, the project and the endpoint work: {action} was answered with "
                "RetCode {code}.",
                action=action,
                code=code,
            )
        else:
            text = tr(
                "The keys and the endpoint work (no project set: the key's default project is "
                "used): {action} was answered with RetCode {code}.",
                action=action,
                code=code,
            )
        hint = None
        if code == 18016 and sig_content:
            text += tr(
                " The signature {signature!r} is not approved or not known to USMS.",
                signature=sig_content,
            )
            hint = tr("check USMS_SIG_CONTENT: it must be an approved signature, without 【】")
        elif result.status == "accepted" and sig_content and result.body is not None:
            status = _signature_status(result.body)
            words = STATUS_WORDS.get(status) if status is not None else None
            text += tr(
                " The signature {signature!r} is {status}.",
                signature=sig_content,
                status=tr(words or N_("of unknown status")),
            )
        return Verdict(ExitCode.OK, True, text, hint)
    message = f": {result.message}" if result.message else ""
    public = sources.get("public_key", "not set")
    private = sources.get("private_key", "not set")
    project = sources.get("project_id", "not set")
    if code is not None and code in CREDENTIAL_REFUSALS:
        text, hint = CREDENTIAL_REFUSALS[code]
        hint = tr(hint, public=public, private=private, project=project)
        summary = tr("{text} (RetCode {code}{message}).", text=tr(text), code=code, message=message)
        return Verdict(ExitCode.REJECTED, False, summary, hint)
    return Verdict(
        ExitCode.REJECTED,
        False,
        tr("The API refused the check: RetCode {code}{message}.", code=code, message=message),
        hint=tr("run again with -v to see the request and the answer"),
    )


def _signature_status(body: Mapping[str, Any]) -> int | None:
    data = body.get("Data")
    if isinstance(data, list):
        data = data[0] if data else None
    if not isinstance(data, dict):
        return None
    status = data.get("Status")
    if isinstance(status, int) and not isinstance(status, bool):
        return status
    if isinstance(status, str) and status.strip().isdigit():
        return int(status)
    return None


def _check_request(settings: Settings) -> dict[str, Any]:
    import uuid

    from usms_cli.core.api import build_receipt_query, build_signature_query

    if settings.sig_content:
        return build_signature_query(settings.sig_content, None, settings.project_id)
    return build_receipt_query([f"check-{uuid.uuid4()}"], settings.project_id)


def _context(settings: Settings) -> list[tuple[str, str, str]]:
    described = describe_settings(settings)
    names = ["base_url", "public_key", "private_key", "project_id"]
    if settings.profile:
        names.append("profile")
    return [(tr(LABELS[n]), _text(n, described[n]), described[n]["source"]) for n in names]


@dataclass(frozen=True)
class CheckResult:
    verdict: Verdict
    result: ApiResult
    action: str
    context: list[tuple[str, str, str]]
    settings: dict[str, dict[str, Any]]

    @property
    def exit_code(self) -> ExitCode:
        return self.verdict.exit_code


def check(console: Output, env: Env, connection: Connection) -> CheckResult:
    """One cheap read-only call that tells whether keys, project and endpoint work."""
    from usms_cli.core.signing import signed_params

    settings = resolve(connection, env, console)
    public_key, private_key = require_credentials(settings, N_("nothing was checked"))
    params = _check_request(settings)
    action = str(params["Action"])
    # Two attempts at most: a check should answer quickly, not ride out an outage.
    client = api_client(console, settings, connection.verbose, attempts=2)
    try:
        result = client.call(signed_params(params, public_key, private_key))
    finally:
        client.close()
    verdict = interpret_check(
        result, action=action, settings=settings, sig_content=settings.sig_content
    )
    context = _context(settings)
    if result.request_id:
        context.append((tr("request id"), result.request_id, action))
    shown = ("base_url", "public_key", "private_key", "project_id", "profile")
    described = {k: v for k, v in describe_settings(settings).items() if k in shown}
    return CheckResult(verdict, result, action, context, described)
