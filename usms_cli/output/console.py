"""The console: the pair of output streams, the chosen mode (human, --json, -q), the masker,
and the live progress bar and status line. What to say is decided in render.py and the use cases.

stdout carries results; stderr carries progress, warnings and errors. Rich styling is used only
when the stream is a terminal (and NO_COLOR is unset); otherwise plain lines are written, so
pipes and logs get no escape codes and no re-wrapping. Server text is never treated as markup.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import IO, TYPE_CHECKING, Any

from usms_cli.core.errors import UsmsError
from usms_cli.core.privacy import Masker, mask_digits
from usms_cli.i18n import tr

if TYPE_CHECKING:
    from rich.console import Console

PROG = "usms"


class Stream:
    """One output stream: rich when it is a terminal, plain text otherwise.

    A stream that was closed (``>&-``), whose reader went away (``| head``) or that cannot be
    written (``>/dev/full``) is marked ``lost`` and written no more: what it carried is lost,
    never the run's other work or its exit code."""

    def __init__(self, file: IO[str] | None = None, *, stderr: bool = False) -> None:
        self._file = file
        self._stderr = stderr
        self._console: Console | None = None
        self.lost = False

    @property
    def file(self) -> IO[str] | None:
        if self._file is not None:
            return self._file
        return sys.stderr if self._stderr else sys.stdout

    @property
    def is_terminal(self) -> bool:
        try:
            return self.file is not None and not self.lost and self.file.isatty()
        except (AttributeError, ValueError, OSError):
            return False

    @property
    def styled(self) -> bool:
        return (
            self.is_terminal and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"
        )

    def console(self) -> Console:
        if self._console is None:
            from rich.console import Console

            self._console = Console(file=self.file, highlight=False, soft_wrap=True)
        return self._console

    def write(self, text: str) -> None:
        """Write and flush ``text``; a lost stream swallows it."""
        file = self.file
        if self.lost or file is None:
            self.lost = True
            return
        try:
            file.write(text)
            file.flush()
        except (OSError, ValueError):  # EPIPE, a closed file, a full disk
            self._lose(file)

    def _lose(self, file: IO[str]) -> None:
        """Stop writing, and point the descriptor at /dev/null so that the interpreter's own
        flush at exit does not fail again ("Exception ignored ... BrokenPipeError")."""
        self.lost = True
        try:
            fd = file.fileno()
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, fd)
            os.close(devnull)
        except (OSError, ValueError, AttributeError):
            pass

    def line(self, text: str = "", style: str | None = None) -> None:
        if self.styled and style:
            from rich.text import Text

            try:
                self.console().print(Text(text, style=style))
            except (OSError, ValueError):
                self.lost = True
        else:
            self.write(text + "\n")


class Output:
    """The pair of streams plus the chosen mode (human, json, quiet)."""

    def __init__(
        self,
        *,
        json_mode: bool = False,
        quiet: bool = False,
        stdout: IO[str] | None = None,
        stderr: IO[str] | None = None,
        masker: Masker | None = None,
        github: bool = False,
    ) -> None:
        self.json_mode = json_mode
        # What human output may show: masked phone numbers and params unless --show-pii.
        self.masker = masker or Masker()
        self.quiet = quiet
        self.out = Stream(stdout)
        self.err = Stream(stderr, stderr=True)
        self.github = github  # in GitHub Actions: ::add-mask:: and ::error:: workflow commands
        self.warned: set[str] = set()  # settings warnings already shown in this run

    # ---- stderr helpers -------------------------------------------------------------------
    def safe(self, text: str) -> str:
        """Free text for a person: digit runs that may be phone numbers masked (no --show-pii)."""
        return text if self.masker.show_pii else mask_digits(text)

    def add_masks(self, values: Iterable[str]) -> None:
        """In GitHub Actions, ask the runner to mask these values in every log line."""
        if self.github:
            from usms_cli.output.ci import add_mask_lines

            lines = add_mask_lines(values)
            if lines:
                self.err.write("\n".join(lines) + "\n")

    def error(
        self,
        message: str,
        hint: str | None = None,
        details: Sequence[str] = (),
        *,
        verbatim: bool = False,
    ) -> None:
        """``verbatim``: the message holds no personal data; its digits are shown unmasked."""
        shown = message if verbatim else self.safe(message)
        if self.github:
            from usms_cli.output.ci import error_annotation

            self.err.line(error_annotation(shown))
        self.err.line(tr("{prog}: error: {message}", prog=PROG, message=shown), "bold red")
        for detail in details:
            self.err.line(self.safe(f"  {detail}"))
        if hint:
            self.err.line("  " + tr("hint: {hint}", hint=hint), "yellow")

    def warn(self, message: str) -> None:
        self.err.line(
            self.safe(tr("{prog}: warning: {message}", prog=PROG, message=message)), "yellow"
        )

    def info(self, message: str) -> None:
        if not self.quiet and not self.json_mode:
            self.err.line(self.safe(message), "dim")

    def verbose(self, message: str) -> None:
        self.err.line(self.safe(message), "dim")

    def phones(self, numbers: Sequence[str]) -> list[str]:
        return [self.masker.phone(n) for n in numbers]

    def progress(self, total_requests: int) -> ProgressBar:
        """A progress bar on stderr when it is a terminal and the batch has several requests."""
        enabled = self.err.is_terminal and total_requests > 1 and not self.quiet
        return ProgressBar(self.err if enabled else None, total_requests)

    def status_line(self) -> StatusLine:
        """A live one-line status on stderr when it is a terminal; silent otherwise."""
        enabled = self.err.is_terminal and not self.json_mode and not self.quiet
        return StatusLine(self.err if enabled else None)

    def json(self, payload: dict[str, Any]) -> None:
        # Indented for a person at a terminal; compact (and C-encoded, fast) for pipes.
        indent = 2 if self.out.is_terminal else None
        self.out.write(json.dumps(payload, ensure_ascii=False, indent=indent) + "\n")

    # ---- failures before sending ----------------------------------------------------------
    def usms_error(self, exc: UsmsError) -> None:
        if self.json_mode:
            self.json(
                {
                    "ok": False,
                    "exit_code": int(exc.exit_code),
                    "error": exc.message,
                    "hint": exc.hint,
                    "details": exc.details,
                }
            )
        self.error(exc.message, exc.hint, exc.shown_details, verbatim=exc.verbatim)


class ProgressBar:
    """Context manager yielding ``advance(outcome, total)``; a rich bar, or nothing."""

    def __init__(self, stream: Stream | None, total: int) -> None:
        self._stream = stream
        self._total = total
        self._progress: Any = None
        self._task: Any = None
        self._counts = {"accepted": 0, "rejected": 0, "unknown": 0, "not_sent": 0}
        self._wide = True

    # Below this width the compact layout is used: the count and the ETA must stay visible in
    # an 80-column terminal (issue 13 #17).
    WIDE = 110

    def __enter__(self) -> Callable[[Any, int], None]:
        if self._stream is not None:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            console = self._stream.console()
            self._wide = console.width >= self.WIDE
            if self._wide:
                columns: tuple[Any, ...] = (
                    TextColumn(tr("Sending")),
                    BarColumn(),
                    MofNCompleteColumn(),
                    TextColumn(tr("requests") + " · {task.fields[counts]} · {task.fields[rate]}"),
                    TimeElapsedColumn(),
                    TextColumn(tr("ETA")),
                    TimeRemainingColumn(),
                )
            else:
                columns = (
                    TextColumn(tr("Sending")),
                    BarColumn(bar_width=12),
                    MofNCompleteColumn(),
                    TextColumn("{task.fields[counts]} {task.fields[rate]}"),
                    TextColumn(tr("ETA")),
                    TimeRemainingColumn(),
                )
            self._progress = Progress(*columns, console=console, transient=False)
            self._task = self._progress.add_task("send", total=self._total, counts="", rate="")
            self._progress.start()
        return self.advance

    def advance(self, outcome: Any, total: int) -> None:
        if self._progress is None:
            return
        if outcome.result is not None:
            refused = len(outcome.refused)
            self._counts[outcome.result.status] += len(outcome.numbers) - refused
            self._counts["rejected"] += refused
        c = self._counts
        task = self._progress.tasks[0]
        elapsed = task.elapsed or 0.0
        per_second = (task.completed + 1) / elapsed if elapsed > 0 else 0.0
        accepted, other, unknown = c["accepted"], c["rejected"] + c["not_sent"], c["unknown"]
        if self._wide:
            counts = tr(
                "{accepted:,} accepted, {other:,} not, {unknown:,} unknown",
                accepted=accepted,
                other=other,
                unknown=unknown,
            )
            rate = tr("{rate:.1f} req/s", rate=per_second) if elapsed > 0 else ""
        else:
            counts = tr(
                "ok {accepted:,} · not {other:,} · ? {unknown:,}",
                accepted=accepted,
                other=other,
                unknown=unknown,
            )
            rate = tr("· {rate:.1f}/s", rate=per_second) if elapsed > 0 else ""
        self._progress.update(self._task, advance=1, counts=counts, rate=rate)

    def __exit__(self, *exc: object) -> None:
        if self._progress is not None:
            self._progress.stop()


class StatusLine:
    """Context manager yielding ``update(text)``; a rich spinner line, or nothing."""

    def __init__(self, stream: Stream | None) -> None:
        self._stream = stream
        self._status: Any = None

    def __enter__(self) -> Callable[[str], None]:
        if self._stream is not None:
            self._status = self._stream.console().status("")
            self._status.start()
        return self.update

    def update(self, text: str) -> None:
        if self._status is not None:
            self._status.update(text)

    def __exit__(self, *exc: object) -> None:
        if self._status is not None:
            self._status.stop()
