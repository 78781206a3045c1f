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
        rich_help_panel="Connection",
    ),
]
BaseUrlOpt = Annotated[
    str | None,
    typer.Option(
        "--base-url",
        metavar="URL",
        help="API endpoint (default https://api.ucloud.cn; http:// only for loopback and "
        "UCloud's VPC endpoint http://api.service.ucloud.cn). "
        "(env UCLOUD_API_BASE_URL, UCLOUD_BASE_URL)",
        show_default=False,
        rich_help_panel="Connection",
    ),
]
TimeoutOpt = Annotated[
    str | None,
    typer.Option(
        "--timeout",
        metavar="SECONDS",
        help="Seconds to wait for the API (default 30). (env UCLOUD_TIMEOUT_SECOND)",
        show_default=False,
        rich_help_panel="Connection",
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
        rich_help_panel="Connection",
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
        rich_help_panel="Connection",
    ),
]
JsonOpt = Annotated[
    bool, typer.Option("--json", help="Print one JSON object on stdout.", rich_help_panel="Output")
]
QuietOpt = Annotated[
    bool,
    typer.Option("-q", "--quiet", help="Print only the SessionNo(s).", rich_help_panel="Output"),
]
VerboseOpt = Annotated[
    bool,
    typer.Option(
        "-v",
        "--verbose",
        help="Show requests and answers on stderr (redacted).",
        rich_help_panel="Output",
    ),
]
DebugOpt = Annotated[
    bool,
    typer.Option(
        "--debug", help="Show a traceback on unexpected errors.", rich_help_panel="Output"
    ),
]

EXIT_CODES = (
    "Exit codes: 0 all accepted · 1 refused by the API · 2 bad usage, input or configuration "
    "(nothing sent) · 3 partly sent · 4 API unreachable (nothing sent) · 5 outcome unknown "
    "(may have been sent; never resent) · 70 internal error (--debug shows the traceback) · "
    "130 interrupted (143 SIGTERM)."
)
