"""``usms api ACTION Key=Value …``: sign and send any action, and hand back its answer. The
encoding comes from the action table (core/apicall.py), and so does the retry policy: an action
the table does not know, or one that sends or creates, is never asked twice."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from usms_cli.app.common import Connection, api_client, require_credentials, resolve
from usms_cli.core.errors import ConfigError, InputError
from usms_cli.core.outcomes import ApiCallResult
from usms_cli.i18n import tr

if TYPE_CHECKING:
    from usms_cli.app.env import Env
    from usms_cli.output.console import Output


@dataclass(frozen=True)
class ApiRequest:
    action: str
    pairs: tuple[str, ...] = ()
    json_params: str | None = None  # a file of one JSON object; "-" reads stdin


def _document(env: Env, source: str | None) -> dict[str, Any] | None:
    import json

    if source is None:
        return None
    if source == "-":
        text, name = env.stdin.read(), "<stdin>"
    else:
        from pathlib import Path

        name = source
        try:
            text = Path(source).read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise InputError(tr("--json-params {name}: no such file", name=name)) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(
                tr("--json-params {name}: cannot read it ({problem})", name=name, problem=exc)
            ) from None
    try:
        document = json.loads(text)
    except ValueError as exc:
        raise InputError(
            tr("--json-params {name}: not valid JSON ({problem})", name=name, problem=exc)
        ) from None
    if not isinstance(document, dict):
        raise InputError(
            tr("--json-params {name}: must hold one JSON object of parameters", name=name)
        )
    return document


def call(console: Output, env: Env, connection: Connection, request: ApiRequest) -> ApiCallResult:
    """Encode, sign, send once (retried only as the action table allows), and return."""
    from usms_cli.core.apicall import check_action, encode, split_pairs
    from usms_cli.core.signing import signed_params

    action = check_action(request.action.strip())
    flat = encode(action, split_pairs(request.pairs), _document(env, request.json_params))
    settings = resolve(connection, env, console)
    public_key, private_key = require_credentials(settings)
    if any(private_key in value for value in flat.values()):
        raise ConfigError(
            tr(
                "a parameter holds the private key; it is never sent, only used to sign; "
                "nothing was sent"
            )
        )
    if "ProjectId" not in flat and settings.project_id:
        flat["ProjectId"] = settings.project_id
    client = api_client(console, settings, connection.verbose)
    try:
        result = client.call(signed_params(flat, public_key, private_key))
    finally:
        client.close()
    return ApiCallResult(action, result)
