"""The send history: a SQLite file that records every real send per run, request and number,
for ``usms history``, ``usms receipt --last``/``--wait``, the repeat guard and the frequency
warnings (rules in ``core/history_rules.py``).

Where: :func:`history_path` — ``$USMS_HISTORY`` if set (``off`` turns the history off; a
directory gets ``history.sqlite3`` inside), else ``$XDG_STATE_HOME/usms/history.sqlite3``,
else ``~/.local/state/usms/history.sqlite3``. Folders it creates are 0700, the file 0600
(SQLite gives its ``-wal``/``-shm`` files the same mode).

What: per run — start and finish time, action, template, signature, project, the salted
params hash (never the params: see ``history_rules``), how many numbers were planned, the exit
code (NULL: the run never finished). Per request — its 1-based index, time, status, RetCode,
SessionNo. Per number — the phone, its status when it differs from the request's (refused by
name: ``rejected`` + reason), its own params hash in a CSV batch, and once known its receipt
(result, ReceiptCode, ReceiptTime, CostCount).

As the send goes: :meth:`History.before_request` commits the request as ``unknown`` (in
flight) *before* it is sent, :meth:`History.after_request` commits the answer. A run killed in
between leaves ``unknown``, never ``accepted``.

Several processes at once: WAL mode, a busy timeout (5 s), one short ``BEGIN IMMEDIATE``
transaction per call (a 1000-number request is one ``executemany``).

Cap: at most ``max_rows`` numbers (default 1,000,000: ``by_phone`` is measured there by
``benchmarks/history.py``). :meth:`History.finish_run` trims the oldest runs, whole runs at a
time, down to 90 % when the cap is passed; :meth:`History.prune` drops runs older than an age.

Failures: every method of :class:`History` raises :class:`HistoryError` (a ``ConfigError``,
exit 2, with a readable message) for any sqlite3 or OS error. Sending code uses
``engine.history_safe.SafeHistory``: the first failure becomes ONE warning through a callback
and the history does nothing afterwards, so a read-only disk or a corrupt file never blocks
or fails a send. Use one object from one thread.

Wiring (times are Unix seconds; phones in the normalised form usms sends)::

    history = SafeHistory.open(history_path(os.environ), warn=output.warning)
    h = history.params_hash(template_id, sig, params)          # "" when the history is off
    recent = history.recent_sends(numbers, since=now - limits.lookback_s)
    find_repeats(recent, Planned(template_id, h), now)        # core.history_rules
    run = history.start_run("SendUSMSMessage", template_id, sig, project_id, h, len(numbers))
    history.before_request(run, index, numbers)               # before each request
    history.after_request(run, index, numbers, status, ret_code, session_no, refused)
    history.finish_run(run, exit_code)
    history.record_receipts(receipts)                         # core.receipts.Receipt rows
    # usms history / receipt: History.open(path) and runs(), by_phone(), run_sessions(),
    # phones_for_session(), prune(); HistoryError carries the message for the user.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from usms_cli.core.errors import ConfigError
from usms_cli.core.history_rules import COUNTED, PastSend, params_hash

if TYPE_CHECKING:
    import sqlite3

    from usms_cli.core.receipts import Receipt

SCHEMA_VERSION = 1
FILE_NAME = "history.sqlite3"
DEFAULT_MAX_ROWS = 1_000_000
BUSY_TIMEOUT_S = 5.0
OFF_WORDS = frozenset({"off", "0", "false", "no", "none"})
_DELETE_BATCH_ROWS = 20_000  # numbers deleted per transaction: keeps other writers' waits short
_IN_BATCH = 500  # phones per "IN (...)" query
DAY_S = 86400

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value BLOB NOT NULL)",
    """CREATE TABLE IF NOT EXISTS runs (
        id INTEGER PRIMARY KEY,
        started REAL NOT NULL,
        finished REAL,
        action TEXT NOT NULL,
        template_id TEXT NOT NULL,
        sig_content TEXT,
        project_id TEXT,
        params_hash TEXT,
        planned INTEGER NOT NULL,
        exit_code INTEGER)""",
    "CREATE INDEX IF NOT EXISTS runs_started ON runs(started)",
    """CREATE TABLE IF NOT EXISTS requests (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL,
        idx INTEGER NOT NULL,
        ts REAL NOT NULL,
        status TEXT NOT NULL,
        ret_code INTEGER,
        session_no TEXT,
        count INTEGER NOT NULL,
        refused INTEGER NOT NULL DEFAULT 0,
        UNIQUE (run_id, idx))""",
    "CREATE INDEX IF NOT EXISTS requests_ts ON requests(ts)",
    "CREATE INDEX IF NOT EXISTS requests_session ON requests(session_no)"
    " WHERE session_no IS NOT NULL",
    """CREATE TABLE IF NOT EXISTS sends (
        id INTEGER PRIMARY KEY,
        request_id INTEGER NOT NULL,
        phone TEXT NOT NULL,
        params_hash TEXT,
        status TEXT,
        reason TEXT,
        receipt TEXT,
        receipt_code TEXT,
        receipt_time INTEGER,
        cost INTEGER)""",
    "CREATE INDEX IF NOT EXISTS sends_phone ON sends(phone)",
    "CREATE INDEX IF NOT EXISTS sends_request ON sends(request_id)",
)

# Per-number status: the number's own (refused by name) or its request's.
_STATUS = "COALESCE(s.status, q.status)"


class HistoryError(ConfigError):
    """The history file cannot be created, read or written."""


def history_path(environ: Mapping[str, str]) -> Path | None:
    """Where the history lives, or None when ``USMS_HISTORY`` turns it off."""
    value = environ.get("USMS_HISTORY", "").strip()
    if value.lower() in OFF_WORDS:
        return None
    if value:
        path = Path(value).expanduser()
        return path / FILE_NAME if _is_dir(path) else path
    state = environ.get("XDG_STATE_HOME", "").strip()
    if state and Path(state).is_absolute():  # the XDG spec: a relative value is ignored
        base = Path(state)
    else:
        home = environ.get("HOME", "").strip()
        base = (Path(home) if home else Path.home()) / ".local" / "state"
    return base / "usms" / FILE_NAME


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:
        return False


@dataclass(frozen=True)
class RunSummary:
    """One run for ``usms history``; ``exit_code`` None means it never finished (killed)."""

    id: int
    started: float
    finished: float | None
    action: str
    template_id: str
    sig_content: str | None
    project_id: str | None
    planned: int
    exit_code: int | None
    accepted: int  # numbers, by outcome
    rejected: int
    unknown: int
    not_sent: int

    @property
    def counts(self) -> dict[str, int]:
        return {
            "accepted": self.accepted,
            "rejected": self.rejected,
            "unknown": self.unknown,
            "not_sent": self.not_sent,
        }

    @property
    def recorded(self) -> int:
        return self.accepted + self.rejected + self.unknown + self.not_sent


@dataclass(frozen=True)
class PhoneSend:
    """One send to one phone, newest first in :meth:`History.by_phone`."""

    run_id: int
    request: int
    time: float
    action: str
    template_id: str
    sig_content: str | None
    project_id: str | None
    status: str
    ret_code: int | None
    session_no: str | None
    reason: str | None  # why the API refused this number by name
    receipt: str | None  # delivered | failed | unknown, once a receipt was recorded
    receipt_code: str | None
    receipt_time: int | None
    cost: int | None


@dataclass(frozen=True)
class RunSessions:
    """The SessionNos of one run and the phones accepted under each, in request order."""

    run_id: int
    started: float
    sessions: dict[str, list[str]] = field(default_factory=dict)


def _prepare(path: Path) -> None:
    """Create missing folders 0700 and a missing file 0600 (never changes existing ones)."""
    missing: list[Path] = []
    parent = path.parent
    while not parent.exists():
        missing.append(parent)
        parent = parent.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:
            pass
    if not path.exists():
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:  # another usms created it first
            pass


class History:
    """The history database. Open with :meth:`open`; see the module docstring."""

    def __init__(
        self,
        connection: sqlite3.Connection,
        path: Path,
        *,
        clock: Callable[[], float] = time.time,
        max_rows: int = DEFAULT_MAX_ROWS,
    ) -> None:
        self._db = connection
        self.path = path
        self.clock = clock
        self.max_rows = max_rows
        self._salt: bytes | None = None

    @classmethod
    def open(
        cls,
        path: Path | str,
        *,
        clock: Callable[[], float] = time.time,
        max_rows: int = DEFAULT_MAX_ROWS,
        busy_timeout: float = BUSY_TIMEOUT_S,
    ) -> History:
        import sqlite3

        path = Path(path).expanduser().absolute()
        connection: sqlite3.Connection | None = None
        try:
            _prepare(path)
            connection = sqlite3.connect(path, timeout=busy_timeout, isolation_level=None)
            history = cls(connection, path, clock=clock, max_rows=max_rows)
            history._set_up()
            return history
        except (sqlite3.Error, OSError, HistoryError) as exc:
            if connection is not None:
                connection.close()
            raise _error(path, exc) from exc

    def _set_up(self) -> None:
        db = self._db
        db.execute("PRAGMA synchronous=NORMAL")  # WAL: durable across crashes of usms itself
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise HistoryError(
                f"the send history {self.path} was written by a newer usms (schema {version})",
                hint="upgrade usms-cli, or set USMS_HISTORY to another file or to off",
            )
        if version == SCHEMA_VERSION:
            return
        db.execute("PRAGMA journal_mode=WAL")  # persistent: set once, when creating
        with self._write() as tx:
            if tx.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
                return  # another process set it up meanwhile
            for statement in _SCHEMA:
                tx.execute(statement)
            tx.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('salt', ?)", (os.urandom(32),)
            )
            tx.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def close(self) -> None:
        import sqlite3

        try:
            self._db.close()
        except sqlite3.Error as exc:
            raise _error(self.path, exc) from exc

    # -- plumbing -------------------------------------------------------------------------

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One short write transaction; the write lock is taken up front (BEGIN IMMEDIATE)
        so it waits for other writers at the start, never half-way through."""
        import sqlite3

        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        except (sqlite3.Error, OSError) as exc:
            raise _error(self.path, exc) from exc

    def _read(self, sql: str, args: Sequence[Any] = ()) -> list[Any]:
        import sqlite3

        try:
            return self._db.execute(sql, args).fetchall()
        except (sqlite3.Error, OSError) as exc:
            raise _error(self.path, exc) from exc

    @property
    def salt(self) -> bytes:
        if self._salt is None:
            rows = self._read("SELECT value FROM meta WHERE key = 'salt'")
            if not rows or not isinstance(rows[0][0], bytes):
                raise HistoryError(f"the send history {self.path} has no salt: it is damaged")
            self._salt = rows[0][0]
        return self._salt

    def params_hash(self, template_id: str, sig_content: str | None, params: Sequence[str]) -> str:
        """``history_rules.params_hash`` keyed with this database's salt."""
        return params_hash(template_id, sig_content, params, salt=self.salt)

    # -- recording a send -----------------------------------------------------------------

    def start_run(
        self,
        action: str,
        template_id: str,
        sig_content: str | None,
        project_id: str | None,
        params_hash: str | None,
        planned: int,
    ) -> int:
        """Record a run about to send ``planned`` numbers; returns its id. ``params_hash`` is
        None when every number has its own params (pass them to :meth:`before_request`)."""
        with self._write() as tx:
            cursor = tx.execute(
                "INSERT INTO runs (started, action, template_id, sig_content, project_id,"
                " params_hash, planned) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (self.clock(), action, template_id, sig_content, project_id, params_hash, planned),
            )
            return int(cursor.lastrowid or 0)

    def before_request(
        self,
        run_id: int,
        index: int,
        numbers: Sequence[str],
        params_hashes: Sequence[str] | None = None,
    ) -> None:
        """Commit request ``index`` (1-based) of ``run_id`` as in flight (``unknown``) before it
        is sent. ``params_hashes``: one per number, for a CSV batch. Recording the same index
        twice keeps the first record."""
        with self._write() as tx:
            self._insert_request(tx, run_id, index, numbers, params_hashes, "unknown")

    def _insert_request(
        self,
        tx: sqlite3.Connection,
        run_id: int,
        index: int,
        numbers: Sequence[str],
        params_hashes: Sequence[str] | None,
        status: str,
    ) -> int | None:
        cursor = tx.execute(
            "INSERT INTO requests (run_id, idx, ts, status, count) VALUES (?, ?, ?, ?, ?)"
            " ON CONFLICT (run_id, idx) DO NOTHING",
            (run_id, index, self.clock(), status, len(numbers)),
        )
        if cursor.rowcount != 1:
            return None
        request_id = cursor.lastrowid
        if params_hashes is None:
            rows: Iterable[tuple[Any, ...]] = ((request_id, phone, None) for phone in numbers)
        else:
            rows = zip([request_id] * len(numbers), numbers, params_hashes, strict=True)
        tx.executemany("INSERT INTO sends (request_id, phone, params_hash) VALUES (?, ?, ?)", rows)
        return request_id

    def after_request(
        self,
        run_id: int,
        index: int,
        numbers: Sequence[str],
        status: str,
        ret_code: int | None = None,
        session_no: str | None = None,
        refused: Mapping[str, str] | None = None,
        params_hashes: Sequence[str] | None = None,
    ) -> None:
        """Commit the outcome of request ``index``: ``status`` is accepted, rejected, unknown
        or not_sent; ``refused`` maps phones the API refused by name to the reason. A request
        never recorded before (a ``not_sent`` chunk) is recorded now with its numbers."""
        with self._write() as tx:
            row = tx.execute(
                "SELECT id FROM requests WHERE run_id = ? AND idx = ?", (run_id, index)
            ).fetchone()
            if row is None:
                request_id = self._insert_request(tx, run_id, index, numbers, params_hashes, status)
            else:
                request_id = row[0]
            updates: list[tuple[str, int]] = []
            if refused:
                recorded = tx.execute(
                    "SELECT id, phone FROM sends WHERE request_id = ?", (request_id,)
                ).fetchall()
                match = _phone_matcher(recorded)
                for phone, reason in refused.items():
                    send_id = match(phone)
                    if send_id is not None:
                        updates.append((str(reason)[:200], send_id))
                tx.executemany(
                    "UPDATE sends SET status = 'rejected', reason = ? WHERE id = ?", updates
                )
            tx.execute(
                "UPDATE requests SET status = ?, ret_code = ?, session_no = ?, refused = ?"
                " WHERE id = ?",
                (status, ret_code, session_no, len(updates), request_id),
            )

    def finish_run(self, run_id: int, exit_code: int) -> None:
        """Record the run's exit code, then keep the history under its cap."""
        with self._write() as tx:
            tx.execute(
                "UPDATE runs SET finished = ?, exit_code = ? WHERE id = ?",
                (self.clock(), exit_code, run_id),
            )
        self.enforce_cap(keep_run=run_id)

    def record_receipts(self, receipts: Iterable[Receipt]) -> int:
        """Store delivery receipts on the numbers they belong to (matched by SessionNo and
        phone, tolerating a ``(86)``/``86`` prefix); returns how many matched. Pending rows
        and sessions the history does not know are skipped."""
        by_session: dict[str, list[Receipt]] = {}
        for receipt in receipts:
            if receipt.result != "pending" and receipt.phone and receipt.session_no:
                by_session.setdefault(receipt.session_no, []).append(receipt)
        matched = 0
        with self._write() as tx:
            for session_no, rows in by_session.items():
                recorded = tx.execute(
                    "SELECT s.id, s.phone FROM requests q JOIN sends s ON s.request_id = q.id"
                    " WHERE q.session_no = ?",
                    (session_no,),
                ).fetchall()
                match = _phone_matcher(recorded)
                updates = []
                for receipt in rows:
                    send_id = match(receipt.phone)
                    if send_id is not None:
                        updates.append(
                            (receipt.result, receipt.code, receipt.time, receipt.cost, send_id)
                        )
                tx.executemany(
                    "UPDATE sends SET receipt = ?, receipt_code = ?, receipt_time = ?, cost = ?"
                    " WHERE id = ?",
                    updates,
                )
                matched += len(updates)
        return matched

    # -- queries --------------------------------------------------------------------------

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
            f"""SELECT r.id, q.idx, q.ts, r.action, r.template_id, r.sig_content, r.project_id,
                {_STATUS}, q.ret_code, q.session_no, s.reason, s.receipt, s.receipt_code,
                s.receipt_time, s.cost
            FROM sends s JOIN requests q ON q.id = s.request_id JOIN runs r ON r.id = q.run_id
            WHERE s.phone = ? ORDER BY q.ts DESC, s.id DESC LIMIT ?""",
            (phone, limit),
        )
        return [PhoneSend(*row) for row in rows]

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
        result = RunSessions(found[0][0], found[0][1])
        rows = self._read(
            f"""SELECT q.session_no, s.phone FROM requests q JOIN sends s ON s.request_id = q.id
            WHERE q.run_id = ? AND q.session_no IS NOT NULL AND {_STATUS} = 'accepted'
            ORDER BY q.idx, s.id""",
            (result.run_id,),
        )
        for session_no, phone in rows:
            result.sessions.setdefault(session_no, []).append(phone)
        return result

    def phones_for_session(self, session_no: str) -> list[str]:
        """The phones accepted under ``session_no``, in the order they were sent."""
        rows = self._read(
            f"""SELECT s.phone FROM requests q JOIN sends s ON s.request_id = q.id
            WHERE q.session_no = ? AND {_STATUS} = 'accepted' ORDER BY s.id""",
            (session_no,),
        )
        return [row[0] for row in rows]

    def recent_sends(self, numbers: Collection[str], since: float) -> list[PastSend]:
        """Sends to ``numbers`` at or after ``since`` whose outcome may have reached the phone
        (accepted or unknown), for ``find_repeats`` and ``frequency_problems``."""
        wanted = set(numbers)
        if not wanted:
            return []
        select = f"""SELECT s.phone, q.ts, r.template_id, COALESCE(s.params_hash, r.params_hash),
            {_STATUS}"""
        in_window = self._read("SELECT TOTAL(count) FROM requests WHERE ts >= ?", (since,))[0][0]
        if in_window <= 4 * len(wanted):  # fewer rows in the window than lookups: scan it
            rows = self._read(
                f"""{select} FROM requests q JOIN sends s ON s.request_id = q.id
                JOIN runs r ON r.id = q.run_id WHERE q.ts >= ?""",
                (since,),
            )
            rows = [row for row in rows if row[0] in wanted]
        else:
            rows = []
            phones = sorted(wanted)
            for start in range(0, len(phones), _IN_BATCH):
                batch = phones[start : start + _IN_BATCH]
                marks = ",".join("?" * len(batch))
                rows.extend(
                    self._read(  # CROSS JOIN: look phones up first, then their requests
                        f"""{select} FROM sends s CROSS JOIN requests q CROSS JOIN runs r
                        WHERE s.phone IN ({marks}) AND q.id = s.request_id AND r.id = q.run_id
                        AND q.ts >= ?""",
                        (*batch, since),
                    )
                )
        return [PastSend(*row) for row in rows if row[4] in COUNTED]

    # -- keeping it small -----------------------------------------------------------------

    def prune(self, older_than: timedelta) -> int:
        """Delete runs started more than ``older_than`` ago; returns how many numbers went."""
        cutoff = self.clock() - older_than.total_seconds()
        runs = self._read(
            """SELECT r.id, TOTAL(q.count) FROM runs r LEFT JOIN requests q ON q.run_id = r.id
            WHERE r.started < ? GROUP BY r.id ORDER BY r.id""",
            (cutoff,),
        )
        return self._delete_runs([(run_id, int(count)) for run_id, count in runs])

    def enforce_cap(self, keep_run: int | None = None) -> int:
        """If more than ``max_rows`` numbers are recorded, delete the oldest runs (never
        ``keep_run``) until at most 90 % remain; returns how many numbers went."""
        # Ids only grow and the oldest go first, so max - min + 1 is a cheap upper bound.
        low, high = self._read("SELECT MIN(id), MAX(id) FROM sends")[0]
        if low is None or high - low + 1 <= self.max_rows:
            return 0
        total = self._read("SELECT COUNT(*) FROM sends")[0][0]
        excess = total - int(self.max_rows * 0.9)
        if excess <= 0 or total <= self.max_rows:
            return 0
        victims: list[tuple[int, int]] = []
        chosen = 0
        busy_since = self.clock() - DAY_S  # a run unfinished for less than a day may be sending
        for run_id, count in self._read(
            """SELECT r.id, TOTAL(q.count) FROM runs r LEFT JOIN requests q ON q.run_id = r.id
            WHERE r.id IS NOT ? AND NOT (r.finished IS NULL AND r.started > ?)
            GROUP BY r.id ORDER BY r.id""",
            (keep_run, busy_since),
        ):
            if chosen >= excess:
                break
            victims.append((run_id, int(count)))
            chosen += int(count)
        return self._delete_runs(victims)

    def _delete_runs(self, runs: Sequence[tuple[int, int]]) -> int:
        """Delete ``(run id, numbers)`` runs in transactions of about ``_DELETE_BATCH_ROWS``
        numbers; returns how many numbers were deleted."""
        deleted = 0
        start = 0
        while start < len(runs):
            batch: list[int] = []
            rows = 0
            while start < len(runs) and (not batch or rows + runs[start][1] <= _DELETE_BATCH_ROWS):
                batch.append(runs[start][0])
                rows += runs[start][1]
                start += 1
            marks = ",".join("?" * len(batch))
            with self._write() as tx:
                cursor = tx.execute(
                    f"DELETE FROM sends WHERE request_id IN"
                    f" (SELECT id FROM requests WHERE run_id IN ({marks}))",
                    batch,
                )
                deleted += cursor.rowcount
                tx.execute(f"DELETE FROM requests WHERE run_id IN ({marks})", batch)
                tx.execute(f"DELETE FROM runs WHERE id IN ({marks})", batch)
        return deleted


def _phone_matcher(recorded: Iterable[tuple[int, str]]) -> Callable[[str], int | None]:
    """Find the recorded row of a phone as the API echoes it: exactly, or on its national
    part when the API adds or drops a ``(86)``/``86`` country prefix."""
    exact: dict[str, int] = {}
    bare: dict[str, int] = {}
    for send_id, phone in recorded:
        exact.setdefault(phone, send_id)
        bare.setdefault(phone.split(")")[-1], send_id)

    def match(phone: str) -> int | None:
        if phone in exact:
            return exact[phone]
        national = phone.split(")")[-1].lstrip("+")
        for skip in range(5):  # up to a 4-digit country code in front
            found = bare.get(national[skip:])
            if found is not None:
                return found
        return None

    return match


def _error(path: Path, exc: BaseException) -> HistoryError:
    if isinstance(exc, HistoryError):
        return exc
    reason = str(exc) or type(exc).__name__
    if isinstance(exc, OSError) and exc.strerror:
        reason = exc.strerror
    return HistoryError(
        f"the send history {path} cannot be used: {reason}",
        hint="move the file away, set USMS_HISTORY to another file, or USMS_HISTORY=off",
    )
