"""Parsing speed and memory: a 1,000,000-line file through `usms send --dry-run`.

Usage: python benchmarks/parse.py [--lines 1000000] [--python PATH]

The file mixes the spellings people use (plain, +86, 0086-, (86), 86, dashes, dots, spaces) with
10% duplicates. Goal on a 2-core machine: <= 3 s wall time and <= 250 MiB peak memory. As a
baseline measured in the same run it also times `wc -l` and a bare `python -c "import typer"`
start-up, and prints the ratios.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import subprocess
import sys
import tempfile

# Measure an installed tool: let it cache bytecode (see benchmarks/startup.py).
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
import time

STYLES = [
    "{n}",
    "+86 {a} {b} {c}",
    "0086-{n}",
    "(86){n}",
    "86{n}",
    "{a}-{b}-{c}",
    "{a}.{b}.{c}",
    "{n}",
    "{n}",
    "{n}",
]


def make_file(path: str, lines: int) -> int:
    rng = random.Random(2026)
    unique = int(lines * 0.9)
    numbers = [f"1{rng.randint(3, 9)}{rng.randrange(10**9):09d}" for _ in range(unique)]
    numbers += rng.sample(numbers, lines - unique)
    rng.shuffle(numbers)
    with open(path, "w", encoding="utf-8") as handle:
        for number in numbers:
            style = rng.choice(STYLES)
            handle.write(style.format(n=number, a=number[:3], b=number[3:7], c=number[7:]) + "\n")
    return len(set(numbers))


def timed(command: list[str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS of the child in MiB, stdout."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{command[:3]} failed: {done.stderr[-800:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, max(peak, before) / 1024, done.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--python", default=sys.executable)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "numbers.txt")
        unique = make_file(path, args.lines)
        baseline, _, _ = timed([args.python, "-c", "import typer"])
        wc, _, _ = timed(["wc", "-l", path])
        command = [args.python, "-m", "usms_cli", "send", "--dry-run", "-t", "UTA1", "-s", "BB"]
        command += ["-f", path]
        wall, peak, out = timed(command)
        json_wall, json_peak, json_out = timed([*command, "--json"])
    import json

    assert f"Numbers    {unique:,}" in out, out[:500]
    report = json.loads(json_out)
    assert report["recipients"] == unique, (report["recipients"], unique)
    assert report["duplicates_removed"] == args.lines - unique
    print(f"{args.lines:,} lines, {unique:,} unique, {report['request_count']} requests")
    print(f"  usms send --dry-run         {wall:6.2f} s   peak {peak:6.1f} MiB")
    print(f"  usms send --dry-run --json  {json_wall:6.2f} s   peak {json_peak:6.1f} MiB")
    print(f"  baseline import typer {baseline:5.2f} s  -> ratio {wall / baseline:5.1f}x")
    print(f"  baseline wc -l        {wc:5.2f} s")
    verdict = "met" if wall <= 3.0 and peak <= 250 else "NOT met"
    print(f"goal <= 3 s and <= 250 MiB: {verdict}")


if __name__ == "__main__":
    main()
