"""Interruptions at random points (issue 7): real ``python -m usms_cli send`` processes against an
in-process sandbox with latency, stopped by SIGINT, SIGTERM (once or twice) and SIGKILL, then
resumed from the same journal. Whatever happens, no number is ever accepted twice, every number
is either accepted or held back as unknown, and the journal stays readable.

Exit codes are compared as a shell sees them: a process killed by signal N counts as 128 + N
(a SIGTERM that arrives before usms installs its handler simply terminates the process: 143).
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import child_env, env_for, numbers
from usms_cli.sandbox import SandboxConfig, SandboxServer

COUNT = 12_000
SEED = 20261107
SIGNAL_CODES: dict[int, int] = {signal.SIGINT: 130, signal.SIGTERM: 143}


def start_send(
    server: SandboxServer,
    *args: str,
    stdin: int | None = subprocess.DEVNULL,
    env: dict[str, str] | None = None,
) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "usms_cli", "send", "-t", "UTSANDBOX1", "-s", "USMSSandbox"]
    return subprocess.Popen(
        [*command, "-p", "1", *args],
        env=env if env is not None else child_env(**env_for(server)),
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@contextmanager
def cleaned_up(proc: subprocess.Popen[str]) -> Iterator[subprocess.Popen[str]]:
    """Whatever the test does, the child does not outlive it."""
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate(timeout=10)
        for stream in (proc.stdin, proc.stdout, proc.stderr):
            if stream is not None and not stream.closed:
                stream.close()


def assert_clean_stderr(err: str) -> None:
    for marker in ("Traceback", "KeyboardInterrupt", "Fatal Python error"):
        assert marker not in err, err[-3000:]


def shell_code(returncode: int) -> int:
    """The exit status as ``$?`` shows it."""
    return 128 - returncode if returncode < 0 else returncode


def wait_until(condition: Callable[[], bool], limit: float, what: str) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def sent_requests(server: SandboxServer) -> int:
    return sum(server.request_counts.values())


# ---- reading the journal back ---------------------------------------------------------------


@dataclass
class Section:
    """The records one run appended: its ``run`` header and what followed it."""

    header_line: int  # 1-based line number of the run header
    records: list[dict[str, Any]] = field(default_factory=list)
    torn: bool = False  # ended with a line that is not JSON (killed while writing it)

    @property
    def sending(self) -> list[dict[str, Any]]:
        return [r for r in self.records if r.get("status") == "sending"]

    @property
    def results(self) -> list[dict[str, Any]]:
        return [r for r in self.records if r.get("status") not in (None, "sending")]


def read_journal(path: Path) -> list[Section]:
    """Parse every line. A line that is not JSON must be the last one, or be followed directly
    by the header of a later run (usms starts its own lines on a fresh line after a torn one)."""
    if not path.exists():
        return []
    lines = path.read_bytes().split(b"\n")
    sections: list[Section] = []
    broken_at: int | None = None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            assert broken_at is None, f"journal lines {broken_at} and {number} are both torn"
            broken_at = number
            assert sections, f"journal line {number} is torn before any run header"
            sections[-1].torn = True
            continue
        assert isinstance(record, dict), f"journal line {number} is not an object"
        if broken_at is not None:
            assert record.get("event") == "run", (
                f"journal line {broken_at} is torn but line {number} of the same run follows it"
            )
            broken_at = None
        if record.get("event") == "run":
            sections.append(Section(number))
        else:
            assert sections, f"journal line {number} comes before any run header"
            assert record.get("event") == "request", record
            sections[-1].records.append(record)
    return sections


def check_section(section: Section, *, killed: bool) -> None:
    """Results are written in input order; a run that was not killed answered every request
    it started (as accepted, unknown, ...)."""
    results = [r["index"] for r in section.results]
    assert results == list(range(1, len(results) + 1)), f"results out of order: {results}"
    started = [r["index"] for r in section.sending]
    assert started == sorted(started) and len(set(started)) == len(started), started
    if not killed:
        finished = {r["id"] for r in section.results}
        missing = [r["index"] for r in section.sending if r["id"] not in finished]
        assert not missing, f"requests started without a result line: {missing}"


# ---- the big one -----------------------------------------------------------------------------


@dataclass
class RoundResult:
    what: str
    code: int  # as the shell sees it
    stderr: str
    header: bool  # the run wrote a run header to the journal
    killed: bool = False


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    """Each request takes 0.2 s, so signals land while requests are in flight."""
    return SandboxConfig(latency_ms=200)


def test_random_interruptions_never_double_send(sandbox: SandboxServer, tmp_path: Path) -> None:
    rng = random.Random(SEED)
    values = numbers(COUNT)
    source = tmp_path / "numbers.txt"
    source.write_text("\n".join(values) + "\n", encoding="utf-8")
    journal = tmp_path / "run.jsonl"
    args = ("-f", str(source), "-c", "3", "--journal", str(journal))
    rounds: list[RoundResult] = []

    def headers() -> int:  # cheap enough to poll while a run is writing
        return journal.read_bytes().count(b'{"event": "run"') if journal.exists() else 0

    def signalled_round(number: int) -> None:
        before = headers()
        with cleaned_up(start_send(sandbox, *args)) as proc:
            # The random delay starts once the run is under way (input read, journal open):
            # signals during start-up and input are covered by the tests further down.
            wait_until(lambda: headers() > before or proc.poll() is not None, 20, "the header")
            time.sleep(rng.uniform(0.0, 1.0))
            sent = [rng.choice([signal.SIGINT, signal.SIGTERM])]
            proc.send_signal(sent[0])
            if rng.random() < 0.5:
                time.sleep(rng.uniform(0.0, 0.3))
                sent.append(rng.choice([signal.SIGINT, signal.SIGTERM]))
                proc.send_signal(sent[-1])
            _, err = proc.communicate(timeout=30)
        names = "+".join(signal.Signals(s).name for s in sent)
        code = shell_code(proc.returncode)
        rounds.append(RoundResult(f"round {number} ({names})", code, err, headers() > before))
        assert_clean_stderr(err)
        assert "is not a journal record" not in err, (
            f"round {number}: the journal written by earlier runs was refused:\n{err}"
        )
        allowed = {SIGNAL_CODES[s] for s in sent} | {0, 5}  # 0/5: it finished first
        assert code in allowed, f"round {number} ({names}): exit {code}\n{err}"

    def killed_round() -> None:
        before = headers()
        already = sent_requests(sandbox)
        with cleaned_up(start_send(sandbox, *args)) as proc:
            wait_until(
                lambda: sent_requests(sandbox) > already or proc.poll() is not None,
                20,
                "a request of the run that is killed",
            )
            time.sleep(rng.uniform(0.0, 0.3))
            proc.kill()
            _, err = proc.communicate(timeout=30)
        rounds.append(RoundResult("kill -9", 137, err, headers() > before, killed=True))

    for number in range(1, 3):
        signalled_round(number)
    killed_round()
    torn = not journal.read_bytes().endswith(b"\n")
    for number in range(3, 5):
        signalled_round(number)
        if torn and rounds[-1].header:  # the first run after the kill reports the torn line
            assert "incomplete" in rounds[-1].stderr, rounds[-1].stderr
            torn = False

    before = headers()
    with cleaned_up(start_send(sandbox, *args, "--json")) as final:
        out, err = final.communicate(timeout=60)
    assert_clean_stderr(err)
    assert final.returncode in (0, 5), err
    report = json.loads(out)
    held_back = report["held_back"]
    assert (final.returncode == 5) == bool(held_back), err
    assert report["counts"]["accepted"] + report["previously_accepted"] + len(held_back) == COUNT

    # Never twice, and nothing lost: accepted by the sandbox, or held back as unknown.
    accepted = Counter(message["phone"] for message in sandbox.messages)
    twice = sorted(n for n, times in accepted.items() if times > 1)
    assert not twice, f"{len(twice)} numbers accepted more than once, e.g. {twice[:5]}"
    assert set(accepted) | set(held_back) == set(values)
    assert set(accepted) <= set(values)

    # The journal: parseable (torn lines only at the end of a run), in order within each run.
    sections = read_journal(journal)
    writers = [r for r in rounds if r.header] + [RoundResult("final", 0, err, headers() > before)]
    assert len(sections) == len(writers), (len(sections), [r.what for r in rounds])
    for section, run in zip(sections, writers, strict=True):
        check_section(section, killed=run.killed)
        assert not section.torn or run.killed, f"{run.what} left a torn line"
    journal_accepted = Counter(
        n for s in sections for r in s.results if r["status"] == "accepted" for n in r["numbers"]
    )
    assert set(journal_accepted.values()) <= {1}
    assert set(journal_accepted) <= set(accepted)
    # Accepted by the sandbox but not recorded as accepted: the unknown ones, held back.
    assert set(accepted) - set(journal_accepted) <= set(held_back)
    print("rounds:", [(r.what, r.code) for r in rounds], "held back:", len(held_back))


def test_a_torn_journal_line_is_tolerated_by_every_later_run(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    """kill -9 while a journal line is being written leaves a prefix of it. The next run
    reports it and starts its own lines on a fresh line; the runs after that must still accept
    the journal (and never resend what was accepted)."""
    values = numbers(3000)
    source = tmp_path / "numbers.txt"
    source.write_text("\n".join(values) + "\n", encoding="utf-8")
    journal = tmp_path / "run.jsonl"
    args = ("-f", str(source), "-c", "1", "--journal", str(journal), "--json")
    with cleaned_up(start_send(sandbox, *args)) as first:
        wait_until(lambda: len(sandbox.messages) >= 1000 or first.poll() is not None, 20, "req 1")
        first.kill()
        first.communicate(timeout=30)
    # What a kill in the middle of writing the next "sending" line leaves behind (that request
    # was never sent: the line is flushed before the request goes out).
    if journal.read_bytes().endswith(b"\n"):
        with journal.open("ab") as handle:
            handle.write(b'{"event": "request", "id": "0123456789abcdef0123", "index": 3, "sta')

    with cleaned_up(start_send(sandbox, *args)) as second:
        _, err = second.communicate(timeout=60)
    assert "incomplete" in err, err
    assert second.returncode in (0, 5), err
    with cleaned_up(start_send(sandbox, *args)) as third:
        out, err = third.communicate(timeout=60)
    assert_clean_stderr(err)
    assert third.returncode in (0, 5), f"the third run refused the journal: {err}"
    report = json.loads(out)
    assert report["counts"]["accepted"] == 0  # everything was settled by the second run
    accepted = Counter(message["phone"] for message in sandbox.messages)
    assert set(accepted.values()) == {1}
    assert set(accepted) | set(report["held_back"]) == set(values)
    read_journal(journal)


# ---- signals before any request --------------------------------------------------------------


def open_files(pid: int) -> set[str]:
    try:
        entries = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return set()
    found = set()
    for entry in entries:
        try:
            found.add(os.readlink(f"/proc/{pid}/fd/{entry}"))
        except OSError:
            pass
    return found


@pytest.mark.parametrize(
    "signum", [pytest.param(signal.SIGTERM, id="SIGTERM"), pytest.param(signal.SIGINT, id="SIGINT")]
)
def test_signal_while_reading_a_big_file_exits_promptly_and_sends_nothing(
    sandbox: SandboxServer, tmp_path: Path, signum: int
) -> None:
    """Signals are handled gracefully only around the send itself. Before that, a user wants
    what any command does: a prompt exit, no traceback, nothing sent, no journal entries."""
    if not os.path.isdir(f"/proc/{os.getpid()}/fd"):
        pytest.skip("needs /proc to see when the input file is being read")
    big = tmp_path / "big.txt"
    big.write_text("".join(f"139{i:08d}\n" for i in range(600_000)), encoding="ascii")
    journal = tmp_path / "run.jsonl"
    target = str(big.resolve())
    with cleaned_up(start_send(sandbox, "-f", str(big), "--journal", str(journal))) as proc:
        wait_until(
            lambda: (
                target in open_files(proc.pid)
                or proc.poll() is not None
                or sent_requests(sandbox) > 0
            ),
            20,
            "the input file to be opened",
        )
        assert proc.poll() is None and sent_requests(sandbox) == 0, "reading ended too soon"
        proc.send_signal(signum)
        signalled = time.monotonic()
        _, err = proc.communicate(timeout=30)
        elapsed = time.monotonic() - signalled
    assert elapsed < 2.0
    assert_clean_stderr(err)
    assert shell_code(proc.returncode) == SIGNAL_CODES[signum], err
    assert sent_requests(sandbox) == 0
    assert not journal.exists() or not any(s.records for s in read_journal(journal))


@pytest.mark.parametrize(
    "signum", [pytest.param(signal.SIGTERM, id="SIGTERM"), pytest.param(signal.SIGINT, id="SIGINT")]
)
def test_signal_while_waiting_for_stdin_exits_promptly_and_sends_nothing(
    sandbox: SandboxServer, signum: int
) -> None:
    written = 0
    stop = threading.Event()
    with cleaned_up(start_send(sandbox, "-f", "-", stdin=subprocess.PIPE)) as proc:
        stdin = proc.stdin
        assert stdin is not None

        def feed() -> None:
            nonlocal written
            block = "".join(f"139{i:08d}\n" for i in range(10_000))
            try:
                while not stop.is_set() and written < 4_000_000:
                    stdin.write(block)
                    stdin.flush()
                    written += len(block)
            except (OSError, ValueError):  # the child went away
                pass

        feeder = threading.Thread(target=feed, daemon=True)
        feeder.start()
        # More than a pipe buffer went through, so the CLI is reading; now it waits for more.
        wait_until(lambda: written > 512 * 1024 or proc.poll() is not None, 20, "stdin read")
        stop.set()
        feeder.join(timeout=10)
        time.sleep(0.2)
        assert proc.poll() is None
        proc.send_signal(signum)
        signalled = time.monotonic()
        _, err = proc.communicate(timeout=30)
        elapsed = time.monotonic() - signalled
    assert elapsed < 2.0
    assert_clean_stderr(err)
    assert shell_code(proc.returncode) == SIGNAL_CODES[signum], err
    assert sent_requests(sandbox) == 0


def loaded(line: str, module: str) -> bool:
    """``import time:   804 |  59523 |   typer``: the import of ``module`` has finished."""
    return line.startswith("import time:") and line.rsplit("|", 1)[-1].strip() == module


@pytest.mark.parametrize("after", ["typer", "usms_cli.cli"])
def test_ctrl_c_during_start_up_prints_no_traceback(sandbox: SandboxServer, after: str) -> None:
    """Ctrl-C while Python is still loading the CLI: a plain exit 130, not a traceback.

    To hit that moment every time, the child reports each finished import on stderr
    (PYTHONPROFILEIMPORTTIME) and the signal goes out as soon as ``after`` is loaded: usms is
    then still building its command line, before any of its own error handling runs."""
    env = child_env(**env_for(sandbox), PYTHONPROFILEIMPORTTIME="1")
    with cleaned_up(start_send(sandbox, "13800000000", env=env)) as proc:
        assert proc.stderr is not None
        head: list[str] = []
        for line in proc.stderr:  # ends at EOF at the latest: the child runs to completion
            head.append(line)
            if loaded(line, after):
                proc.send_signal(signal.SIGINT)
                break
        _, rest = proc.communicate(timeout=30)
    lines = [line for line in [*head, *rest.splitlines(True)] if "import time:" not in line]
    err = "".join(lines)
    assert any(loaded(line, after) for line in head), f"{after} never loaded"
    assert_clean_stderr(err)
    assert shell_code(proc.returncode) == 130, err
    assert sent_requests(sandbox) == 0
