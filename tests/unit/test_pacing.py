"""The pacer shared by all workers of a batch (usms_cli.engine.pacing): the --rate cap and the
throttle brake. Driven with an injected clock and sleep; one test uses real threads."""

from __future__ import annotations

import threading
import time

import pytest

from tests.unit.conftest import FakeTime
from usms_cli.engine.pacing import Pacer


def pacer(rate: float | None = None) -> tuple[Pacer, FakeTime]:
    fake = FakeTime()
    return Pacer(rate, clock=fake.clock, sleep=fake.sleep), fake


def starts(p: Pacer, fake: FakeTime, count: int) -> list[float]:
    """When each of ``count`` back-to-back requests may start."""
    moments = []
    for _ in range(count):
        p.wait_turn()
        moments.append(round(fake.now, 6))
    return moments


def test_without_a_rate_nobody_waits() -> None:
    p, fake = pacer()
    assert starts(p, fake, 5) == [0.0] * 5
    assert fake.sleeps == []


def test_a_rate_spaces_request_starts() -> None:
    p, fake = pacer(rate=4)
    assert starts(p, fake, 5) == [0.0, 0.25, 0.5, 0.75, 1.0]


def test_an_idle_pause_does_not_allow_a_burst_afterwards() -> None:
    p, fake = pacer(rate=2)
    starts(p, fake, 2)
    fake.now += 60  # nothing to send for a minute
    assert starts(p, fake, 3) == [60.5, 61.0, 61.5]


@pytest.mark.parametrize("rate", [0, -1.0])
def test_a_rate_must_be_positive(rate: float) -> None:
    with pytest.raises(ValueError, match="positive"):
        Pacer(rate)


def test_throttling_pauses_the_next_request_and_widens_the_spacing() -> None:
    p, fake = pacer()
    p.throttled(2.0)  # Retry-After: 2
    assert p.throttle_events == 1
    assert starts(p, fake, 3) == [2.0, 2.1, 2.2]  # then 0.1 s apart
    p.throttled(0.0)
    p.throttled(0.0)
    assert starts(p, fake, 2) == [2.3, 2.7]  # each throttle doubles the gap: 0.4 s
    for _ in range(10):
        p.throttled(0.0)
    assert starts(p, fake, 2) == [3.1, 8.1]  # but never beyond 5 s between requests


def test_successes_narrow_the_spacing_again_down_to_none() -> None:
    p, fake = pacer()
    p.throttled(0.0)
    p.throttled(0.0)
    gaps = []
    for _ in range(12):
        before = fake.now
        p.wait_turn()
        gaps.append(round(fake.now - before, 6))
        p.succeeded()
    assert gaps[1] == 0.2 and gaps[2] == 0.16  # 0.2, then 20 % less after each success
    assert all(a >= b for a, b in zip(gaps[1:], gaps[2:], strict=False))
    for _ in range(40):
        p.succeeded()
    fake.sleeps.clear()
    starts(p, fake, 3)
    assert sum(fake.sleeps) < 0.01 * 3  # back to full speed


def test_the_rate_still_holds_while_throttled_spacing_is_narrower() -> None:
    p, fake = pacer(rate=2)  # 0.5 s apart
    p.throttled(0.0)  # penalty 0.1 s: the rate is the larger gap
    assert starts(p, fake, 3) == [0.0, 0.5, 1.0]


def test_one_worker_being_throttled_pauses_every_worker() -> None:
    """Real threads and a real clock: one worker is told to slow down; two others, which were
    not, wait too, and then go one after the other. (A thread may wake late under load, never
    early: so only lower bounds are checked.)"""
    shared = Pacer()
    began: list[float] = []
    throttled_at = time.monotonic()
    shared.throttled(0.3)

    def worker() -> None:
        shared.wait_turn()
        began.append(time.monotonic())

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    first, second = sorted(began)
    assert first >= throttled_at + 0.3 - 0.005
    assert second >= throttled_at + 0.4 - 0.005  # 0.1 s apart after a throttle


def test_the_rate_is_shared_across_threads() -> None:
    shared = Pacer(rate=20)  # 50 ms apart, all workers together
    began: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(3):
            shared.wait_turn()
            with lock:
                began.append(time.monotonic())

    start = time.monotonic()
    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(5)
    assert len(began) == 9
    for k, moment in enumerate(sorted(began)):  # the k-th start comes k/20 s after the first
        assert moment >= start + k * 0.05 - 0.005, (k, moment - start)
