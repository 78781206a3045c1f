"""``usms config show`` and ``usms config check``: declares options only.

The work is in ``usms_cli.app.config``, the look in ``usms_cli.output.config_view``; errors go
through ``usms_cli.cli.funnel``. Only Typer is imported at module level (start-up time).
"""

from typing import TYPE_CHECKING, Annotated

import typer

from usms_cli.cli.funnel import console, finish
from usms_cli.cli.options import BaseUrlOpt, DebugOpt, EnvFileOpt, JsonOpt, ProfileOpt, ProjectOpt

if TYPE_CHECKING:
    from usms_cli.app.config import CheckResult, ShowResult

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
    from usms_cli.app.common import Connection

    output = console(json_mode=json_mode)
    connection = Connection(profile=profile, env_file=env_file)

    def run() -> "ShowResult":
        from usms_cli.app.config import show
        from usms_cli.app.env import Env
        from usms_cli.output.config_view import render_show

        result = show(output, Env.from_process(), connection)
        settings = result.settings
        payload = {
            "settings": result.described,
            "profile": settings.profile,
            "profiles": list(settings.profiles),
        }
        render_show(output, result.rows(), payload, settings.profiles)
        return result

    finish(output, run, debug=debug)


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
    from usms_cli.app.common import Connection

    output = console(json_mode=json_mode)
    connection = Connection(
        profile=profile,
        env_file=env_file,
        base_url=base_url,
        project_id=project_id,
        verbose=verbose,
    )

    def run() -> "CheckResult":
        from usms_cli.app.config import check
        from usms_cli.app.env import Env
        from usms_cli.output.config_view import render_check

        result = check(output, Env.from_process(), connection)
        verdict, answer = result.verdict, result.result
        payload = {
            "ok": verdict.keys_work,
            "exit_code": int(verdict.exit_code),
            "keys_work": verdict.keys_work,
            "summary": verdict.summary,
            "hint": verdict.hint,
            "action": result.action,
            "status": answer.status,
            "RetCode": answer.ret_code,
            "Message": answer.message,
            "request_id": answer.request_id,
            "error": answer.error,
            "settings": result.settings,
        }
        render_check(output, verdict, result.context, payload)
        return result

    finish(output, run, debug=debug)
