"""CI-native results of ``usms send``: step outputs, a step summary and a dotenv report.

Wraps a send: whatever happens (sent, refused, unknown, bad input), the outputs describe it.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ParamSpec

from usms_cli.core.errors import ExitCode, UsmsError
from usms_cli.engine.inputs import OutputPathError
from usms_cli.output import ci
from usms_cli.output.render import Output

P = ParamSpec("P")


def reported(func: Callable[P, ExitCode]) -> Callable[P, ExitCode]:
    """Decorate a ``run_*(output, ..., report_dotenv=...)`` command with the CI reports."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> ExitCode:
        output = args[0]
        assert isinstance(output, Output)
        dotenv = kwargs.get("report_dotenv")
        assert dotenv is None or isinstance(dotenv, Path)
        environ = os.environ
        output.github = ci.in_github_actions(environ)
        wanted = output.github or dotenv is not None
        output.keep_report = wanted
        try:
            code = func(*args, **kwargs)
        except OutputPathError:
            raise  # writing the reports could overwrite another file of the run
        except UsmsError as exc:
            if wanted:
                payload = {"ok": False, "exit_code": int(exc.exit_code), "error": exc.message}
                _write(output, payload, environ, dotenv)
            raise
        if wanted:
            payload = dict(output.report_payload or {})
            payload.update(ok=code == ExitCode.OK, exit_code=int(code))
            _write(output, payload, environ, dotenv)
        return code

    return wrapper


def _write(
    output: Output, payload: dict[str, Any], environ: Mapping[str, str], dotenv: Path | None
) -> None:
    """Write every report that applies; a report that cannot be written is a warning (the
    send itself is over, and its exit code must stand)."""
    values = ci.outputs(payload)
    jobs: list[tuple[str | Path, str, str, Callable[[str | Path, str, str], None]]] = []
    if output.github and environ.get("GITHUB_OUTPUT"):
        jobs.append(
            (environ["GITHUB_OUTPUT"], ci.github_output_text(values), "$GITHUB_OUTPUT", ci.append)
        )
    if output.github and environ.get("GITHUB_STEP_SUMMARY"):
        summary = ci.summary_markdown(payload)
        jobs.append((environ["GITHUB_STEP_SUMMARY"], summary, "$GITHUB_STEP_SUMMARY", ci.append))
    if dotenv is not None:
        jobs.append((dotenv, ci.dotenv_text(values), "--report-dotenv", ci.write))
    for path, text, what, write in jobs:
        try:
            write(path, text, what)
        except UsmsError as exc:
            output.warn(exc.message)
