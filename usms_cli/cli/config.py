"""``usms config show`` and ``usms config check``: declares options only.

The work is in ``usms_cli.app.config``; errors go through ``usms_cli.cli._finish``. Only
Typer is imported at module level (start-up time), and nothing from ``usms_cli.cli`` (it imports
this module).
"""

from typing import Annotated

import typer

from usms_cli.cli.options import BaseUrlOpt, DebugOpt, EnvFileOpt, JsonOpt, ProfileOpt, ProjectOpt

SHOW_EPILOG = (
    "Examples: usms config show · usms config show --profile prod --json · "
    "usms config show --env-file prod.env\n\n"
    "Precedence: command-line flag > environment > --env-file or ./.env > UCloud profile "
    "(~/.ucloud/config.json, credential.json) > default. The private key is never shown.\n\n"
    "Exit codes: 0 shown · 2 bad configuration (e.g. an unreadable or malformed profile file)."
)
CHECK_EPILOG = (
    "Examples: usms config check · usms config check --profile prod · "
    "usms config check --env-file ci.env --json\n\n"
    "Makes one read-only call: QueryUSMSSignature for USMS_SIG_CONTENT if it is set, else "
    "GetUSMSSendReceipt for a made-up SessionNo. Nothing is sent, nothing is billed.\n\n"
    "Exit codes: 0 the keys work · 1 the API refused them (wrong key, project, IP or "
    "permission) · 2 no or bad configuration (no request made) · 4 API unreachable · "
    "5 no usable answer."
)

config_app = typer.Typer(
    name="config",
    help="Show where each setting comes from, and check that the credentials work.",
    epilog="Exit codes: see usms config show --help and usms config check --help.",
    no_args_is_help=True,
    rich_markup_mode=None,  # plain help, like the main app (start-up time)
    context_settings={"help_option_names": ["-h", "--help"]},
)


@config_app.command(epilog=SHOW_EPILOG)
def show(
    profile: ProfileOpt = None,
    env_file: EnvFileOpt = None,
    json_mode: JsonOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Show every setting, its value (secrets masked) and where it came from."""
    from usms_cli.cli import _finish
    from usms_cli.core.errors import ExitCode
    from usms_cli.output.render import Output

    output = Output(json_mode=json_mode)
    flags = {"profile": profile}

    def run() -> ExitCode:
        from usms_cli.app.config import run_config_show

        return run_config_show(output, flags=flags, env_file=env_file)

    _finish(output, run, debug=debug)


@config_app.command(epilog=CHECK_EPILOG)
def check(
    profile: ProfileOpt = None,
    env_file: EnvFileOpt = None,
    base_url: BaseUrlOpt = None,
    project_id: ProjectOpt = None,
    json_mode: JsonOpt = False,
    verbose: Annotated[
        bool, typer.Option("-v", "--verbose", help="Show the request and answer on stderr.")
    ] = False,
    debug: DebugOpt = False,
) -> None:
    """Check with one read-only API call that the keys, the project and the endpoint work."""
    from usms_cli.cli import _finish
    from usms_cli.core.errors import ExitCode
    from usms_cli.output.render import Output

    output = Output(json_mode=json_mode)
    flags = {"profile": profile, "base_url": base_url, "project_id": project_id}

    def run() -> ExitCode:
        from usms_cli.app.config import run_config_check

        return run_config_check(output, flags=flags, env_file=env_file, verbose=verbose)

    _finish(output, run, debug=debug)
