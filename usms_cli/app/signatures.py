"""Signature use cases: create (with its qualification file read and checked here), update,
delete, show and wait for the review (CreateUSMSSignature, UpdateUSMSSignature,
DeleteUSMSSignature, QueryUSMSSignature)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from usms_cli.app.common import Connection, look_up, require_credentials, resolve
from usms_cli.app.review import Patience, confirm_delete, submit, wait_review
from usms_cli.app.templates import UnknownId, refuse_problems
from usms_cli.core.errors import InputError
from usms_cli.core.outcomes import ChangeResult, ReviewResult
from usms_cli.i18n import N_, tr

if TYPE_CHECKING:
    from usms_cli.app.env import Env
    from usms_cli.core.signatures import Attachment, SignatureSpec
    from usms_cli.engine.settings import Settings
    from usms_cli.output.console import Output


@dataclass(frozen=True)
class SignatureRequest:
    """``usms signature create/update`` as given: words and file paths, not yet checked."""

    content: str
    sig_type: str
    purpose: str
    certificate_type: int | None = None
    description: str | None = None
    file: Path | None = None
    proxy_file: Path | None = None
    international: bool = False
    qualification_id: str | None = None
    scene: str | None = None


def read_attachment(path: Path, flag: str) -> Attachment:
    """A qualification file, refused before it is read whole when it is over 4 MiB."""
    from usms_cli.core.signatures import MAX_FILE_BYTES, Attachment

    try:
        if path.is_dir():
            raise InputError(
                tr("{option} {path}: is a directory, not a file", option=flag, path=path)
            )
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise InputError(tr("{option} {path}: no such file", option=flag, path=path)) from None
    except PermissionError:
        raise InputError(tr("{option} {path}: permission denied", option=flag, path=path)) from None
    except OSError as exc:
        raise InputError(
            tr(
                "{option} {path}: cannot read it ({problem})",
                option=flag,
                path=path,
                problem=exc.strerror or tr("I/O error"),
            )
        ) from None
    return Attachment(path.name, data)


def spec_of(request: SignatureRequest) -> SignatureSpec:
    """The request checked word by word, its files read (an InputError for the first problem)."""
    from usms_cli.core import signatures as sig

    sig_type = sig.parse_type(request.sig_type)
    return sig.SignatureSpec(
        content=request.content.strip(),
        sig_type=sig_type,
        purpose=sig.parse_purpose(request.purpose),
        certificate_type=sig.parse_certificate_type(request.certificate_type, sig_type),
        description=request.description,
        file=None if request.file is None else read_attachment(request.file, "--file"),
        proxy_file=(
            None
            if request.proxy_file is None
            else read_attachment(request.proxy_file, "--proxy-file")
        ),
        international=request.international,
        qualification_id=request.qualification_id,
        scene=request.scene,
    )


def _ready(console: Output, env: Env, connection: Connection) -> Settings:
    settings = resolve(connection, env, console)
    require_credentials(settings)
    return settings


def create(
    console: Output, env: Env, connection: Connection, request: SignatureRequest
) -> ChangeResult:
    """``usms signature create``: the new SigId (the signature starts under review)."""
    from usms_cli.core.signatures import build_create
    from usms_cli.core.templates import created_id

    spec = spec_of(request)
    refuse_problems(spec.create_problems(), N_("the signature was not sent"))
    settings = _ready(console, env, connection)
    params = build_create(spec, settings.project_id)
    body = submit(console, settings, params, N_("creating the signature"), connection.verbose)
    sig_id = created_id(body, "SigId")
    if sig_id is None:
        raise UnknownId(
            tr("the API accepted the signature but its answer holds no SigId"),
            hint=tr(
                "look for it in the USMS console (or: usms signature show TEXT) "
                "before creating it again"
            ),
        )
    return ChangeResult("signature", "create", [sig_id], body)


def update(
    console: Output, env: Env, connection: Connection, sig_id: str, request: SignatureRequest
) -> ChangeResult:
    """``usms signature update``: the API wants content, type and purpose every time."""
    from usms_cli.core.signatures import build_update
    from usms_cli.core.templates import check_ids

    [sig_id] = check_ids([sig_id], "signature")
    spec = spec_of(request)
    refuse_problems(spec.problems(), N_("the signature was not sent"))
    settings = _ready(console, env, connection)
    params = build_update(sig_id, spec, settings.project_id)
    body = submit(console, settings, params, N_("updating the signature"), connection.verbose)
    return ChangeResult("signature", "update", [sig_id], body)


def delete(
    console: Output, env: Env, connection: Connection, sig_ids: Sequence[str], yes: bool
) -> ChangeResult:
    """``usms signature delete``: asks first in a terminal; ``yes`` skips the question."""
    from usms_cli.core.signatures import build_delete
    from usms_cli.core.templates import check_ids

    ids = check_ids(sig_ids, "signature")
    settings = _ready(console, env, connection)
    confirm_delete(console, env, "signature", ids, yes)
    body = submit(
        console,
        settings,
        build_delete(ids, settings.project_id),
        N_("deleting"),
        connection.verbose,
    )
    return ChangeResult("signature", "delete", ids, body)


def _fetch(
    console: Output, settings: Settings, content: str | None, sig_id: str | None, verbose: bool
) -> dict[str, Any]:
    from usms_cli.core.api import build_signature_query

    params = build_signature_query(content, sig_id, settings.project_id)
    return look_up(console, settings, params, "signature", verbose)


def _key(content: str | None, sig_id: str | None) -> tuple[str | None, str | None]:
    content = (content or "").strip() or None
    sig_id = (sig_id or "").strip() or None
    if content is None and sig_id is None:
        raise InputError(tr("give the signature text, or --id SIG_ID"))
    return content, sig_id


def show(
    console: Output, env: Env, connection: Connection, content: str | None, sig_id: str | None
) -> ReviewResult:
    """``usms signature show``: the signature and its review (exit 1 unless approved)."""
    content, sig_id = _key(content, sig_id)
    settings = _ready(console, env, connection)
    data = _fetch(console, settings, content, sig_id, connection.verbose)
    return ReviewResult("signature", data)


def wait(
    console: Output,
    env: Env,
    connection: Connection,
    content: str | None,
    sig_id: str | None,
    patience: Patience,
) -> ReviewResult:
    """``usms signature wait``: look until approved (0) or rejected (1); 5 at the timeout."""
    from usms_cli.app.request import check_wait

    content, sig_id = _key(content, sig_id)
    check_wait(patience.timeout, patience.interval, "--timeout", "--interval")
    settings = _ready(console, env, connection)
    return wait_review(
        console,
        "signature",
        lambda: _fetch(console, settings, content, sig_id, connection.verbose),
        patience,
    )
