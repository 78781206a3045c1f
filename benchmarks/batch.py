"""Batch throughput: 100,000 unique numbers through a sandbox that answers in 150 ms.

Usage: python benchmarks/batch.py [--numbers 100000] [--latency 150] [--python PATH]

Starts `usms sandbox` (a separate process, quiet) with the given latency, then sends the same
file with `usms send --concurrency 1, 4 and 8`, and, when ucloud-sdk-python3 is installed,
through the official SDK in a plain loop of send_usms_message calls (1000 numbers each).
For each run it prints wall time, requests per second, the client's and the sandbox's CPU time
per request, and the client's peak memory; then the ratios against concurrency 1 and the SDK
loop, measured in the same run, and the cost of recording the send history (concurrency 8
with and without it). Goals: concurrency 8 >= 6x concurrency 1 and >= 5x the SDK loop, the
history at most 1.05x, with every number accepted exactly once per run.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile

# Measure an installed tool: let it cache bytecode (see benchmarks/startup.py).
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
import time
from dataclasses import dataclass

SDK_LOOP = """
import os, sys
from ucloud.services.usms.client import USMSClient
client = USMSClient({
    "base_url": os.environ["UCLOUD_API_BASE_URL"], "project_id": "org-sandbox",
    "public_key": os.environ["UCLOUD_PUBLIC_KEY"], "private_key": os.environ["UCLOUD_PRIVATE_KEY"],
})
numbers = [line.strip() for line in open(sys.argv[1]) if line.strip()]
for start in range(0, len(numbers), 1000):
    client.send_usms_message({
        "PhoneNumbers": numbers[start:start + 1000], "TemplateId": "UTSANDBOX1",
        "SigContent": "USMSSandbox", "TemplateParams": ["123456"],
    })
"""


CREATE_HISTORY = """
import sys
from usms_cli.engine.history import History
History.open(sys.argv[1]).close()
"""


@dataclass
class Run:
    name: str
    wall: float
    cpu: float
    peak_mib: float
    sandbox_cpu: float
    requests: int


def proc_cpu(pid: int) -> float:
    """CPU seconds (user + system) used so far by a running process (Linux /proc)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def start_sandbox(python: str, latency: int) -> tuple[subprocess.Popen[str], dict[str, str]]:
    proc = subprocess.Popen(
        [
            python,
            "-m",
            "usms_cli",
            "sandbox",
            "--port",
            "0",
            "--quiet",
            "--latency",
            str(latency),
            "--receipt-delay",
            "3600",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    env: dict[str, str] = {}
    while "USMS_SIG_CONTENT" not in env:
        line = proc.stdout.readline()
        if not line:
            raise SystemExit("the sandbox did not start")
        match = re.match(r"\s*export (\w+)=(.*)", line)
        if match:
            env[match.group(1)] = match.group(2).strip().strip("'\"")
    return proc, env


def run(name: str, command: list[str], env: dict[str, str], sandbox_pid: int, requests: int) -> Run:
    before = proc_cpu(sandbox_pid)
    with tempfile.TemporaryFile() as errors:  # a file, not a pipe: chatty clients never block
        start = time.perf_counter()
        child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(child.pid, 0)
        wall = time.perf_counter() - start
        child.returncode = os.waitstatus_to_exitcode(status)
        errors.seek(0)
        stderr = errors.read().decode(errors="replace")
    if child.returncode != 0:
        raise SystemExit(f"{name} failed ({child.returncode}): {stderr[-800:]}")
    return Run(
        name,
        wall,
        usage.ru_utime + usage.ru_stime,
        usage.ru_maxrss / 1024,
        proc_cpu(sandbox_pid) - before,
        requests,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--numbers", type=int, default=100_000)
    parser.add_argument("--latency", type=int, default=150, help="sandbox latency, ms")
    parser.add_argument("--python", default=sys.executable)
    args = parser.parse_args()
    requests = (args.numbers + 999) // 1000
    sandbox, sandbox_env = start_sandbox(args.python, args.latency)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UCLOUD_", "USMS_"))}
    env.update(sandbox_env)
    runs: list[Run] = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "numbers.txt")
            with open(path, "w", encoding="ascii") as handle:
                for i in range(args.numbers):
                    handle.write(f"139{i:08d}\n")
            cases = [(1, True), (4, True), (8, True), (8, False)]
            for concurrency, recorded in cases:
                # each run its own history (the same numbers again would be repeats)
                history = os.path.join(tmp, f"history-{concurrency}.sqlite3")
                if recorded:  # a user's history exists already: create it outside the timing
                    subprocess.run(
                        [args.python, "-c", CREATE_HISTORY, history], check=True, env=env
                    )
                run_env = {**env, "USMS_HISTORY": history if recorded else "off"}
                name = f"usms -c {concurrency}" + ("" if recorded else " no-hist")
                command = [
                    args.python,
                    "-m",
                    "usms_cli",
                    "send",
                    "-q",
                    "-p",
                    "123456",
                    "-f",
                    path,
                    "--concurrency",
                    str(concurrency),
                ]
                runs.append(run(name, command, run_env, sandbox.pid, requests))
            has_sdk = (
                subprocess.run([args.python, "-c", "import ucloud"], capture_output=True).returncode
                == 0
            )
            if has_sdk:
                runs.append(
                    run("SDK loop", [args.python, "-c", SDK_LOOP, path], env, sandbox.pid, requests)
                )
    finally:
        sandbox.terminate()
        sandbox.wait(10)
    print(
        f"{args.numbers:,} numbers, {requests} requests, sandbox latency {args.latency} ms, "
        f"{os.cpu_count()} CPUs"
    )
    print(
        f"  {'run':<17} {'wall s':>7} {'req/s':>7} {'client CPU ms/req':>18} "
        f"{'sandbox CPU ms/req':>19} {'client peak MiB':>16}"
    )
    for r in runs:
        print(
            f"  {r.name:<17} {r.wall:7.2f} {r.requests / r.wall:7.1f} "
            f"{1000 * r.cpu / r.requests:18.1f} {1000 * r.sandbox_cpu / r.requests:19.1f} "
            f"{r.peak_mib:16.1f}"
        )
    by_name = {r.name: r for r in runs}
    c1, c8 = by_name["usms -c 1"], by_name["usms -c 8"]
    print(f"  concurrency 8 vs 1:   {c1.wall / c8.wall:5.2f}x faster (goal >= 6x)")
    bare = by_name["usms -c 8 no-hist"]
    print(
        f"  history recording:    {c8.wall / bare.wall:5.3f}x the wall time without it "
        "(goal <= 1.05x)"
    )
    if "SDK loop" in by_name:
        print(
            f"  concurrency 8 vs SDK: {by_name['SDK loop'].wall / c8.wall:5.2f}x faster "
            "(goal >= 5x)"
        )


if __name__ == "__main__":
    main()
