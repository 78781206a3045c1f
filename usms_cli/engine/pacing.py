"""Request pacing shared by all workers of a batch: a rate cap and a throttle brake.

``--rate R`` spaces request starts at least 1/R seconds apart, across every worker. When the
API throttles (HTTP 429, RetCode 153) every worker pauses until the Retry-After/backoff time
has passed, and the spacing between requests widens; it narrows again as requests succeed.
So throttling slows the whole batch down, not just the one worker that was told.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class Pacer:
    MAX_PENALTY = 5.0  # seconds between requests, at most, after repeated throttling

    def __init__(
        self,
        rate: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate is not None and not rate > 0:
            raise ValueError("rate must be positive")
        self.interval = 1.0 / rate if rate else 0.0
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next = 0.0
        self._paused_until = 0.0
        self._penalty = 0.0
        self.throttle_events = 0

    def wait_turn(self) -> None:
        """Block until this caller may start a request."""
        while True:
            with self._lock:
                now = self._clock()
                start = max(now, self._next, self._paused_until)
                self._next = start + max(self.interval, self._penalty)
            if start > now:
                self._sleep(start - now)
            with self._lock:
                if self._clock() >= self._paused_until:
                    return

    def throttled(self, delay: float) -> None:
        """The API said slow down: pause everyone for ``delay`` and widen the spacing."""
        with self._lock:
            self.throttle_events += 1
            self._paused_until = max(self._paused_until, self._clock() + delay)
            self._penalty = min(self.MAX_PENALTY, max(self._penalty * 2, 0.1))

    def succeeded(self) -> None:
        with self._lock:
            self._penalty = 0.0 if self._penalty < 0.01 else self._penalty * 0.8
