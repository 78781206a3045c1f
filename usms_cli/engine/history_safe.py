"""The send history on the sending path: any failure becomes one warning, never a failed send.

See ``engine/history.py`` for what is recorded and how to wire it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from usms_cli.core.history_rules import PastSend, RunSessions
from usms_cli.engine.history import History, HistoryError
from usms_cli.i18n import tr

if TYPE_CHECKING:
    from usms_cli.core.receipts import Receipt

T = TypeVar("T")


class SafeHistory:
    """:class:`History` for the sending path: the first :class:`HistoryError` (or any other
    exception: a bug here must not stop a batch half-way) becomes one warning through ``warn``
    and the history is off for the rest of the process. Writes then do nothing and queries
    answer empty. Not thread-safe: call from one thread."""

    def __init__(self, history: History | None, warn: Callable[[str], None]) -> None:
        self.history = history
        self._warn = warn

    @classmethod
    def open(
        cls, path: Path | str | None, warn: Callable[[str], None], **options: Any
    ) -> SafeHistory:
        """Open ``path`` (None: off, silently); ``options`` go to :meth:`History.open`."""
        safe = cls(None, warn)
        if path is not None:
            safe._call(lambda: setattr(safe, "history", History.open(path, **options)), None)
        return safe

    @property
    def active(self) -> bool:
        return self.history is not None

    def _call(self, action: Callable[[], T], default: T) -> T:
        try:
            return action()
        except Exception as exc:  # a bug in the history must not fail a send half-way either
            if self.history is not None:
                try:
                    self.history.close()
                except Exception:  # closing a broken connection must not raise either
                    pass
                self.history = None
            if isinstance(exc, HistoryError) and exc.hint:
                problem = tr("{problem} ({hint})", problem=exc.message, hint=exc.hint)
            elif isinstance(exc, HistoryError):
                problem = exc.message
            else:
                problem = tr(
                    "the send history failed (internal error: {kind})", kind=type(exc).__name__
                )
            self._warn(tr("{problem}; sending goes on without recording it", problem=problem))
            return default

    def params_hash(self, template_id: str, sig_content: str | None, params: Sequence[str]) -> str:
        h = self.history
        return (
            ""
            if h is None
            else self._call(lambda: h.params_hash(template_id, sig_content, params), "")
        )

    def start_run(
        self,
        action: str,
        template_id: str,
        sig_content: str | None,
        project_id: str | None,
        params_hash: str | None,
        planned: int,
    ) -> int | None:
        h = self.history
        if h is None:
            return None
        return self._call(
            lambda: h.start_run(action, template_id, sig_content, project_id, params_hash, planned),
            None,
        )

    def before_request(
        self,
        run_id: int | None,
        index: int,
        numbers: Sequence[str],
        params_hashes: Sequence[str] | None = None,
    ) -> None:
        h = self.history
        if h is not None and run_id is not None:
            self._call(lambda: h.before_request(run_id, index, numbers, params_hashes), None)

    def after_request(
        self,
        run_id: int | None,
        index: int,
        numbers: Sequence[str],
        status: str,
        ret_code: int | None = None,
        session_no: str | None = None,
        refused: Mapping[str, str] | None = None,
        params_hashes: Sequence[str] | None = None,
    ) -> None:
        h = self.history
        if h is not None and run_id is not None:
            self._call(
                lambda: h.after_request(
                    run_id, index, numbers, status, ret_code, session_no, refused, params_hashes
                ),
                None,
            )

    def finish_run(self, run_id: int | None, exit_code: int) -> None:
        h = self.history
        if h is not None and run_id is not None:
            self._call(lambda: h.finish_run(run_id, exit_code), None)

    def record_receipts(self, receipts: Iterable[Receipt]) -> int:
        h = self.history
        return 0 if h is None else self._call(lambda: h.record_receipts(receipts), 0)

    def recent_sends(self, numbers: Collection[str], since: float) -> list[PastSend]:
        h = self.history
        return [] if h is None else self._call(lambda: h.recent_sends(numbers, since), [])

    def phones_for_session(self, session_no: str) -> list[str]:
        h = self.history
        return [] if h is None else self._call(lambda: h.phones_for_session(session_no), [])

    def run_sessions(self, run_id: int | None = None) -> RunSessions | None:
        h = self.history
        return None if h is None else self._call(lambda: h.run_sessions(run_id), None)

    def close(self) -> None:
        h = self.history
        if h is not None:
            self._call(h.close, None)
            self.history = None
