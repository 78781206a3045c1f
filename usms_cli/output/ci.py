"""Output CI systems understand without glue.

GitHub Actions (``GITHUB_ACTIONS=true``): ``::add-mask::`` for every recipient number before
anything else is printed, errors as ``::error::`` annotations, the results in
``$GITHUB_OUTPUT`` and a short Markdown summary in ``$GITHUB_STEP_SUMMARY``. GitLab CI (and
anything else that reads dotenv reports): ``--report-dotenv FILE``. Workflow commands go to
stderr, so stdout stays exactly what ``--json`` or ``-q`` promise.
"""

from __future__ import annotations

import contextlib
import os
import stat
import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path

from usms_cli.core.errors import ConfigError, ExitCode


def in_github_actions(environ: Mapping[str, str]) -> bool:
    return environ.get("GITHUB_ACTIONS") == "true"


def _list(value: object) -> list[object]:
    return list(value) if isinstance(value, list | tuple) else []


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def add_mask_lines(values: Iterable[str]) -> list[str]:
    """``::add-mask::`` commands; for ``(CC)number`` the bare national number is masked too."""
    lines: list[str] = []
    seen: set[str] = set()
    for value in values:
        for item in (value, value.split(")")[-1]):
            if item and item not in seen and len(item) >= 4:
                seen.add(item)
                lines.append(f"::add-mask::{_escape_data(item)}")
    return lines


def error_annotation(message: str) -> str:
    return f"::error title=usms::{_escape_data(message)}"


def outputs(payload: Mapping[str, object]) -> dict[str, str]:
    """Step outputs from a ``--json``-shaped report."""
    counts = payload.get("counts")
    counts = counts if isinstance(counts, Mapping) else {}
    code = payload.get("exit_code")
    result = {
        "exit_code": str(code),
        "status": _status(payload),
        "session_nos": "\n".join(str(sn) for sn in _list(payload.get("session_nos"))),
        "recipients": str(payload.get("recipients", 0)),
    }
    for key in ("accepted", "rejected", "unknown", "not_sent"):
        result[key] = str(counts.get(key, 0))
    return result


_STATUS = {
    ExitCode.OK: "accepted",
    ExitCode.REJECTED: "rejected",
    ExitCode.USAGE: "invalid",
    ExitCode.PARTIAL: "partial",
    ExitCode.UNREACHABLE: "unreachable",
    ExitCode.UNKNOWN: "unknown",
    ExitCode.INTERRUPTED: "interrupted",
    ExitCode.TERMINATED: "terminated",
}


def _status(payload: Mapping[str, object]) -> str:
    code = payload.get("exit_code")
    try:
        return _STATUS.get(ExitCode(code), "error")  # type: ignore[arg-type]
    except ValueError:  # not an exit code of ours (or missing)
        return "error"


def github_output_text(values: Mapping[str, str]) -> str:
    """``$GITHUB_OUTPUT`` syntax; multi-line values use a random heredoc delimiter."""
    lines: list[str] = []
    for key, value in values.items():
        if "\n" in value:
            delimiter = f"USMS_{uuid.uuid4().hex}"
            lines += [f"{key}<<{delimiter}", value, delimiter]
        else:
            lines.append(f"{key}={value}")
    return "\n".join(lines) + "\n"


def summary_markdown(payload: Mapping[str, object]) -> str:
    values = outputs(payload)
    lines = [
        f"### usms send: {values['status']}",
        "",
        "| accepted | rejected | unknown | not sent | requests |",
        "|---:|---:|---:|---:|---:|",
        f"| {values['accepted']} | {values['rejected']} | {values['unknown']} | "
        f"{values['not_sent']} | {payload.get('request_count', 0)} |",
    ]
    if values["session_nos"]:
        lines += ["", "SessionNo: " + ", ".join(f"`{sn}`" for sn in values["session_nos"].split())]
    return "\n".join(lines) + "\n"


def dotenv_text(values: Mapping[str, str]) -> str:
    """``KEY=value`` lines for a GitLab dotenv report (one line each: newlines become spaces)."""
    return "".join(
        f"USMS_{key.upper()}={value.replace(chr(10), ' ')}\n" for key, value in values.items()
    )


def append(path: str | Path, text: str, what: str) -> None:
    try:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise ConfigError(f"{what} {path}: cannot write it ({exc.strerror or exc})") from None


def write(path: str | Path, text: str, what: str) -> None:
    """Write ``text`` exactly (no newline translation) to a file only its owner may read
    (0600, also when it replaces an older file: it holds numbers or params); an error names
    the option. Devices are refused: ``/dev/full`` or ``/dev/zero`` is never a report."""
    data = text.encode("utf-8")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC
    try:
        if stat.S_ISCHR(os.stat(path).st_mode):
            raise ConfigError(f"{what} {path}: is a device, not a file")
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise ConfigError(f"{what} {path}: cannot write it ({exc.strerror or exc})") from None
    try:
        fd = os.open(path, flags, 0o600)
        try:
            info = os.fstat(fd)
            if stat.S_ISREG(info.st_mode) and stat.S_IMODE(info.st_mode) != 0o600:
                with contextlib.suppress(OSError):  # not ours to change: keep its mode
                    os.fchmod(fd, 0o600)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
        finally:
            os.close(fd)
    except OSError as exc:
        raise ConfigError(f"{what} {path}: cannot write it ({exc.strerror or exc})") from None
