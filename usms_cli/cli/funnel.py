"""The one error funnel of every command: the result of a use case, or an expected error,
becomes a message and the process exit code; anything else is exit 70 (the traceback is shown
under --debug). This is the only place that turns outcomes into exit codes."""

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NoReturn, Protocol

import typer
from typer.core import TyperGroup

from usms_cli.core.errors import ExitCode, UsmsError
from usms_cli.i18n import language, tr

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
        output.error(tr("interrupted"))
        code = ExitCode.INTERRUPTED
    except (typer.Exit, typer.Abort):
        raise
    except Exception as exc:
        if debug:
            import traceback

            traceback.print_exc()
        output.error(
            tr(
                "unexpected internal error ({kind}); nothing more is known",
                kind=type(exc).__name__,
            ),
            hint=None
            if debug
            else tr("run again with --debug to see the traceback, and please report it"),
        )
        code = ExitCode.INTERNAL
    if output.out.lost:
        from usms_cli.core.errors import EXIT_MEANINGS

        # the meanings are marked in core.errors (N_) and translated here, where shown
        meaning = EXIT_MEANINGS.get(int(code), "")
        note = tr(
            "usms: stdout was closed before everything was written; exit code {code} ({meaning})",
            code=int(code),
            meaning=tr(meaning) if meaning else "",
        )
        output.err.write(note + "\n")
    raise typer.Exit(int(code))


def console(
    *, json_mode: bool = False, quiet: bool = False, show_pii: bool = False, github: bool = False
) -> "Output":
    """The console of one command: streams, mode, masking; ``github``: GitHub Actions
    workflow commands (add-mask, error annotations), for commands that report to CI."""
    from usms_cli.core.privacy import Masker
    from usms_cli.output.console import Output

    return Output(json_mode=json_mode, quiet=quiet, masker=Masker(show_pii=show_pii), github=github)


class UsmsGroup(TyperGroup):
    """The root command. Click's usage errors (an unknown option, a value out of range, a
    missing argument) are raised before any command runs, so they reach no command's funnel:
    they are caught here, shown as Click shows them, and, with --json, also given as the one
    JSON object on stdout. Exit code 2 as documented."""

    def main(  # type: ignore[override]
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        import sys

        from typer import _click as click

        argv = list(sys.argv[1:] if args is None else args)
        try:
            argv = _set_language(argv)
        except ValueError as exc:
            return _language_error(str(exc), argv, standalone_mode)
        chinese = language() == "zh"
        if chinese:
            from usms_cli.cli.language import translate_tree

            translate_tree(self)
        try:
            code = super().main(argv, prog_name, complete_var, standalone_mode=False, **extra)
        except click.exceptions.UsageError as exc:
            if chinese:
                from usms_cli.cli.language import show_usage_error

                show_usage_error(exc)
            else:
                exc.show()
            if _json_wanted(argv):
                _usage_json(exc)
            code = exc.exit_code
        except click.exceptions.ClickException as exc:
            exc.show()
            code = exc.exit_code
        except typer.Abort:
            sys.stderr.write(tr("Aborted!") + "\n")
            code = 1
        code = 0 if code is None else code
        if standalone_mode:
            sys.exit(code)
        return code


def _json_wanted(argv: Sequence[str]) -> bool:
    return "--json" in argv[: list(argv).index("--") if "--" in argv else len(argv)]


def _set_language(argv: list[str]) -> list[str]:
    """Choose this run's language (``i18n.choose``) and return argv without ``--lang``.
    ``--json`` runs are English throughout: the object a script reads is the same in any
    language, and so is what comes with it on stderr. TAB completion is not a run: it
    completes in English and reads no profile (start-up)."""
    import os

    from usms_cli.i18n import LanguageError, choose, set_language

    if os.environ.get("_USMS_COMPLETE"):
        set_language("en")
        return argv
    try:
        chosen, rest = choose(argv, os.environ)
    except LanguageError as exc:
        set_language("en")
        raise ValueError(str(exc)) from None
    set_language("en" if _json_wanted(rest) else chosen)
    return rest


def _language_error(message: str, argv: Sequence[str], standalone_mode: bool) -> int:
    import sys

    sys.stderr.write(f"usms: error: {message}\n")
    if _json_wanted(argv):
        _usage_json(ValueError(message))
    if standalone_mode:
        sys.exit(2)
    return 2


def _usage_json(exc: Exception) -> None:
    """The usage error as ``--json`` promises it: one object on stdout."""
    import json

    from usms_cli.output.console import Stream

    message = getattr(exc, "format_message", lambda: str(exc))()
    payload: dict[str, object] = {
        "ok": False,
        "exit_code": 2,
        "error": message,
        "hint": None,
        "details": [],
    }
    Stream().write(json.dumps(payload, ensure_ascii=False) + "\n")
