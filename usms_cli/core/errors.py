"""Exit codes and the exceptions that carry a user-ready message to the one error funnel."""

from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum

from usms_cli.core.text import Translated
from usms_cli.i18n import N_


class ExitCode(IntEnum):
    """The process exit status. Documented in README ("Exit codes") and ``usms --help``."""

    OK = 0  # every request accepted
    REJECTED = 1  # the API refused (nothing accepted)
    USAGE = 2  # bad usage, input or configuration; nothing was sent
    PARTIAL = 3  # some requests accepted, some not
    UNREACHABLE = 4  # the API could not be reached; nothing was sent
    UNKNOWN = 5  # a request was written but no usable answer came back: it may have been sent
    INTERNAL = 70  # a bug in usms-cli (EX_SOFTWARE); --debug shows the traceback
    INTERRUPTED = 130  # Ctrl-C (SIGINT)
    TERMINATED = 143  # SIGTERM


# Each exit code in words, read in this run's language (``EXIT_MEANINGS.english`` as written).
EXIT_MEANINGS: Mapping[int, str] = Translated(
    {
        0: N_("all accepted"),
        1: N_("refused by the API"),
        2: N_("bad usage, input or configuration; nothing sent"),
        3: N_("partly sent"),
        4: N_("API unreachable; nothing sent"),
        5: N_("outcome unknown; may have been sent"),
        70: N_("internal error"),
        130: N_("interrupted"),
        143: N_("terminated"),
    }
)


class UsmsError(Exception):
    """An expected failure with a message meant for the user (never holds a secret).

    Human output masks digit runs in messages as possible phone numbers; ``verbatim`` says the
    message holds no personal data and is shown as written."""

    exit_code: ExitCode = ExitCode.USAGE

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        details: list[str] | None = None,
        shown_details: list[str] | None = None,
        verbatim: bool = False,
    ):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.details = details or []  # in full, for --json
        # what a person reads, personal data masked (default: ``details``)
        self.shown_details = self.details if shown_details is None else shown_details
        self.verbatim = verbatim


class InputError(UsmsError):
    """Recipients, parameters or files are wrong: nothing is sent."""


class ConfigError(UsmsError):
    """Credentials, endpoint or other settings are missing or wrong: nothing is sent."""
