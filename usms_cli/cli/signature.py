"""``usms signature``: create (with its qualification file), update, delete, show and wait for
the review. ``usms signature TEXT`` and ``usms signature --id SIG`` are ``show``."""

# No ``from __future__ import annotations`` in the CLI modules (start-up time; see send.py).

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from usms_cli.cli.account import (
    IntervalOpt,
    ShowByDefault,
    WaitTimeoutOpt,
    YesOpt,
    connection,
    run,
)
from usms_cli.cli.options import (
    BaseUrlOpt,
    DebugOpt,
    EnvFileOpt,
    JsonOpt,
    ProfileOpt,
    ProjectOpt,
    VerboseOpt,
)

if TYPE_CHECKING:
    from usms_cli.app.env import Env
    from usms_cli.core.outcomes import ChangeResult
    from usms_cli.output.console import Output

signature_app = typer.Typer(
    cls=ShowByDefault,
    no_args_is_help=True,
    rich_markup_mode=None,
    help="Signatures: create, update, delete, show, wait for review. "
    "'usms signature TEXT' shows one.",
)

ContentArg = Annotated[
    str | None,
    typer.Argument(
        metavar="[SIG_CONTENT]", help="Signature text, without 【】.", show_default=False
    ),
]
SigIdOpt = Annotated[
    str | None,
    typer.Option("--id", metavar="SIG_ID", help="Look up by signature id.", show_default=False),
]
ContentOpt = Annotated[
    str,
    typer.Option("--content", metavar="TEXT", help="Signature text, 2-12 characters, no 【】."),
]
TypeOpt = Annotated[
    str,
    typer.Option(
        "--type",
        metavar="KIND",
        help="company, app, website, official-account, trademark or government.",
    ),
]
PurposeOpt = Annotated[
    str,
    typer.Option(
        "--purpose", metavar="self|other", help="Your own name, or someone else's (other)."
    ),
]
CertificateOpt = Annotated[
    int | None,
    typer.Option(
        "--certificate-type",
        metavar="0-5",
        help="Kind of qualification document (default: the one matching --type).",
        show_default=False,
    ),
]
FileOpt = Annotated[
    Path | None,
    typer.Option(
        "--file",
        metavar="FILE",
        help="Qualification document (licence scan, at most 4 MiB), sent as base64.",
        show_default=False,
    ),
]
ProxyFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--proxy-file",
        metavar="FILE",
        help="Letter of authorisation (needed with --purpose other), at most 4 MiB.",
        show_default=False,
    ),
]
SceneOpt = Annotated[
    str | None,
    typer.Option(
        "--scene", metavar="TEXT", help="Where the signature is used.", show_default=False
    ),
]
StatusQuietOpt = Annotated[
    bool, typer.Option("-q", "--quiet", help="Print only the review status.")
]

_CODES_CHANGE = (
    "Exit codes: 0 done · 1 refused by the API · 2 bad input or file (nothing sent) · 4 API "
    "unreachable · 5 outcome unknown."
)

CREATE_EPILOG = (
    "Examples: usms signature create --content Acme --type company --purpose self --file "
    "licence.jpg --description 'our company name' · usms signature create --content 优刻得 "
    "--type trademark --purpose other --file tm.pdf --proxy-file letter.pdf -q\n\n"
    "Checked before sending: 2-12 characters without 【】, files of at most 4 MiB. The new "
    "signature is under review (about a working day): usms signature wait --id SIG_ID.\n\n"
    + _CODES_CHANGE
)


@signature_app.command(epilog=CREATE_EPILOG)
def create(
    content: ContentOpt,
    sig_type: TypeOpt,
    purpose: PurposeOpt,
    certificate_type: CertificateOpt = None,
    description: Annotated[
        str | None,
        typer.Option(
            "--description", metavar="TEXT", help="Why you apply for it.", show_default=False
        ),
    ] = None,
    file: FileOpt = None,
    proxy_file: ProxyFileOpt = None,
    international: Annotated[
        bool, typer.Option("--international", help="A signature for numbers abroad.")
    ] = False,
    qualification_id: Annotated[
        str | None,
        typer.Option(
            "--qualification-id",
            metavar="ID",
            help="A qualification already on file (instead of --file).",
            show_default=False,
        ),
    ] = None,
    scene: SceneOpt = None,
    project_id: ProjectOpt = None,
    base_url: BaseUrlOpt = None,
    env_file: EnvFileOpt = None,
    profile: ProfileOpt = None,
    json_mode: JsonOpt = False,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Print only the new id.")] = False,
    verbose: VerboseOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Create a signature (CreateUSMSSignature) and print its id."""
    from usms_cli.app import signatures
    from usms_cli.app.signatures import SignatureRequest
    from usms_cli.output.admin import render_change

    conn = connection(profile, project_id, base_url, env_file, verbose)
    request = SignatureRequest(
        content,
        sig_type,
        purpose,
        certificate_type,
        description,
        file,
        proxy_file,
        international,
        qualification_id,
        scene,
    )

    def use_case(output: "Output", env: "Env") -> "ChangeResult":
        return signatures.create(output, env, conn, request)

    run(use_case, render_change, json_mode=json_mode, quiet=quiet, debug=debug)


UPDATE_EPILOG = (
    "Examples: usms signature update SIG123 --content Acme --type company --purpose self "
    "--file licence.jpg\n\n"
    "The API wants the text, type and purpose every time; the signature is reviewed again.\n\n"
    + _CODES_CHANGE
)


@signature_app.command(epilog=UPDATE_EPILOG)
def update(
    sig_id: Annotated[str, typer.Argument(metavar="SIG_ID", help="Signature id.")],
    content: ContentOpt,
    sig_type: TypeOpt,
    purpose: PurposeOpt,
    certificate_type: CertificateOpt = None,
    file: FileOpt = None,
    proxy_file: ProxyFileOpt = None,
    scene: SceneOpt = None,
    project_id: ProjectOpt = None,
    base_url: BaseUrlOpt = None,
    env_file: EnvFileOpt = None,
    profile: ProfileOpt = None,
    json_mode: JsonOpt = False,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Print only the id.")] = False,
    verbose: VerboseOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Change a signature (UpdateUSMSSignature)."""
    from usms_cli.app import signatures
    from usms_cli.app.signatures import SignatureRequest
    from usms_cli.output.admin import render_change

    conn = connection(profile, project_id, base_url, env_file, verbose)
    request = SignatureRequest(
        content, sig_type, purpose, certificate_type, file=file, proxy_file=proxy_file, scene=scene
    )
    run(
        lambda output, env: signatures.update(output, env, conn, sig_id, request),
        render_change,
        json_mode=json_mode,
        quiet=quiet,
        debug=debug,
    )


DELETE_EPILOG = (
    "Examples: usms signature delete SIG123 · usms signature delete SIG1 SIG2 --yes\n\n"
    "Asks first in a terminal; without one, nothing is deleted unless --yes is given.\n\n"
    + _CODES_CHANGE
)


@signature_app.command(epilog=DELETE_EPILOG)
def delete(
    sig_ids: Annotated[list[str], typer.Argument(metavar="SIG_ID...", help="Signature id(s).")],
    yes: YesOpt = False,
    project_id: ProjectOpt = None,
    base_url: BaseUrlOpt = None,
    env_file: EnvFileOpt = None,
    profile: ProfileOpt = None,
    json_mode: JsonOpt = False,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Print only the ids.")] = False,
    verbose: VerboseOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Delete signatures (DeleteUSMSSignature)."""
    from usms_cli.app import signatures
    from usms_cli.output.admin import render_change

    conn = connection(profile, project_id, base_url, env_file, verbose)
    run(
        lambda output, env: signatures.delete(output, env, conn, sig_ids, yes),
        render_change,
        json_mode=json_mode,
        quiet=quiet,
        debug=debug,
    )


SHOW_EPILOG = (
    "Examples: usms signature show Acme · usms signature Acme --json · "
    "usms signature --id SIG123 -q\n\n"
    "Exit codes: 0 approved · 1 not approved (under review, rejected) or refused · 2 bad usage "
    "· 4 unreachable · 5 outcome unknown."
)


@signature_app.command(epilog=SHOW_EPILOG)
def show(
    content: ContentArg = None,
    sig_id: SigIdOpt = None,
    project_id: ProjectOpt = None,
    base_url: BaseUrlOpt = None,
    env_file: EnvFileOpt = None,
    profile: ProfileOpt = None,
    json_mode: JsonOpt = False,
    quiet: StatusQuietOpt = False,
    verbose: VerboseOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Show a signature and its review status (QueryUSMSSignature)."""
    from usms_cli.app import signatures
    from usms_cli.output.admin import render_review

    conn = connection(profile, project_id, base_url, env_file, verbose)
    run(
        lambda output, env: signatures.show(output, env, conn, content, sig_id),
        render_review,
        json_mode=json_mode,
        quiet=quiet,
        debug=debug,
    )


WAIT_EPILOG = (
    "Examples: usms signature wait Acme · usms signature wait --id SIG123 --timeout 86400\n\n"
    "Looks after --interval seconds, then backs off by 1.5x up to one look a minute.\n\n"
    "Exit codes: 0 approved · 1 rejected (or refused by the API) · 2 bad usage · 4 unreachable "
    "· 5 still under review at --timeout."
)


@signature_app.command(epilog=WAIT_EPILOG)
def wait(
    content: ContentArg = None,
    sig_id: SigIdOpt = None,
    timeout: WaitTimeoutOpt = 600.0,
    interval: IntervalOpt = 5.0,
    project_id: ProjectOpt = None,
    base_url: BaseUrlOpt = None,
    env_file: EnvFileOpt = None,
    profile: ProfileOpt = None,
    json_mode: JsonOpt = False,
    quiet: StatusQuietOpt = False,
    verbose: VerboseOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Wait until a signature is approved or rejected (QueryUSMSSignature)."""
    from usms_cli.app import signatures
    from usms_cli.app.review import Patience
    from usms_cli.output.admin import render_review

    conn = connection(profile, project_id, base_url, env_file, verbose)
    patience = Patience(timeout, interval)
    run(
        lambda output, env: signatures.wait(output, env, conn, content, sig_id, patience),
        render_review,
        json_mode=json_mode,
        quiet=quiet,
        debug=debug,
    )
