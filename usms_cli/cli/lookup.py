"""``usms template`` and ``usms signature``: look one up and show its review status."""

# No ``from __future__ import annotations`` in the CLI modules (start-up time; see send.py).

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from usms_cli.cli.funnel import console, finish
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
    from usms_cli.app.common import Connection
    from usms_cli.app.lookup import LookupResult


def _connection(
    profile: str | None,
    project_id: str | None,
    base_url: str | None,
    env_file: Path | None,
    verbose: bool,
) -> "Connection":
    from usms_cli.app.common import Connection

    return Connection(
        profile=profile,
        project_id=project_id,
        base_url=base_url,
        env_file=env_file,
        verbose=verbose,
    )


LOOKUP_EPILOG = (
    "Examples: usms template UTA1234 · usms template UTA1234 --json · usms signature Acme · "
    "usms signature --id SIG123 -q\n\n"
    "Exit codes: 0 approved · 1 not approved or refused · 2 bad usage · 4 unreachable."
)


def template(
    template_id: Annotated[str, typer.Argument(metavar="TEMPLATE_ID", help="Template id.")],
    project_id: ProjectOpt = None,
    base_url: BaseUrlOpt = None,
    env_file: EnvFileOpt = None,
    profile: ProfileOpt = None,
    json_mode: JsonOpt = False,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Print only the status.")] = False,
    verbose: VerboseOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Show a template: name, content, purpose, review status (QueryUSMSTemplate)."""
    _lookup(
        "template",
        template_id,
        None,
        _connection(profile, project_id, base_url, env_file, verbose),
        json_mode=json_mode,
        quiet=quiet,
        debug=debug,
    )


def signature(
    sig_content: Annotated[
        str | None,
        typer.Argument(
            metavar="[SIG_CONTENT]", help="Signature text, without 【】.", show_default=False
        ),
    ] = None,
    sig_id: Annotated[
        str | None,
        typer.Option("--id", metavar="SIG_ID", help="Look up by signature id.", show_default=False),
    ] = None,
    project_id: ProjectOpt = None,
    base_url: BaseUrlOpt = None,
    env_file: EnvFileOpt = None,
    profile: ProfileOpt = None,
    json_mode: JsonOpt = False,
    quiet: Annotated[bool, typer.Option("-q", "--quiet", help="Print only the status.")] = False,
    verbose: VerboseOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Show a signature and its review status (QueryUSMSSignature)."""
    _lookup(
        "signature",
        sig_content,
        sig_id,
        _connection(profile, project_id, base_url, env_file, verbose),
        json_mode=json_mode,
        quiet=quiet,
        debug=debug,
    )


def _lookup(
    kind: str,
    key: str | None,
    sig_id: str | None,
    connection: "Connection",
    *,
    json_mode: bool,
    quiet: bool,
    debug: bool,
) -> None:
    output = console(json_mode=json_mode, quiet=quiet)

    def run() -> "LookupResult":
        from usms_cli.app.env import Env
        from usms_cli.app.lookup import lookup
        from usms_cli.output.render import render_lookup

        result = lookup(output, Env.from_process(), connection, kind, key, sig_id)
        render_lookup(output, kind, result.data)
        return result

    finish(output, run, debug=debug)
