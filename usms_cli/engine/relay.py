"""Work done for each recorded event away from the answer to UCloud: ``--exec``, ``--forward-to``
and in-process hooks, each in its own thread, in order, with bounded retries.

A :class:`Worker` owns one thread and a bounded queue. A failed attempt is logged and retried
after a backoff (1 s, 2 s, …) up to ``attempts`` times in all; then the item is given up
(logged). The events are already in ``--out``, so nothing is lost by a failure here.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import threading
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

from usms_cli.i18n import tr

T = TypeVar("T")

QUEUE_SIZE = 10_000
"""Items waiting per worker; beyond that new ones are skipped (and logged)."""


class RelayFailed(Exception):
    """One attempt failed; the message is safe to log (no URL credentials, no event data)."""


class Worker(Generic[T]):
    """Call ``action(item)`` for each submitted item, in order, in one background thread."""

    def __init__(
        self,
        name: str,
        action: Callable[[T], None],
        *,
        log: Callable[[str], None],
        describe: Callable[[T], str] = str,
        attempts: int = 1,
        backoff: float = 1.0,
        queue_size: int = QUEUE_SIZE,
    ) -> None:
        self.name = name
        self.action = action
        self.log = log
        self.describe = describe
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.done = 0
        self.failed = 0
        self.skipped = 0
        self.given_up = 0  # skipped because of stop()
        self._queue: queue.Queue[T | None] = queue.Queue(maxsize=queue_size)
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"usms-listen-{name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def submit(self, item: T) -> bool:
        """Queue an item; ``False`` (and a log line) when the queue is full."""
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            self.skipped += 1
            self.log(
                tr(
                    "{name}: {item} skipped: {count:,} waiting",
                    name=self.name,
                    item=self.describe(item),
                    count=self._queue.maxsize,
                )
            )
            return False
        return True

    def stop(self, budget: float, hand: float) -> int:
        """Work through the queue for up to ``budget`` seconds; then give up the rest (no more
        retries), wait up to ``hand`` seconds for the item in hand, and return how many items
        were given up."""
        if self._thread.ident is None:  # never started
            return 0
        self._queue.put(None)
        self._thread.join(budget)
        if self._thread.is_alive():
            self._stopping.set()
            self._thread.join(hand)
        self._stopping.set()
        return self.given_up

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            if self._stopping.is_set():
                self.given_up += 1
                self.skipped += 1
                continue
            self._attempt(item)

    def _attempt(self, item: T) -> None:
        for attempt in range(1, self.attempts + 1):
            try:
                self.action(item)
            except Exception as exc:
                reason = str(exc) if isinstance(exc, RelayFailed) else type(exc).__name__
                last = attempt == self.attempts or self._stopping.is_set()
                if last:
                    then = tr("giving up")
                else:
                    then = tr("retrying in {seconds:g} s", seconds=self._delay(attempt))
                self.log(
                    tr(
                        "{name}: {item} failed ({reason}), attempt {attempt}/{attempts}; {then}",
                        name=self.name,
                        item=self.describe(item),
                        reason=reason,
                        attempt=attempt,
                        attempts=self.attempts,
                        then=then,
                    )
                )
                if last or self._stopping.wait(self._delay(attempt)):
                    self.failed += 1
                    return
            else:
                self.done += 1
                return

    def _delay(self, attempt: int) -> float:
        return float(self.backoff * 2 ** (attempt - 1))


def run_command(
    command: str, data: bytes, *, timeout: float, env: Mapping[str, str] | None = None
) -> None:
    """Run ``command`` with the shell, ``data`` on its stdin, its stdout sent to our stderr
    (stdout is for results). Raises :class:`RelayFailed` on a non-zero exit or a timeout; on a
    timeout the command and everything it started is killed."""
    try:
        proc = subprocess.Popen(
            command,
            shell=True,
            stdin=subprocess.PIPE,
            stdout=2,
            start_new_session=True,
            env={**os.environ, **(env or {})},
        )
    except OSError as exc:
        raise RelayFailed(tr("cannot start: {reason}", reason=exc.strerror or exc)) from None
    try:
        proc.communicate(data, timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc)
        raise RelayFailed(tr("timed out after {seconds:g} s, stopped", seconds=timeout)) from None
    except BaseException:
        _kill_group(proc)
        raise
    if proc.returncode != 0:
        raise RelayFailed(tr("exit status {status}", status=proc.returncode))


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


class Forwarder:
    """POST each event's JSON to one URL over a keep-alive session (used from one thread)."""

    def __init__(self, url: str, *, timeout: float) -> None:
        self.url = url
        self.timeout = timeout
        self._session: Any = None

    def __call__(self, item: tuple[str, bytes]) -> None:
        import requests

        key, data = item
        if self._session is None:
            self._session = requests.Session()
        try:
            response = self._session.post(
                self.url,
                data=data,
                headers={"Content-Type": "application/json", "X-Usms-Event-Key": key},
                timeout=self.timeout,
                allow_redirects=False,
            )
            response.close()
        except requests.Timeout:
            raise RelayFailed(tr("no answer within {seconds:g} s", seconds=self.timeout)) from None
        except requests.ConnectionError:
            raise RelayFailed(tr("could not connect")) from None
        except requests.RequestException as exc:
            raise RelayFailed(type(exc).__name__) from None
        if not 200 <= response.status_code < 300:
            raise RelayFailed(f"HTTP {response.status_code}")

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
