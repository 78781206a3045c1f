"""``usms api ACTION Key=Value …``: sign and send any USMS (or other UCloud) action."""

# No ``from __future__ import annotations`` in the CLI modules (start-up time; see send.py).

from typing import Annotated

import typer

from usms_cli.cli.account import connection, run
from usms_cli.cli.options import (
    BaseUrlOpt,
    DebugOpt,
    EnvFileOpt,
    ProfileOpt,
    ProjectOpt,
    VerboseOpt,
)

API_EPILOG = (
    "Examples: usms api QueryUSMSTemplate TemplateId=UTA1234 · usms api SendUSMSMessage "
    "TemplateId=UTA1234 SigContent=Acme PhoneNumbers=13800000000 TemplateParams=123456 · "
    "usms api DeleteUSMSTemplate TemplateIds.0=UTA1 TemplateIds.1=UTA2 · "
    "usms api GetUSMSSendStatistics --json-params query.json\n\n"
    "Encoding: Key.N=value is sent as written. For a list parameter the action table knows, "
    "Key=value is one item: repeat it for more (a comma never splits). A base64-JSON parameter "
    "(TaskContent, BlackList) given as JSON text is encoded for you. --json-params FILE (or - "
    "for stdin) holds one JSON object; lists become Key.N. ProjectId comes from your settings "
    "unless given. PrivateKey=, PublicKey=, Signature= and Action= are refused. Actions that "
    "send or create, and actions the table does not know, are never retried.\n\n"
    "The answer is printed as JSON on stdout, whatever its RetCode.\n\n"
    "Exit codes: 0 RetCode 0 · 1 any other RetCode · 2 bad parameters (nothing sent) · 4 API "
    "unreachable (nothing sent) · 5 outcome unknown (not retried)."
)


def api(
    action: Annotated[
        str, typer.Argument(metavar="ACTION", help="The action, e.g. QueryUSMSTemplate.")
    ],
    params: Annotated[
        list[str] | None,
        typer.Argument(
            metavar="[KEY=VALUE]...",
            help="Parameters; Key.N=value for list items.",
            show_default=False,
        ),
    ] = None,
    json_params: Annotated[
        str | None,
        typer.Option(
            "--json-params",
            metavar="FILE",
            help="A JSON object of parameters ('-' reads stdin).",
            show_default=False,
        ),
    ] = None,
    project_id: ProjectOpt = None,
    base_url: BaseUrlOpt = None,
    env_file: EnvFileOpt = None,
    profile: ProfileOpt = None,
    verbose: VerboseOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Sign and send any action; print its JSON answer."""
    from usms_cli.app.apicall import ApiRequest, call
    from usms_cli.output.admin import render_api

    conn = connection(profile, project_id, base_url, env_file, verbose)
    request = ApiRequest(action, tuple(params or ()), json_params)
    run(lambda output, env: call(output, env, conn, request), render_api, debug=debug)
