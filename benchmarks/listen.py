"""Push throughput of `usms listen`: status reports per second on loopback, --out fsynced.

Usage: python benchmarks/listen.py [--events 5000] [--threads 20] [--python PATH]

Starts `usms listen --port 0 -q` (a separate process) writing to a temporary --out file, then
sends EVENTS status-report pushes (one report each, as UCloud does) from THREADS client
threads, twice: once opening a new connection per push, once over keep-alive connections.
Every answer must be {"code":0,"message":"ok"}, and the file must then hold exactly EVENTS
lines per run, all distinct. It prints events per second for each run and PASS when both reach
the goal (1,000 events/s), FAIL otherwise (exit 1). Every push is written and synced before it
is answered; concurrent pushes share one fsync (group commit).
"""

from __future__ import annotations

import argparse
import http.client
import json
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

GOAL = 1000.0
OK = b'{"code":0,"message":"ok"}'


def push(run: str, n: int) -> bytes:
    item = {
        "SessionNo": f"{run}-{n:08d}",
        "Phone": "13800008000",
        "CostCount": 1,
        "ReceiptTime": 1563867000,
        "ReceiptResult": "发送成功",
        "ReceiptCode": "Delivrd",
        "ReceiptDesc": "用户接收成功",
        "UserId": "bench",
    }
    return json.dumps({"MsgType": 2, "Data": [item]}, ensure_ascii=False).encode()


def start(python: str, out: Path) -> tuple[subprocess.Popen[str], str, int, str]:
    proc = subprocess.Popen(
        [python, "-m", "usms_cli", "listen", "--port", "0", "-q", "--out", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    line = proc.stderr.readline()
    match = re.search(r"http://([0-9.]+):(\d+)(/\S*)", line)
    if not match:
        proc.kill()
        raise SystemExit(f"usms listen did not start: {line}{proc.stderr.read()}")
    threading.Thread(target=proc.stderr.read, daemon=True).start()  # keep the pipe drained
    return proc, match.group(1), int(match.group(2)), match.group(3)


def run(
    host: str, port: int, path: str, name: str, events: int, threads: int, keep_alive: bool
) -> tuple[float, int]:
    """Send the pushes; return (seconds, failures)."""
    bodies = [push(name, n) for n in range(events)]
    failures = 0
    lock = threading.Lock()
    counter = iter(range(events))

    def worker() -> None:
        nonlocal failures
        connection = http.client.HTTPConnection(host, port, timeout=30)
        while True:
            with lock:
                n = next(counter, None)
            if n is None:
                break
            if not keep_alive:
                connection = http.client.HTTPConnection(host, port, timeout=30)
            connection.request("POST", path, body=bodies[n])
            response = connection.getresponse()
            answer = response.read()
            if not keep_alive:
                connection.close()
            if response.status != 200 or answer != OK:
                with lock:
                    failures += 1
        connection.close()

    began = time.perf_counter()
    workers = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    return time.perf_counter() - began, failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--threads", type=int, default=20)
    parser.add_argument("--python", default=sys.executable)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "events.jsonl"
        proc, host, port, path = start(args.python, out)
        results = []
        try:
            for name, keep_alive in (("new-connection", False), ("keep-alive", True)):
                seconds, failures = run(
                    host, port, path, name, args.events, args.threads, keep_alive
                )
                results.append((name, args.events / seconds, failures))
        finally:
            proc.terminate()
            code = proc.wait(timeout=30)
        keys = [json.loads(line)["SessionNo"] for line in out.read_text().splitlines()]
    exact = len(keys) == len(set(keys)) == 2 * args.events
    print(f"usms listen, {args.events:,} pushes per run, {args.threads} client threads:")
    for name, rate, failures in results:
        print(f"  {name:15} {rate:8,.0f} events/s   {failures} failed answers")
    print(f"  --out holds {len(keys):,} lines, each event once: {exact}; exit status {code}")
    passed = exact and code == 0 and all(r >= GOAL and not f for _, r, f in results)
    print(f"{'PASS' if passed else 'FAIL'} (goal >= {GOAL:,.0f} events/s, every event once)")
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
