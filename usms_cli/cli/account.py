"""What the account command groups (template, signature, stats, blacklist, api) share: the
group whose unknown first word falls back to ``show`` (so ``usms template UTA1234`` still
looks a template up), the options of every account command, and one way to run a use case."""

# No ``from __future__ import annotations`` in the CLI modules (start-up time; see send.py).

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from typer import _click as click  # Typer >= 0.26 vendors Click
from typer.core import TyperGroup

from usms_cli.cli.funnel import console, finish

if TYPE_CHECKING:
    from usms_cli.app.common import Connection
    from usms_cli.app.env import Env
    from usms_cli.output.console import Output


class ShowByDefault(TyperGroup):
    """``GROUP WORD …`` means ``GROUP show WORD …`` unless WORD is one of the group's commands
    or a help option: a template id or a signature text never needs ``show``."""

    default_command = "show"

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if (
            args
            and args[0] not in self.commands
            and args[0] not in ctx.help_option_names
            and self.default_command in self.commands
        ):
            args = [self.default_command, *args]
        return super().parse_args(ctx, args)


YesOpt = Annotated[
    bool, typer.Option("-y", "--yes", help="Delete without asking (needed without a terminal).")
]
WaitTimeoutOpt = Annotated[
    float,
    typer.Option("--timeout", metavar="SECONDS", help="Give up waiting after this many seconds."),
]
IntervalOpt = Annotated[
    float,
    typer.Option(
        "--interval",
        metavar="SECONDS",
        help="First pause between looks; backs off by 1.5x up to a minute.",
    ),
]


def connection(
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


def run(
    use_case: Callable[["Output", "Env"], Any],
    render: Callable[["Output", Any], None],
    *,
    json_mode: bool = False,
    quiet: bool = False,
    show_pii: bool = False,
    debug: bool = False,
) -> NoReturn:
    """Call ``use_case(console, env)``, render what it returns, exit with its code."""
    output = console(json_mode=json_mode, quiet=quiet, show_pii=show_pii)

    def once() -> Any:
        from usms_cli.app.env import Env

        result = use_case(output, Env.from_process())
        render(output, result)
        return result

    finish(output, once, debug=debug)
