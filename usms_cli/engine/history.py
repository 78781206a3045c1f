"""The send history: a SQLite file that records every real send per run, request and number,
for ``usms history``, ``usms receipt --last``/``--wait``, the repeat guard and the frequency
warnings (rules in ``core/history_rules.py``).

Where: :func:`history_path` — ``$USMS_HISTORY`` if set (``off`` turns the history off; a
directory gets ``history.sqlite3`` inside), else ``$XDG_STATE_HOME/usms/history.sqlite3``,
else ``~/.local/state/usms/history.sqlite3``. Folders it creates are 0700, the file 0600
(SQLite gives its ``-wal``/``-shm`` files the same mode). Queries live in
``engine/history_queries.py``, the sending-path wrapper in ``engine/history_safe.py``.

What: per run — start and finish time, action, template, signature, project, the salted
params hash (never the params: see ``history_rules``), how many numbers were planned, the exit
code (None: the run never finished). Per request — index (1-based), time, status, RetCode,
SessionNo and its phones. Per number — ``rejected`` + reason when the API refused it by
name, its own params hash in a CSV batch, and once known its receipt (result, ReceiptCode,
ReceiptTime, CostCount).

As the send goes: :meth:`History.before_request` commits the request as ``unknown`` (in
flight) *before* it is sent, :meth:`History.after_request` commits the answer. A run killed in
between leaves ``unknown``, never ``accepted``.

Layout, for cheap recording: a request's phones are stored packed in its own row (one row
per 1,000 numbers, appended), so recording costs about the same on a full file as on an
empty one; a per-number index with random keys cost 8–46 µs a number (benchmarks/history.py).
Requests of at most ``SMALL_REQUEST`` numbers (single codes from cron, the tail of a batch)
are also indexed by phone; :meth:`History.by_phone` uses that index and scans only the packed
phones of the bigger requests. Both stay bounded by the cap.

Several processes at once: WAL mode, a busy timeout (5 s), one short ``BEGIN IMMEDIATE``
transaction per call.

Cap: at most ``max_rows`` numbers (default 1,000,000, where ``by_phone`` is measured).
:meth:`History.finish_run` trims the oldest finished runs, whole runs at a time, down to 90 %
when the cap is passed; :meth:`History.prune` drops runs older than an age.

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

# long module: the schema, opening (modes, WAL, locking) and the writes belong together;
# the queries are in history_queries.py, the send-path wrapper in history_safe.py.
from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from usms_cli.core.history_rules import params_hash
from usms_cli.engine.history_queries import (
    SMALL_REQUEST,
    HistoryError,
    HistoryQueries,
    has_any,
    history_error,
    pack_phones,
    phone_matcher,
    unpack_phones,
)
from usms_cli.i18n import tr

if TYPE_CHECKING:
    import sqlite3

    from usms_cli.core.receipts import Receipt

__all__ = ["History", "HistoryError", "history_path"]

SCHEMA_VERSION = 1
FILE_NAME = "history.sqlite3"
DEFAULT_MAX_ROWS = 1_000_000
BUSY_TIMEOUT_S = 5.0
OFF_WORDS = frozenset({"off", "0", "false", "no", "none"})
_DELETE_BATCH = (20_000, 500)  # numbers, runs per deleting transaction: short write locks
DAY_S = 86400

_SCHEMA = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value NOT NULL)",
    """CREATE TABLE runs (
        id INTEGER PRIMARY KEY, started REAL NOT NULL, finished REAL, action TEXT NOT NULL,
        template_id TEXT NOT NULL, sig_content TEXT, project_id TEXT, params_hash TEXT,
        planned INTEGER NOT NULL, exit_code INTEGER)""",
    "CREATE INDEX runs_started ON runs(started)",
    # phones: "\n" + the phones joined by "\n" + "\n"; hashes: per number, same order (CSV)
    """CREATE TABLE requests (
        id INTEGER PRIMARY KEY, run_id INTEGER NOT NULL, idx INTEGER NOT NULL,
        ts REAL NOT NULL, status TEXT NOT NULL, ret_code INTEGER, session_no TEXT,
        count INTEGER NOT NULL, refused INTEGER NOT NULL DEFAULT 0,
        phones TEXT NOT NULL, hashes TEXT, UNIQUE (run_id, idx))""",
    "CREATE INDEX requests_ts ON requests(ts)",
    "CREATE INDEX requests_session ON requests(session_no) WHERE session_no IS NOT NULL",
    f"CREATE INDEX requests_big ON requests(ts) WHERE count > {SMALL_REQUEST}",
    """CREATE TABLE phone_index (phone TEXT NOT NULL, request_id INTEGER NOT NULL,
        PRIMARY KEY (phone, request_id)) WITHOUT ROWID""",
    """CREATE TABLE refusals (request_id INTEGER NOT NULL, phone TEXT NOT NULL,
        reason TEXT NOT NULL, PRIMARY KEY (request_id, phone)) WITHOUT ROWID""",
    """CREATE TABLE receipts (session_no TEXT NOT NULL, phone TEXT NOT NULL,
        result TEXT NOT NULL, code TEXT, time INTEGER, cost INTEGER,
        PRIMARY KEY (session_no, phone)) WITHOUT ROWID""",
)


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


class History(HistoryQueries):
    """The history database. Open with :meth:`open`; see the module docstring."""

    def __init__(
        self,
        connection: sqlite3.Connection,
        path: Path,
        *,
        clock: Callable[[], float] = time.time,
        max_rows: int = DEFAULT_MAX_ROWS,
        busy_timeout: float = BUSY_TIMEOUT_S,
    ) -> None:
        self._db = connection
        self.path = path
        self.clock = clock
        self.max_rows = max_rows
        self.busy_timeout = busy_timeout
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
            history = cls(
                connection, path, clock=clock, max_rows=max_rows, busy_timeout=busy_timeout
            )
            history._set_up()
            return history
        except (sqlite3.Error, OSError, HistoryError) as exc:
            if connection is not None:
                connection.close()
            raise history_error(path, exc) from exc

    def _set_up(self) -> None:
        db = self._db
        db.execute("PRAGMA synchronous=NORMAL")  # WAL: durable across crashes of usms itself
        # Python's substring search is about 3x faster than SQLite's instr() on packed phones.
        db.create_function("has_any", 2, has_any, deterministic=True)
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise HistoryError(
                tr(
                    "the send history {path} was written by a newer usms (schema {version})",
                    path=self.path,
                    version=version,
                ),
                hint=tr("upgrade usms-cli, or set USMS_HISTORY to another file or to off"),
            )
        if version < SCHEMA_VERSION:
            with self._write() as tx:
                if tx.execute("PRAGMA user_version").fetchone()[0] < SCHEMA_VERSION:
                    for statement in _SCHEMA:  # (unless another process just did)
                        tx.execute(statement)
                    tx.execute(
                        "INSERT INTO meta VALUES ('salt', ?), ('numbers', 0)", (os.urandom(32),)
                    )
                    tx.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            self._enable_wal()

    def _enable_wal(self) -> None:
        """Switch the file to WAL (persistent). Unlike other statements this does not wait for
        another process's lock, so it is retried until the busy timeout."""
        import sqlite3

        deadline = time.monotonic() + self.busy_timeout
        while True:
            try:
                self._db.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    def close(self) -> None:
        import sqlite3

        try:
            self._db.close()
        except sqlite3.Error as exc:
            raise history_error(self.path, exc) from exc

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
            raise history_error(self.path, exc) from exc

    @property
    def salt(self) -> bytes:
        if self._salt is None:
            rows = self._read("SELECT value FROM meta WHERE key = 'salt'")
            if not rows or not isinstance(rows[0][0], bytes):
                raise HistoryError(
                    tr("the send history {path} has no salt: it is damaged", path=self.path)
                )
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
    ) -> None:
        if params_hashes is not None and len(params_hashes) != len(numbers):
            raise ValueError("one params hash per number, please")
        cursor = tx.execute(
            "INSERT INTO requests (run_id, idx, ts, status, count, phones, hashes)"
            " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (run_id, idx) DO NOTHING",
            (
                run_id,
                index,
                self.clock(),
                status,
                len(numbers),
                pack_phones(numbers),
                None if params_hashes is None else pack_phones(params_hashes),
            ),
        )
        if cursor.rowcount != 1:
            return
        if len(numbers) <= SMALL_REQUEST:
            request_id = cursor.lastrowid
            tx.executemany(
                "INSERT OR IGNORE INTO phone_index VALUES (?, ?)",
                [(phone, request_id) for phone in numbers],
            )
        tx.execute("UPDATE meta SET value = value + ? WHERE key = 'numbers'", (len(numbers),))

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
            find = "SELECT id, phones FROM requests WHERE run_id = ? AND idx = ?"
            found = tx.execute(find, (run_id, index)).fetchone()
            if found is None:
                self._insert_request(tx, run_id, index, numbers, params_hashes, status)
                found = tx.execute(find, (run_id, index)).fetchone()
            request_id, packed = found
            rows: dict[str, tuple[int, str, str]] = {}
            if refused:
                match = phone_matcher(unpack_phones(packed))
                for phone, reason in refused.items():
                    recorded = match(phone)
                    if recorded is not None:
                        rows[recorded] = (request_id, recorded, str(reason)[:200])
                tx.executemany("INSERT OR REPLACE INTO refusals VALUES (?, ?, ?)", rows.values())
            tx.execute(
                "UPDATE requests SET status = ?, ret_code = ?, session_no = ?, refused = ?"
                " WHERE id = ?",
                (status, ret_code, session_no, len(rows), request_id),
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
                sent = tx.execute(
                    "SELECT phones FROM requests WHERE session_no = ?", (session_no,)
                ).fetchall()
                match = phone_matcher([p for (packed,) in sent for p in unpack_phones(packed)])
                found = [(match(r.phone), r) for r in rows]
                values = [
                    (session_no, phone, r.result, r.code, r.time, r.cost)
                    for phone, r in found
                    if phone is not None
                ]
                tx.executemany("INSERT OR REPLACE INTO receipts VALUES (?, ?, ?, ?, ?, ?)", values)
                matched += len(values)
        return matched

    # -- keeping it small -----------------------------------------------------------------

    def prune(self, older_than: timedelta) -> int:
        """Delete runs started more than ``older_than`` ago; returns how many numbers went."""
        cutoff = self.clock() - older_than.total_seconds()
        deleted = 0
        while True:
            runs = self._oldest_runs("r.started < ?", (cutoff,))
            if not runs:
                return deleted
            deleted += self._delete_runs(runs)

    def enforce_cap(self, keep_run: int | None = None) -> int:
        """If more than ``max_rows`` numbers are recorded, delete the oldest finished runs
        (never ``keep_run``, nor a run unfinished for less than a day: it may be sending)
        until at most 90 % remain; returns how many numbers went."""
        recorded = self._recorded()
        if recorded <= self.max_rows:
            return 0
        excess = recorded - int(self.max_rows * 0.9)
        busy_since = self.clock() - DAY_S
        deleted = 0
        while deleted < excess:
            runs = self._oldest_runs(
                "r.id IS NOT ? AND NOT (r.finished IS NULL AND r.started > ?)",
                (keep_run, busy_since),
            )
            victims: list[tuple[int, int]] = []
            for run in runs:
                if deleted + sum(n for _, n in victims) >= excess:
                    break
                victims.append(run)
            if not victims:
                break
            deleted += self._delete_runs(victims)
        return deleted

    def _recorded(self) -> int:
        return int(self._read("SELECT value FROM meta WHERE key = 'numbers'")[0][0])

    def _oldest_runs(self, where: str, args: Sequence[Any]) -> list[tuple[int, int]]:
        """Up to 1000 ``(run id, numbers)``, oldest first."""
        rows = self._read(
            f"""SELECT r.id, (SELECT TOTAL(count) FROM requests WHERE run_id = r.id)
            FROM runs r WHERE {where} ORDER BY r.id LIMIT 1000""",
            args,
        )
        return [(run_id, int(count)) for run_id, count in rows]

    def _delete_runs(self, runs: Sequence[tuple[int, int]]) -> int:
        """Delete ``(run id, numbers)`` runs, a few per transaction; returns the numbers."""
        deleted = 0
        start = 0
        while start < len(runs):
            batch: list[int] = []
            rows = 0
            while start < len(runs) and len(batch) < _DELETE_BATCH[1]:
                if batch and rows + runs[start][1] > _DELETE_BATCH[0]:
                    break
                batch.append(runs[start][0])
                rows += runs[start][1]
                start += 1
            deleted += self._delete_batch(batch)
        return deleted

    def _delete_batch(self, run_ids: list[int]) -> int:
        marks = ",".join("?" * len(run_ids))
        requests = f"SELECT id FROM requests WHERE run_id IN ({marks})"
        with self._write() as tx:
            small = tx.execute(
                f"SELECT id, phones FROM requests WHERE run_id IN ({marks})"
                f" AND count <= {SMALL_REQUEST}",
                run_ids,
            ).fetchall()
            tx.executemany(
                "DELETE FROM phone_index WHERE phone = ? AND request_id = ?",
                [(phone, rid) for rid, packed in small for phone in unpack_phones(packed)],
            )
            tx.execute(f"DELETE FROM refusals WHERE request_id IN ({requests})", run_ids)
            tx.execute(
                f"DELETE FROM receipts WHERE session_no IN (SELECT session_no FROM requests"
                f" WHERE run_id IN ({marks}) AND session_no IS NOT NULL)",
                run_ids,
            )
            numbers = tx.execute(
                f"SELECT TOTAL(count) FROM requests WHERE run_id IN ({marks})", run_ids
            ).fetchone()[0]
            tx.execute(f"DELETE FROM requests WHERE run_id IN ({marks})", run_ids)
            tx.execute(f"DELETE FROM runs WHERE id IN ({marks})", run_ids)
            tx.execute("UPDATE meta SET value = value - ? WHERE key = 'numbers'", (numbers,))
        return int(numbers)
