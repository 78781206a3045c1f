"""The suppression list: numbers that asked to get no more marketing SMS, kept in the send
history's SQLite file (table ``suppressed``), so one ``USMS_HISTORY`` setting covers both.

A number is added when ``usms listen`` records an opt-out reply (``source`` ``reply``, the
reply text in ``detail``) or by hand with ``usms suppress add`` (``source`` ``hand``); it is
removed only by ``usms suppress remove``. Phones are stored in the normalised form usms sends
(``13800000000``, ``(60)123456789``), so a reply pushed as ``8613800000000`` matches a send to
``13800000000``.

The table is created on first use (``CREATE TABLE IF NOT EXISTS``); it does not change the
history's schema version, so an older usms still opens the file and ignores the table.
Errors are :class:`HistoryError` (exit 2), as for the history.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from pathlib import Path

from usms_cli.core.suppression import Suppressed
from usms_cli.engine.history import History

__all__ = ["Suppressed", "SuppressionList"]

_TABLE = """CREATE TABLE IF NOT EXISTS suppressed (
    phone TEXT PRIMARY KEY, added REAL NOT NULL, source TEXT NOT NULL, detail TEXT
    ) WITHOUT ROWID"""
_QUERY_BATCH = 500  # phones per IN (...) query


class SuppressionList(History):
    """The history file, seen through its ``suppressed`` table. Open with :meth:`open`."""

    @classmethod
    def at(cls, path: Path) -> SuppressionList:
        """Open (creating the file and the table if needed) the list in history file ``path``."""
        store = cls.open(path)
        assert isinstance(store, SuppressionList)
        return store

    def _set_up(self) -> None:
        super()._set_up()
        with self._write() as tx:
            tx.execute(_TABLE)

    def add(self, phones: Iterable[str], source: str, detail: str = "") -> list[str]:
        """Add numbers (already normalised); returns those that were not on the list. A
        number already there keeps its first date and reason."""
        added: list[str] = []
        with self._write() as tx:
            for phone in dict.fromkeys(phones):
                cursor = tx.execute(
                    "INSERT OR IGNORE INTO suppressed VALUES (?, ?, ?, ?)",
                    (phone, self.clock(), source, detail[:500]),
                )
                if cursor.rowcount == 1:
                    added.append(phone)
        return added

    def remove(self, phones: Iterable[str]) -> list[str]:
        """Remove numbers; returns those that were on the list."""
        removed: list[str] = []
        with self._write() as tx:
            for phone in dict.fromkeys(phones):
                cursor = tx.execute("DELETE FROM suppressed WHERE phone = ?", (phone,))
                if cursor.rowcount == 1:
                    removed.append(phone)
        return removed

    def entries(self) -> list[Suppressed]:
        """The whole list, oldest first."""
        rows = self._read("SELECT phone, added, source, detail FROM suppressed ORDER BY added")
        return [Suppressed(p, a, s, d or "") for p, a, s, d in rows]

    def among(self, phones: Collection[str]) -> list[str]:
        """Which of ``phones`` are on the list (in the order given)."""
        found: set[str] = set()
        ordered = list(dict.fromkeys(phones))
        for start in range(0, len(ordered), _QUERY_BATCH):
            batch = ordered[start : start + _QUERY_BATCH]
            marks = ",".join("?" * len(batch))
            rows = self._read(f"SELECT phone FROM suppressed WHERE phone IN ({marks})", batch)
            found.update(phone for (phone,) in rows)
        return [phone for phone in ordered if phone in found]

    def count(self) -> int:
        return int(self._read("SELECT COUNT(*) FROM suppressed")[0][0])
