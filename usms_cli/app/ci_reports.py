"""CI-native results of ``usms send``: step outputs, a step summary and a dotenv report, written
from the finished result (or the error) by the CLI layer, whatever happened."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from usms_cli.core.errors import UsmsError
from usms_cli.output import ci

if TYPE_CHECKING:
    from usms_cli.output.console import Output


def in_github(environ: Mapping[str, str]) -> bool:
    return ci.in_github_actions(environ)


def wanted(environ: Mapping[str, str], dotenv: Path | None) -> bool:
    """Whether any report is to be written (GitHub Actions, or --report-dotenv)."""
    return in_github(environ) or dotenv is not None


def write_reports(
    console: Output, payload: dict[str, Any], environ: Mapping[str, str], dotenv: Path | None
) -> None:
    """Write every report that applies; a report that cannot be written is a warning (the
    send itself is over, and its exit code must stand)."""
    values = ci.outputs(payload)
    github = in_github(environ)
    jobs: list[tuple[str | Path, str, str, Callable[[str | Path, str, str], None]]] = []
    if github and environ.get("GITHUB_OUTPUT"):
        jobs.append(
            (environ["GITHUB_OUTPUT"], ci.github_output_text(values), "$GITHUB_OUTPUT", ci.append)
        )
    if github and environ.get("GITHUB_STEP_SUMMARY"):
        summary = ci.summary_markdown(payload)
        jobs.append((environ["GITHUB_STEP_SUMMARY"], summary, "$GITHUB_STEP_SUMMARY", ci.append))
    if dotenv is not None:
        jobs.append((dotenv, ci.dotenv_text(values), "--report-dotenv", ci.write))
    for path, text, what, write in jobs:
        try:
            write(path, text, what)
        except UsmsError as exc:
            console.warn(exc.message)
