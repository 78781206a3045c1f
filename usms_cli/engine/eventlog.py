"""The ``--out`` file of ``usms listen``: JSON lines appended, fsynced in groups, keys remembered.

One writer thread owns the file. Requests hand it their lines and wait; it takes everything
that has queued up, writes it in one go and syncs once (group commit), then wakes every waiter.
So a burst of concurrent pushes costs one fsync, not one each. A key already written (or being
written) is not written again: a push UCloud retries is recorded once. The keys of the last
``remember`` events are kept, including the ones found at the end of the file at start-up.
"""

from __future__ import annotations

import asyncio
import json
import os
import queue
import stat
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path

from usms_cli.i18n import tr

REMEMBER = 100_000
"""Keys kept to recognise repeats (about 10 MB); UCloud repeats a push within seconds."""
TAIL_BYTES = 64 * 1024 * 1024
"""At start-up, keys are read from at most this much of the end of an existing file."""

_STOP = None


class EventLog:
    """An append-only JSON-lines file with group commit and duplicate suppression.

    ``open`` and ``close`` are called from the owning thread; ``record`` from one event loop.
    """

    def __init__(
        self, path: Path, *, remember: int = REMEMBER, tail_bytes: int = TAIL_BYTES
    ) -> None:
        self.path = path
        self.remember = remember
        self.tail_bytes = tail_bytes
        self.written = 0  # events written by this process
        self.repaired = False  # the file ended in a partial line; a newline was added
        self.mode: int | None = None  # permission bits of an existing file
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._pending: dict[str, asyncio.Future[None]] = {}
        self._queue: queue.SimpleQueue[
            tuple[bytes, asyncio.Future[None], asyncio.AbstractEventLoop] | None
        ] = queue.SimpleQueue()
        self._fd: int | None = None
        self._regular = False
        self._thread: threading.Thread | None = None

    # -- lifecycle (owning thread) -----------------------------------------------------------
    def open(self) -> int:
        """Open (creating it 0600) and start the writer; return how many keys were loaded.

        Raises ``OSError`` when the file cannot be opened for appending.
        """
        existed = self.path.exists()
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0)
        fd = os.open(self.path, flags, 0o600)
        info = os.fstat(fd)
        self._fd = fd
        self._regular = stat.S_ISREG(info.st_mode)
        if existed and self._regular:
            self.mode = stat.S_IMODE(info.st_mode)
        loaded = 0
        if self._regular and info.st_size:
            loaded = self._load_keys(info.st_size)
        self._thread = threading.Thread(target=self._run, name="usms-listen-writer", daemon=True)
        self._thread.start()
        return loaded

    def close(self) -> None:
        """Write what is queued, stop the writer and close the file; safe to call twice."""
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join()
            self._thread = None
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _load_keys(self, size: int) -> int:
        start = max(0, size - self.tail_bytes)
        with open(self.path, "rb") as handle:
            handle.seek(start)
            data = handle.read(size - start)
        if start:
            data = data.partition(b"\n")[2]  # the first line is cut
        loaded = 0
        for line in data.splitlines():
            try:
                key = json.loads(line).get("key")
            except (ValueError, AttributeError, RecursionError):
                continue
            if isinstance(key, str):
                self._remember(key)
                loaded += 1
        if not data.endswith(b"\n") and data:
            # A crash cut the last line: start ours on a fresh one.
            assert self._fd is not None
            os.write(self._fd, b"\n")
            self.repaired = True
        return loaded

    # -- recording (event loop) --------------------------------------------------------------
    def seen(self, key: str) -> bool:
        return key in self._seen

    async def record(self, entries: Sequence[tuple[str, bytes]]) -> list[bool]:
        """Write the entries whose key is new, durably; return which ones were new.

        Raises ``OSError`` when the file could not be written or synced (nothing of this call
        is then remembered, so a retry writes it again). A key being written by another
        request waits for that write and shares its outcome.
        """
        loop = asyncio.get_running_loop()
        fresh: list[bool] = []
        lines: list[bytes] = []
        keys: list[str] = []
        waits: list[asyncio.Future[None]] = []
        for key, line in entries:
            if key in self._seen or key in keys:
                fresh.append(False)
            elif key in self._pending:
                waits.append(self._pending[key])
                fresh.append(False)
            else:
                keys.append(key)
                lines.append(line)
                fresh.append(True)
        if keys:
            if self._thread is None:
                raise OSError(tr("the event log is closed"))
            done: asyncio.Future[None] = loop.create_future()
            for key in keys:
                self._pending[key] = done
            done.add_done_callback(lambda future: self._settled(keys, future))
            self._queue.put((b"".join(lines), done, loop))
            waits.append(done)
        for wait in waits:
            await asyncio.shield(wait)
        return fresh

    def _settled(self, keys: list[str], future: asyncio.Future[None]) -> None:
        ok = not future.cancelled() and future.exception() is None
        for key in keys:
            self._pending.pop(key, None)
            if ok:
                self._remember(key)
        if ok:
            self.written += len(keys)

    def _remember(self, key: str) -> None:
        self._seen[key] = None
        if len(self._seen) > self.remember:
            self._seen.popitem(last=False)

    # -- the writer thread -------------------------------------------------------------------
    def _run(self) -> None:
        stopping = False
        while not stopping:
            item = self._queue.get()
            if item is _STOP:
                break
            batch = [item]
            while True:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is _STOP:
                    stopping = True
                    break
                batch.append(more)
            try:
                error = self._write(b"".join(data for data, _, _ in batch))
            except Exception as exc:  # never leave a waiter hanging
                error = OSError(
                    tr("internal error while writing ({kind})", kind=type(exc).__name__)
                )
            for _, future, loop in batch:
                try:
                    loop.call_soon_threadsafe(_settle, future, error)
                except RuntimeError:  # the loop is closed: nobody waits any more
                    pass

    def _write(self, data: bytes) -> OSError | None:
        """Append and sync; on failure, cut the file back so no partial line stays behind."""
        fd = self._fd
        if fd is None:
            return OSError(tr("the event log is closed"))
        size = os.fstat(fd).st_size if self._regular else None
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if self._regular:
                os.fdatasync(fd) if hasattr(os, "fdatasync") else os.fsync(fd)
        except OSError as exc:
            if size is not None:
                try:
                    os.ftruncate(fd, size)
                except OSError:
                    pass
            return exc
        return None


def _settle(future: asyncio.Future[None], error: OSError | None) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)
