"""What every use case that calls the API shares: where the connection settings come from, the
credential check, the API client, and one read-only query with its failure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from usms_cli.core.errors import ConfigError, ExitCode, UsmsError
from usms_cli.i18n import N_, tr

if TYPE_CHECKING:
    from usms_cli.app.env import Env
    from usms_cli.core.results import ApiResult
    from usms_cli.engine.client import Client
    from usms_cli.engine.pacing import Pacer
    from usms_cli.engine.settings import Settings
    from usms_cli.output.console import Output


@dataclass(frozen=True)
class Connection:
    """The options that say which account and endpoint to use (flags; None = not given)."""

    profile: str | None = None
    project_id: str | None = None
    base_url: str | None = None
    timeout: str | None = None
    env_file: Path | None = None
    template_id: str | None = None
    sig_content: str | None = None
    verbose: bool = False

    def flags(self) -> dict[str, str | None]:
        return {
            "profile": self.profile,
            "project_id": self.project_id,
            "base_url": self.base_url,
            "timeout": self.timeout,
            "template_id": self.template_id,
            "sig_content": self.sig_content,
        }


def resolve(connection: Connection, env: Env, console: Output | None = None) -> Settings:
    """Settings as flag > environment > .env > profile > default; their warnings are shown
    once on ``console``."""
    from usms_cli.engine import settings as engine_settings

    settings = engine_settings.resolve(
        connection.flags(), env.environ, connection.env_file, env.cwd
    )
    if console is not None:
        emit_warnings(console, settings)
    return settings


def emit_warnings(console: Output, settings: Settings) -> None:
    """Print ``settings.warnings`` on stderr, each at most once per console (one run)."""
    for warning in settings.warnings:
        if warning not in console.warned:
            console.warned.add(warning)
            console.warn(warning)


# what a look-up is called in its failure ("the template look-up failed: …")
LOOK_UPS = {"template": N_("the template look-up"), "signature": N_("the signature look-up")}


def require_credentials(settings: Settings, what: str = N_("nothing was sent")) -> tuple[str, str]:
    """The key pair, or a ConfigError naming what is missing. ``what`` is an ``N_`` constant
    (translated here)."""
    public, private = settings.public_key, settings.private_key
    if public and private:
        return public, private
    missing = [
        name
        for name, value in (("UCLOUD_PUBLIC_KEY", public), ("UCLOUD_PRIVATE_KEY", private))
        if not value
    ]
    if settings.env_file is not None:
        hint = tr("add them to {path}, export them, or use --profile NAME", path=settings.env_file)
    else:
        hint = tr("export them, put them in ./.env, pass --env-file PATH, or use --profile NAME")
    names = missing[0] if len(missing) == 1 else tr("{a} and {b}", a=missing[0], b=missing[1])
    raise ConfigError(
        tr("no UCloud credentials: {names} not set; {what}", names=names, what=tr(what)),
        hint=hint,
    )


def api_client(
    console: Output,
    settings: Settings,
    verbose: bool,
    *,
    pacer: Pacer | None = None,
    pool_size: int = 4,
    attempts: int | None = None,
) -> Client:
    """A client whose -v log goes to stderr, masked unless --show-pii. ``attempts`` caps the
    tries of one call (default: the client's retry policy)."""
    from usms_cli.engine.client import Client, RetryPolicy

    return Client(
        settings.base_url,
        settings.timeout,
        retry=None if attempts is None else RetryPolicy(attempts=attempts),
        log=console.verbose if verbose else None,
        mask_pii=not console.masker.show_pii,
        pacer=pacer,
        pool_size=pool_size,
    )


class ApiFailure(UsmsError):
    """A read-only call that did not succeed; the exit code follows the send rules."""

    @classmethod
    def from_result(cls, result: ApiResult, what: str) -> ApiFailure:
        """``what`` is an ``N_`` constant in English (its words choose the refusal's hint),
        translated here."""
        from usms_cli.core.results import refusal, request_id_text

        rid = request_id_text(result)
        context = next((k for k in ("template", "signature") if k in what), "send")
        what = tr(what)
        if result.status == "rejected":
            text, hint = refusal(result, what, context)
            error = cls(text, hint=hint)
            error.exit_code = ExitCode.REJECTED
        else:
            error = cls(tr("{what} failed: {error}{rid}", what=what, error=result.error, rid=rid))
            unreachable = result.status == "not_sent"
            error.exit_code = ExitCode.UNREACHABLE if unreachable else ExitCode.UNKNOWN
        return error


def query(
    client: Client, params: Mapping[str, Any], settings: Settings, what: str
) -> dict[str, Any]:
    """Call a read-only action; an ApiFailure for anything but RetCode 0. ``what`` names the
    call in its failure: an ``N_`` constant."""
    from usms_cli.core.signing import signed_params

    public_key, private_key = require_credentials(settings)
    result = client.call(signed_params(params, public_key, private_key))
    if result.status == "accepted" and result.body is not None:
        return result.body
    raise ApiFailure.from_result(result, what)


def data_of(body: Mapping[str, Any], kind: str) -> dict[str, Any]:
    """The one item a look-up answered with (``Data``, an object or a one-item list)."""
    data = body.get("Data")
    if isinstance(data, list):
        data = data[0] if data else None
    if not isinstance(data, dict):
        if kind == "signature":
            raise ApiFailure(tr("the signature look-up answered without Data"))
        raise ApiFailure(tr("the template look-up answered without Data"))
    return data


def look_up(
    console: Output, settings: Settings, params: Mapping[str, Any], kind: str, verbose: bool
) -> dict[str, Any]:
    """One read-only look-up: its ``Data`` item, or a UsmsError."""
    client = api_client(console, settings, verbose)
    try:
        body = query(client, params, settings, LOOK_UPS[kind])
    finally:
        client.close()
    return data_of(body, kind)
