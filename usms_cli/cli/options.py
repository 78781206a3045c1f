"""Options shared by the ``usms`` commands, declared once (Typer ``Annotated`` aliases)."""

from pathlib import Path
from typing import Annotated

import typer

ProjectOpt = Annotated[
    str | None,
    typer.Option(
        "--project-id",
        metavar="ID",
        help="UCloud project id. (env UCLOUD_PROJECT_ID)",
        show_default=False,
    ),
]
BaseUrlOpt = Annotated[
    str | None,
    typer.Option(
        "--base-url",
        metavar="URL",
        help="API endpoint (default https://api.ucloud.cn; http:// only for loopback). "
        "(env UCLOUD_API_BASE_URL, UCLOUD_BASE_URL)",
        show_default=False,
    ),
]
TimeoutOpt = Annotated[
    str | None,
    typer.Option(
        "--timeout",
        metavar="SECONDS",
        help="Seconds to wait for the API (default 30). (env UCLOUD_TIMEOUT_SECOND)",
        show_default=False,
    ),
]
EnvFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--env-file",
        metavar="PATH",
        dir_okay=False,
        help="Read settings from this .env file instead of ./.env.",
        show_default=False,
    ),
]
ProfileOpt = Annotated[
    str | None,
    typer.Option(
        "--profile",
        metavar="NAME",
        help="Profile from UCloud's CLI files ~/.ucloud/config.json and credential.json "
        "(default: the active one). (env UCLOUD_PROFILE)",
        show_default=False,
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object on stdout.")]
QuietOpt = Annotated[bool, typer.Option("-q", "--quiet", help="Print only the SessionNo(s).")]
VerboseOpt = Annotated[
    bool, typer.Option("-v", "--verbose", help="Show requests and answers on stderr (redacted).")
]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show a traceback on unexpected errors.")]
