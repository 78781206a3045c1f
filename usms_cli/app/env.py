"""What a use case reads from the process: environment, working directory, stdin, whether a
person can answer a question, and the clock. Tests and library users pass their own ``Env``."""

from __future__ import annotations

import datetime
import os
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from usms_cli.core.errors import ConfigError
from usms_cli.i18n import tr


def is_interactive() -> bool:
    """Whether a person can answer a question: stdin and stderr are terminals."""
    try:
        return sys.stdin.isatty() and sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def clock_from(environ: Mapping[str, str]) -> Callable[[], datetime.datetime]:
    """The current time, or ``USMS_NOW`` (an ISO 8601 time; a testing aid, read only here)."""
    raw = environ.get("USMS_NOW", "").strip()
    if not raw:
        return lambda: datetime.datetime.now(datetime.UTC)
    try:
        moment = datetime.datetime.fromisoformat(raw)
    except ValueError:
        raise ConfigError(
            tr("USMS_NOW must be an ISO 8601 time, got {value!r}", value=raw)
        ) from None
    fixed = moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)
    return lambda: fixed


@dataclass(frozen=True)
class Env:
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    cwd: Path = field(default_factory=Path.cwd)
    stdin: IO[str] = field(default_factory=lambda: sys.stdin)
    interactive: Callable[[], bool] = lambda: is_interactive()  # noqa: E731 (tests swap the module function)

    @classmethod
    def from_process(cls) -> Env:
        """The real process: ``os.environ`` itself (not a copy), the cwd, stdin, the terminal."""
        return cls(environ=os.environ, cwd=Path.cwd(), stdin=sys.stdin)

    def now(self) -> datetime.datetime:
        return clock_from(self.environ)()
