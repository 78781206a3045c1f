"""``SendRequest``: every option of one ``usms send``, built once by the CLI (or a Python
caller) and passed whole; ``validate()`` holds the rules between options, before any I/O."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

from usms_cli.app.common import Connection
from usms_cli.core.errors import InputError
from usms_cli.i18n import N_, tr

DEFAULT_CONCURRENCY = 4
DEFAULT_WAIT_TIMEOUT = 600.0
DEFAULT_WAIT_INTERVAL = 5.0


@dataclass(frozen=True)
class SendRequest:
    """One send. Recipients come from ``phones``/``files``, or from ``csv_file`` rows."""

    # recipients
    phones: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    column: str | None = None
    # the message (template id and signature are settings: see ``connection``)
    params: tuple[str, ...] = ()
    extend_code: str | None = None
    user_id: str | None = None
    template_text: str | None = None
    # personalised messages from a CSV file
    csv_file: str | None = None
    phone_column: str | None = None
    param_columns: str | None = None
    user_id_column: str | None = None
    preview: int | None = None
    # big batches
    concurrency: int = DEFAULT_CONCURRENCY
    rate: float | None = None
    journal: Path | None = None
    wait_lock: float = 0.0  # with --journal: wait this long for another run that holds it
    resend_unknown: bool = False
    failed_out: Path | None = None
    # safety
    dry_run: bool = False
    offline: bool = False  # a dry run without the read-only checks against the API
    skip_invalid: bool = False
    confirm_above: int | None = None
    yes: bool = False
    allow_outside_hours: bool = False
    sandbox: bool = False
    no_history: bool = False  # do not record this send in the history
    again: bool = False  # send even to numbers that just got the same message (a repeat)
    skip_repeats: bool = False  # send to the others, skip the repeats
    strict_limits: bool = False  # exit 2 instead of warning about per-number limits
    include_suppressed: bool = False  # marketing: send to numbers that opted out too
    # after sending
    wait: bool = False
    wait_timeout: float = DEFAULT_WAIT_TIMEOUT
    wait_interval: float = DEFAULT_WAIT_INTERVAL
    report_dotenv: Path | None = None
    # where and as whom
    connection: Connection = field(default_factory=Connection)

    def validate(self) -> None:
        """The rules between options; an InputError (exit 2) before anything is read or sent."""
        if self.csv_file is not None:
            plain = _given(
                (N_("phone numbers"), self.phones),
                ("-f/--file", self.files),
                ("--column", self.column),
                ("-p/--param", self.params),
                ("--user-id", self.user_id),
            )
            if plain:
                raise InputError(
                    tr(
                        "--csv cannot be combined with {options}: the CSV file gives the "
                        "recipients, their params and their UserId",
                        options=plain,
                    ),
                    hint=tr(
                        "use --phone-column, --param-columns and --user-id-column to map "
                        "its columns"
                    ),
                )
        else:
            for_csv = _given(
                ("--phone-column", self.phone_column),
                ("--param-columns", self.param_columns),
                ("--user-id-column", self.user_id_column),
                ("--preview", self.preview),
            )
            if for_csv:
                raise InputError(tr("{options} only work with --csv FILE", options=for_csv))
            if not self.phones and not self.files:
                raise InputError(
                    tr(
                        "no recipients: give phone numbers as arguments, or -f FILE "
                        "(-f - reads stdin)"
                    )
                )
        if self.again and self.skip_repeats:
            raise InputError(tr("--again and --skip-repeats contradict each other: pick one"))
        if self.offline and not self.dry_run:
            raise InputError(tr("--offline goes with --dry-run: a real send needs the API"))
        if self.preview is not None and not self.dry_run:
            raise InputError(tr("--preview shows the messages without sending them: add --dry-run"))
        if self.wait:
            check_wait(self.wait_timeout, self.wait_interval, "--wait-timeout", "--wait-interval")
        if self.rate is not None and not (math.isfinite(self.rate) and self.rate > 0):
            raise InputError(tr("--rate must be a positive number of requests per second"))


def check_wait(timeout: float, interval: float, timeout_flag: str, interval_flag: str) -> None:
    """Bad wait options are input errors, caught before anything is sent."""
    if not math.isfinite(timeout) or timeout < 0:
        raise InputError(tr("{option} must be a number of seconds ≥ 0", option=timeout_flag))
    if not math.isfinite(interval) or interval <= 0:
        raise InputError(tr("{option} must be a number of seconds > 0", option=interval_flag))


def _given(*options: tuple[str, object]) -> str:
    """The names of the options that were given (not None, not empty)."""
    return ", ".join(tr(name) for name, value in options if value not in (None, [], ()))
