"""Reading the send history: the queries behind ``usms history``, ``usms receipt --last``
and ``--wait``, and the repeat guard; plus the packed phone lists both sides use.

The store (schema, writing, upkeep) and the overall description are in ``engine/history.py``,
whose :class:`History` is the class to use.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from usms_cli.core.errors import ConfigError
from usms_cli.core.history_rules import COUNTED, PastSend, PhoneSend, RunSessions, RunSummary
from usms_cli.i18n import tr

if TYPE_CHECKING:
    import sqlite3

SMALL_REQUEST = 100  # requests this small are also indexed by phone
_FEW = 16  # looking for this many phones, search the packed text instead of unpacking it


class HistoryError(ConfigError):
    """The history file cannot be created, read or written."""


def pack_phones(values: Sequence[str]) -> str:
    """``["138…", "139…"]`` → ``"\\n138…\\n139…\\n"``: a request's phones (or params hashes) in
    one text, so ``"\\n" + phone + "\\n"`` is found in it exactly."""
    joined = "\n".join(values)
    if joined.count("\n") != max(0, len(values) - 1):  # a value holding "\n" (never a phone)
        joined = "\n".join(value.replace("\n", " ") for value in values)
    return f"\n{joined}\n"


def has_any(packed: object, needles: object) -> bool:
    """SQL ``has_any(phones, needles)``: does the packed list hold one of the packed needles?"""
    if not isinstance(packed, str) or not isinstance(needles, str):
        return False
    return any(f"\n{needle}\n" in packed for needle in unpack_phones(needles))


def unpack_phones(packed: str | None) -> list[str]:
    """The list :func:`pack_phones` packed."""
    return packed[1:-1].split("\n") if packed and len(packed) > 2 else []


class HistoryQueries:
    """The read side of :class:`usms_cli.engine.history.History`."""

    _db: sqlite3.Connection
    path: Path

    def _read(self, sql: str, args: Sequence[Any] = ()) -> list[Any]:
        import sqlite3

        try:
            return self._db.execute(sql, args).fetchall()
        except (sqlite3.Error, OSError) as exc:
            raise history_error(self.path, exc) from exc

    # -- queries -------------------------------------------------------------------------

    def runs(
        self, *, since: float | None = None, template_id: str | None = None, limit: int = 20
    ) -> list[RunSummary]:
        """The newest runs first, with per-outcome number counts."""
        rows = self._read(
            """WITH picked AS (
                SELECT * FROM runs WHERE (?1 IS NULL OR started >= ?1)
                AND (?2 IS NULL OR template_id = ?2) ORDER BY started DESC, id DESC LIMIT ?3)
            SELECT r.id, r.started, r.finished, r.action, r.template_id, r.sig_content,
                r.project_id, r.planned, r.exit_code,
                TOTAL(CASE q.status WHEN 'accepted' THEN q.count - q.refused ELSE 0 END),
                TOTAL(CASE q.status WHEN 'rejected' THEN q.count WHEN 'accepted' THEN q.refused
                    ELSE 0 END),
                TOTAL(CASE q.status WHEN 'unknown' THEN q.count ELSE 0 END),
                TOTAL(CASE q.status WHEN 'not_sent' THEN q.count ELSE 0 END)
            FROM picked r LEFT JOIN requests q ON q.run_id = r.id
            GROUP BY r.id ORDER BY r.started DESC, r.id DESC""",
            (since, template_id, limit),
        )
        return [RunSummary(*row[:9], *(int(value) for value in row[9:])) for row in rows]

    def by_phone(self, phone: str, limit: int = 100) -> list[PhoneSend]:
        """Everything recorded for ``phone`` (exact, normalised form), newest first."""
        rows = self._read(
            f"""WITH hits(id) AS (
                SELECT request_id FROM phone_index WHERE phone = ?1
                UNION SELECT id FROM requests
                WHERE count > {SMALL_REQUEST} AND has_any(phones, ?2))
            SELECT r.id, q.idx, q.ts, r.action, r.template_id, r.sig_content, r.project_id,
                CASE WHEN f.reason IS NULL THEN q.status ELSE 'rejected' END, q.ret_code,
                q.session_no, f.reason, c.result, c.code, c.time, c.cost
            FROM hits JOIN requests q ON q.id = hits.id JOIN runs r ON r.id = q.run_id
            LEFT JOIN refusals f ON f.request_id = q.id AND f.phone = ?1
            LEFT JOIN receipts c ON c.session_no = q.session_no AND c.phone = ?1
            ORDER BY q.ts DESC, q.id DESC LIMIT ?3""",
            (phone, pack_phones([phone]), limit),
        )
        return [PhoneSend(*row) for row in rows]

    def _accepted_phones(self, where: str, args: Sequence[Any]) -> dict[str, list[str]]:
        """SessionNo -> phones accepted under it, for the requests ``where`` selects."""
        rows = self._read(
            f"""SELECT q.session_no, q.phones, (SELECT group_concat(phone, char(10))
                FROM refusals WHERE request_id = q.id)
            FROM requests q WHERE q.session_no IS NOT NULL AND q.status = 'accepted' AND {where}
            ORDER BY q.idx""",
            args,
        )
        sessions: dict[str, list[str]] = {}
        for session_no, packed, refused in rows:
            skip = set(refused.split("\n")) if refused else set()
            phones = sessions.setdefault(session_no, [])
            phones.extend(p for p in unpack_phones(packed) if p not in skip)
        return sessions

    def run_sessions(self, run_id: int | None = None) -> RunSessions | None:
        """SessionNos and accepted phones of run ``run_id``, or of the newest run; None when
        there is no such run."""
        if run_id is None:
            found = self._read(
                "SELECT id, started FROM runs ORDER BY started DESC, id DESC LIMIT 1"
            )
        else:
            found = self._read("SELECT id, started FROM runs WHERE id = ?", (run_id,))
        if not found:
            return None
        run, started = found[0]
        return RunSessions(run, started, self._accepted_phones("q.run_id = ?", (run,)))

    def phones_for_session(self, session_no: str) -> list[str]:
        """The phones accepted under ``session_no``, in the order they were sent."""
        return self._accepted_phones("q.session_no = ?", (session_no,)).get(session_no, [])

    def recent_sends(self, numbers: Collection[str], since: float) -> list[PastSend]:
        """Sends to ``numbers`` at or after ``since`` whose outcome may have reached the phone
        (accepted or unknown), for ``find_repeats`` and ``frequency_problems``. A few numbers
        are looked up (phone index, packed phones); many are compared with every request in
        the window."""
        wanted = set(numbers)
        if not wanted:
            return []
        sql = f"""SELECT q.ts, q.status, r.template_id, r.params_hash, q.phones, q.hashes,
                (SELECT group_concat(phone, char(10)) FROM refusals WHERE request_id = q.id)
            FROM requests q JOIN runs r ON r.id = q.run_id
            WHERE q.ts >= ? AND q.status IN ({",".join("?" * len(COUNTED))})"""
        args: list[Any] = [since, *sorted(COUNTED)]
        if len(wanted) <= _FEW:
            sql += f""" AND q.id IN (
                SELECT request_id FROM phone_index WHERE phone IN ({",".join("?" * len(wanted))})
                UNION SELECT id FROM requests
                WHERE count > {SMALL_REQUEST} AND ts >= ? AND has_any(phones, ?))"""
            args += [*wanted, since, pack_phones(sorted(wanted))]
        found: list[PastSend] = []
        for ts, status, template, run_hash, packed, hashes, refused in self._read(sql, args):
            phones = unpack_phones(packed)
            skip = set(refused.split("\n")) if refused else set()
            if hashes is None:
                found.extend(
                    PastSend(p, ts, template, run_hash, status)
                    for p in wanted.intersection(phones).difference(skip)
                )
            else:
                found.extend(
                    PastSend(p, ts, template, h, status)
                    for p, h in zip(phones, unpack_phones(hashes), strict=False)
                    if p in wanted and p not in skip
                )
        return found


def phone_matcher(recorded: Iterable[str]) -> Callable[[str], str | None]:
    """Find the recorded form of a phone as the API echoes it: exactly, or on its national
    part when the API adds or drops a ``(86)``/``86`` country prefix."""
    exact = set(recorded)
    bare: dict[str, str] = {}
    for phone in exact:
        bare.setdefault(phone.split(")")[-1], phone)

    def match(phone: str) -> str | None:
        if phone in exact:
            return phone
        national = phone.split(")")[-1].lstrip("+")
        for skip in range(5):  # up to a 4-digit country code in front
            found = bare.get(national[skip:])
            if found is not None:
                return found
        return None

    return match


def history_error(path: Path, exc: BaseException) -> HistoryError:
    if isinstance(exc, HistoryError):
        return exc
    reason = str(exc) or type(exc).__name__
    if isinstance(exc, OSError) and exc.strerror:
        reason = exc.strerror
    return HistoryError(
        tr("the send history {path} cannot be used: {reason}", path=path, reason=reason),
        hint=tr("move the file away, set USMS_HISTORY to another file, or USMS_HISTORY=off"),
    )
