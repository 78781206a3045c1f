"""Send history: query speed on a big file, and what recording costs a batch.

Usage: python benchmarks/history.py [--numbers 1000000] [--queries 2000] [--latency 150]
                                    [--concurrency 8] [--repeat 3] [--keep DIR]

1. Builds a history of ``--numbers`` recorded numbers (default 1,000,000) in a temp folder
   through the real API (runs of 5,000 numbers in requests of 1,000, phones drawn from a pool
   of 300,000 so a phone has a few sends), and prints the build time and file size.
2. Times ``by_phone`` on a freshly opened file: the first (cold) query, then the median, p99
   and max of ``--queries`` random phones. Goal: median under 100 ms (PASS/FAIL). Then
   ``recent_sends`` (what the repeat guard and limits read) for 1 and for 100,000 numbers
   with the whole history inside the window (worst case: 1,000,000 sends in 24 h).
3. Recording overhead on a 100,000-number batch (100 requests of 1,000): a loop shaped like
   the sender (``--concurrency`` requests in flight, each a ``--latency`` ms sleep standing
   for the HTTP call; the main thread records before dispatch and after each answer) is run
   without a history and with one (on the big file from step 1), ``--repeat`` times each,
   alternating; the median wall times are compared. Goal: recording adds at most 5 % to the
   batch's wall time (PASS/FAIL). Also prints the time spent inside history calls, per 1,000
   numbers and as a share of the bare wall time: the upper bound if recording overlapped
   nothing (it mostly overlaps requests in flight). Defaults match benchmarks/batch.py.
"""

from __future__ import annotations

import argparse
import queue
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from usms_cli.engine.history import History  # noqa: E402

POOL = 300_000
RUN_SIZE = 5_000
REQUEST_SIZE = 1_000


def phone_pool(seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    return [f"1{rng.choice('3456789')}{rng.randrange(10**9):09d}" for _ in range(POOL)]


def record_run(history: History, phones: list[str], template: str, size: int) -> None:
    digest = history.params_hash(template, "Acme", ["123456"])
    run = history.start_run("SendUSMSMessage", template, "Acme", "org-1", digest, len(phones))
    for index, start in enumerate(range(0, len(phones), size), start=1):
        chunk = phones[start : start + size]
        history.before_request(run, index, chunk)
        history.after_request(run, index, chunk, "accepted", 0, f"SN-{run}-{index}")
    history.finish_run(run, 0)


def build(path: Path, total: int, pool: list[str], size: int) -> float:
    rng = random.Random(11)
    history = History.open(path, max_rows=total * 2)
    started = time.perf_counter()
    done = 0
    while done < total:
        run_size = min(RUN_SIZE, total - done)
        record_run(history, rng.sample(pool, run_size), f"UTA{rng.randrange(20)}", size)
        done += run_size
    history.close()
    return time.perf_counter() - started


def time_by_phone(path: Path, pool: list[str], queries: int) -> tuple[float, list[float]]:
    rng = random.Random(13)
    history = History.open(path)
    started = time.perf_counter()
    history.by_phone(rng.choice(pool))
    cold = time.perf_counter() - started
    times = []
    found = 0
    for _ in range(queries):
        phone = rng.choice(pool)
        started = time.perf_counter()
        found += len(history.by_phone(phone))
        times.append(time.perf_counter() - started)
    history.close()
    print(f"  {found / queries:.1f} sends per phone on average")
    return cold, times


def simulated_batch(
    history: History | None, phones: list[str], latency: float, concurrency: int
) -> tuple[float, float]:
    """(wall seconds, seconds spent recording) of a sender-shaped loop over ``phones``."""
    chunks = [phones[i : i + REQUEST_SIZE] for i in range(0, len(phones), REQUEST_SIZE)]
    tasks: queue.Queue[int | None] = queue.Queue()
    answers: queue.Queue[int] = queue.Queue()

    def work() -> None:
        while (index := tasks.get()) is not None:
            time.sleep(latency)
            answers.put(index)

    workers = [threading.Thread(target=work, daemon=True) for _ in range(concurrency)]
    for worker in workers:
        worker.start()
    recording = 0.0
    started = time.perf_counter()
    run = 0
    if history is not None:
        mark = time.perf_counter()
        digest = history.params_hash("UTA1", "Acme", ["123456"])
        run = history.start_run("SendUSMSMessage", "UTA1", "Acme", None, digest, len(phones))
        recording += time.perf_counter() - mark
    next_index = in_flight = 0
    while next_index < len(chunks) or in_flight:
        while next_index < len(chunks) and in_flight < concurrency:
            if history is not None:
                mark = time.perf_counter()
                history.before_request(run, next_index + 1, chunks[next_index])
                recording += time.perf_counter() - mark
            tasks.put(next_index)
            next_index += 1
            in_flight += 1
        index = answers.get()
        in_flight -= 1
        if history is not None:
            mark = time.perf_counter()
            history.after_request(run, index + 1, chunks[index], "accepted", 0, f"SN-{index}")
            recording += time.perf_counter() - mark
    if history is not None:
        mark = time.perf_counter()
        history.finish_run(run, 0)
        recording += time.perf_counter() - mark
    wall = time.perf_counter() - started
    for _ in workers:
        tasks.put(None)
    return wall, recording


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--numbers", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=2_000)
    parser.add_argument("--latency", type=float, default=150.0, help="ms per simulated request")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3, help="batches with and without")
    parser.add_argument(
        "--request-size", type=int, default=REQUEST_SIZE, help="numbers per request in step 1"
    )
    parser.add_argument("--keep", type=Path, help="build the history in this folder and keep it")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="usms-history-bench-"))
    path = folder / "history.sqlite3"
    pool = phone_pool()

    print(f"1. building a history of {args.numbers:,} numbers in {path}")
    seconds = build(path, args.numbers, pool, args.request_size)
    size = sum(p.stat().st_size for p in folder.glob("history.sqlite3*")) / 2**20
    print(f"  {seconds:.1f} s ({seconds / args.numbers * 1e6:.1f} µs per number), {size:.0f} MiB")

    print(f"2. by_phone, {args.queries} random phones")
    cold, times = time_by_phone(path, pool, args.queries)
    median = statistics.median(times) * 1000
    p99 = sorted(times)[int(len(times) * 0.99)] * 1000
    verdict = "PASS" if median < 100 else "FAIL"
    print(f"  cold {cold * 1000:.2f} ms, median {median:.3f} ms, p99 {p99:.3f} ms,")
    print(f"  max {max(times) * 1000:.2f} ms  -> {verdict} (median < 100 ms)")
    history = History.open(path)
    rng = random.Random(19)
    for count in (1, 100_000):
        asked = rng.sample(pool, count)
        started = time.perf_counter()
        found = history.recent_sends(asked, since=0)
        took = (time.perf_counter() - started) * 1000
        print(f"  recent_sends of {count:,} number(s) over the whole history: {took:.0f} ms,")
        print(f"    {len(found):,} earlier sends found (the guard before a send)")
    history.close()

    print(
        f"3. a 100,000-number batch, 100 requests, {args.concurrency} in flight,"
        f" {args.latency:.0f} ms each"
    )
    batch = random.Random(17).sample(pool, 100_000)
    latency = args.latency / 1000
    bare_runs: list[float] = []
    recorded_runs: list[float] = []
    recordings: list[float] = []
    history = History.open(path, max_rows=args.numbers * 2)
    for _ in range(args.repeat):  # alternate, so drift hits both alike
        bare_runs.append(simulated_batch(None, batch, latency, args.concurrency)[0])
        wall, recording = simulated_batch(history, batch, latency, args.concurrency)
        recorded_runs.append(wall)
        recordings.append(recording)
    history.close()
    bare = statistics.median(bare_runs)
    recorded = statistics.median(recorded_runs)
    recording = statistics.median(recordings)
    ratio = recorded / bare
    print(
        f"  wall, median of {args.repeat}: without history {bare:.3f} s,"
        f" with history {recorded:.3f} s: ratio {ratio:.3f}"
        f" -> {'PASS' if ratio <= 1.05 else 'FAIL'} (at most 1.05)"
    )
    print(
        f"  time spent in history calls {recording * 1000:.0f} ms"
        f" ({recording * 1000 / 100:.2f} ms per 1,000 numbers), {recording / bare * 100:.1f} %"
        " of the bare wall time: the most recording could add if nothing overlapped"
    )
    if args.keep is None:
        for file in folder.iterdir():
            file.unlink()
        folder.rmdir()


if __name__ == "__main__":
    main()
