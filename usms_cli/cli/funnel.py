"""The one error funnel of every command: the result of a use case, or an expected error,
becomes a message and the process exit code; anything else is exit 70 (the traceback is shown
under --debug). This is the only place that turns outcomes into exit codes."""

from collections.abc import Callable
from typing import TYPE_CHECKING, NoReturn, Protocol

import typer

from usms_cli.core.errors import ExitCode, UsmsError

if TYPE_CHECKING:
    from usms_cli.output.console import Output


class HasExitCode(Protocol):
    @property
    def exit_code(self) -> ExitCode: ...


def finish(
    output: "Output",
    run: Callable[[], HasExitCode | ExitCode],
    *,
    debug: bool,
    on_error: Callable[[UsmsError], None] | None = None,
) -> NoReturn:
    """Run ``run`` (which calls a use case and renders its result) and exit with its code.
    ``on_error`` sees an expected error after it was shown (CI reports)."""
    try:
        outcome = run()
        code = outcome if isinstance(outcome, ExitCode) else outcome.exit_code
    except UsmsError as exc:
        output.usms_error(exc)
        if on_error is not None:
            on_error(exc)
        code = exc.exit_code
    except KeyboardInterrupt:
        output.error("interrupted")
        code = ExitCode.INTERRUPTED
    except (typer.Exit, typer.Abort):
        raise
    except Exception as exc:
        if debug:
            import traceback

            traceback.print_exc()
        output.error(
            f"unexpected internal error ({type(exc).__name__}); nothing more is known",
            hint=None
            if debug
            else "run again with --debug to see the traceback, and please report it",
        )
        code = ExitCode.INTERNAL
    raise typer.Exit(int(code))


def console(
    *, json_mode: bool = False, quiet: bool = False, show_pii: bool = False, github: bool = False
) -> "Output":
    """The console of one command: streams, mode, masking; ``github``: GitHub Actions
    workflow commands (add-mask, error annotations), for commands that report to CI."""
    from usms_cli.core.privacy import Masker
    from usms_cli.output.console import Output

    return Output(json_mode=json_mode, quiet=quiet, masker=Masker(show_pii=show_pii), github=github)
