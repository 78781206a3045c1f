"""The journal cannot be turned against its purpose: one run holds it at a time (an OS lock),
every record is validated, no output overwrites another file of the run, a full disk stops
the batch cleanly, and files holding numbers are private. Real processes, real signals, real
HTTP on 127.0.0.1 (the sandbox and a signature-checking fake)."""

from __future__ import annotations

import json
import os
import resource
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import creds, heard
from tests.conftest import run_unchecked as run_usms  # these tests check exit codes themselves
from tests.servers.fake_usms import FakeUSMS, accept
from usms_cli.core.api import Message
from usms_cli.core.errors import ConfigError
from usms_cli.engine import journal as journal_module
from usms_cli.sandbox import (
    DEFAULT_PRIVATE_KEY,
    DEFAULT_PUBLIC_KEY,
    SandboxConfig,
    SandboxServer,
    start_sandbox,
)


def numbers(count: int, start: int = 0) -> list[str]:
    return [f"139{i:08d}" for i in range(start, start + count)]


def numbers_file(tmp_path: Path, values: list[str], name: str = "numbers.txt") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(values) + "\n", encoding="utf-8")
    return path


def cli(
    server: SandboxServer, *args: str, preexec_fn: Callable[[], None] | None = None
) -> subprocess.Popen[str]:
    """``python -m usms_cli send`` against the sandbox, in its own process."""
    env = {
        **os.environ,
        "UCLOUD_PUBLIC_KEY": DEFAULT_PUBLIC_KEY,
        "UCLOUD_PRIVATE_KEY": DEFAULT_PRIVATE_KEY,
        "UCLOUD_API_BASE_URL": server.base_url,
    }
    command = [sys.executable, "-m", "usms_cli", "send", "-t", "UTSANDBOX1", "-s", "USMSSandbox"]
    return subprocess.Popen(
        [*command, "-p", "1", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=preexec_fn,
    )


def finish(proc: subprocess.Popen[str], timeout: float = 60) -> tuple[int, str, str]:
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise
    return proc.returncode, heard(out), heard(err)


def wait_for_requests(server: SandboxServer, count: int, limit: float = 15.0) -> None:
    deadline = time.monotonic() + limit
    while server.request_counts["SendUSMSMessage"] < count:
        assert time.monotonic() < deadline, "the batch did not start"
        time.sleep(0.02)


def sent_counts(server: SandboxServer) -> Counter[str]:
    return Counter(m["phone"] for m in server.messages)


@pytest.fixture
def slow_sandbox() -> Iterator[SandboxServer]:
    with start_sandbox(SandboxConfig(latency_ms=300, receipt_delay=0.1)) as server:
        yield server


@pytest.fixture
def slower_sandbox() -> Iterator[SandboxServer]:
    """Slow enough that a second run started with the first finds it still running, even
    on a loaded machine."""
    with start_sandbox(SandboxConfig(latency_ms=800, receipt_delay=0.1)) as server:
        yield server


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with start_sandbox(SandboxConfig(receipt_delay=0.1)) as server:
        yield server


def send(fake: FakeUSMS, *args: str, **kw: Any):  # type: ignore[no-untyped-def]
    return run_usms(
        "send", "--base-url", fake.url, "-t", "UTA1", "-s", "Acme", "-p", "1", *args,
        env=creds(), **kw,
    )  # fmt: skip


def records(journal: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in journal.read_text().splitlines() if line.strip()]


# ---- 1. one run per journal -------------------------------------------------------------


def test_two_runs_at_once_on_one_journal_send_every_number_once(
    slower_sandbox: SandboxServer, tmp_path: Path
) -> None:
    values = numbers(5000)
    path = numbers_file(tmp_path, values)
    journal = tmp_path / "j.jsonl"
    first = cli(slower_sandbox, "-f", str(path), "-c", "1", "--journal", str(journal))
    second = cli(slower_sandbox, "-f", str(path), "-c", "1", "--journal", str(journal))
    started = time.monotonic()
    codes = {}
    for proc in (first, second):
        codes[proc.pid] = finish(proc)
    loser = [pid for pid, (code, _, _) in codes.items() if code != 0]
    assert len(loser) == 1, codes  # exactly one run sends, the other refuses
    code, out, err = codes[loser[0]]
    winner = next(pid for pid in codes if pid != loser[0])
    assert code == 2, err
    assert str(journal) in err and f"PID {winner}" in err, err
    assert "Traceback" not in err
    assert time.monotonic() - started < 30
    assert sent_counts(slower_sandbox) == Counter(dict.fromkeys(values, 1))


def test_the_lock_goes_with_a_killed_process(slower_sandbox: SandboxServer, tmp_path: Path) -> None:
    values = numbers(10000)
    path = numbers_file(tmp_path, values)
    journal = tmp_path / "j.jsonl"
    victim = cli(slower_sandbox, "-f", str(path), "-c", "1", "--journal", str(journal))
    wait_for_requests(slower_sandbox, 1)
    busy = cli(slower_sandbox, "-f", str(path), "--journal", str(journal))
    code, _, err = finish(busy, 10)
    assert code == 2 and f"PID {victim.pid}" in err, err
    assert victim.poll() is None
    victim.send_signal(signal.SIGKILL)
    victim.communicate(timeout=10)
    resume = cli(slower_sandbox, "-f", str(path), "-c", "4", "--journal", str(journal))
    code, _, err = finish(resume)
    # A request in flight at the kill is unknown (held back, exit 5); all else went once.
    assert code in (0, 5), err
    counts = sent_counts(slower_sandbox)
    assert set(counts.values()) == {1}
    assert len(counts) >= 9000


def test_wait_lock_waits_for_the_other_run_then_resumes(
    slower_sandbox: SandboxServer, tmp_path: Path
) -> None:
    values = numbers(3000)
    path = numbers_file(tmp_path, values)
    journal = tmp_path / "j.jsonl"
    first = cli(slower_sandbox, "-f", str(path), "-c", "1", "--journal", str(journal))
    wait_for_requests(slower_sandbox, 1)
    second = cli(slower_sandbox, "-f", str(path), "--journal", str(journal), "--wait-lock", "30")
    assert finish(first)[0] == 0
    code, _, err = finish(second)
    assert code == 0, err
    assert "nothing to send" in err
    assert sent_counts(slower_sandbox) == Counter(dict.fromkeys(values, 1))


def test_wait_lock_gives_up_after_its_time(slower_sandbox: SandboxServer, tmp_path: Path) -> None:
    path = numbers_file(tmp_path, numbers(5000))
    journal = tmp_path / "j.jsonl"
    first = cli(slower_sandbox, "-f", str(path), "-c", "1", "--journal", str(journal))
    try:
        wait_for_requests(slower_sandbox, 1)
        started = time.monotonic()
        second = cli(slower_sandbox, "-f", str(path), "--journal", str(journal), "--wait-lock", "1")
        code, _, err = finish(second, 20)
        assert code == 2 and f"PID {first.pid}" in err, err
        assert 1.0 <= time.monotonic() - started < 8
    finally:
        first.kill()
        first.communicate()


# ---- 2. every record is validated -------------------------------------------------------


def _unknown_journal(fake: FakeUSMS, tmp_path: Path) -> tuple[Path, Path]:
    """A journal whose one request (10 numbers) ended with an unknown outcome."""
    path = numbers_file(tmp_path, numbers(10))
    journal = tmp_path / "j.jsonl"

    def time_out(form: dict[str, str]) -> Any:
        time.sleep(0.6)
        return accept(form)

    fake.answer(time_out)
    assert send(fake, "-f", str(path), "--journal", str(journal), "--timeout", "0.2").exit_code == 5
    time.sleep(0.5)
    fake.answer(accept)
    return path, journal


def _edit(journal: Path, status: str, change: Callable[[dict[str, Any]], None]) -> int:
    """Apply ``change`` to the last record with this status; its line number."""
    lines = journal.read_text().splitlines()
    where = max(i for i, line in enumerate(lines) if json.loads(line).get("status") == status)
    record = json.loads(lines[where])
    change(record)
    lines[where] = json.dumps(record)
    journal.write_text("\n".join(lines) + "\n")
    return where + 1


@pytest.mark.parametrize("status", ["delivered", None, "ACCEPTED"])
def test_a_result_with_a_status_usms_never_writes_stops_the_run(
    fake: FakeUSMS, tmp_path: Path, status: str | None
) -> None:
    path, journal = _unknown_journal(fake, tmp_path)
    line = _edit(journal, "unknown", lambda r: r.update(status=status))
    before = fake.count
    result = send(fake, "-f", str(path), "--journal", str(journal))
    assert result.exit_code == 2, result.stderr
    assert f"line {line}" in result.stderr
    assert fake.count == before


@pytest.mark.parametrize(
    ("status", "change"),
    [
        ("unknown", lambda r: r.update(numbers=13900000000)),
        ("unknown", lambda r: r.update(numbers=[13900000000])),
        ("unknown", lambda r: r.update(count="10")),
        ("unknown", lambda r: r.update(count=11)),
        ("unknown", lambda r: r.pop("id")),
        ("unknown", lambda r: r.update(extra="field")),
        ("unknown", lambda r: r.update(refused=["13900000000"])),
        ("unknown", lambda r: r.update(RetCode="0")),
        ("sending", lambda r: r.update(index=True)),
        ("sending", lambda r: r.update(event="requests")),
    ],
)
def test_a_record_with_wrong_fields_is_exit_2_naming_the_line(
    fake: FakeUSMS, tmp_path: Path, status: str, change: Callable[[dict[str, Any]], None]
) -> None:
    path, journal = _unknown_journal(fake, tmp_path)
    line = _edit(journal, status, change)
    before = fake.count
    result = send(fake, "-f", str(path), "--journal", str(journal))
    assert result.exit_code == 2, result.stderr
    assert f"line {line}" in result.stderr and str(journal) in result.stderr
    assert fake.count == before


@pytest.mark.parametrize(
    "change",
    [
        lambda r: r.update(version=2),
        lambda r: r.pop("version"),
        lambda r: r.update(params="1"),
        lambda r: r.update(fingerprint=None),
    ],
)
def test_a_run_header_with_wrong_fields_is_exit_2(
    fake: FakeUSMS, tmp_path: Path, change: Callable[[dict[str, Any]], None]
) -> None:
    journal = tmp_path / "j.jsonl"
    assert send(fake, "--journal", str(journal), "13800000000").exit_code == 0
    lines = journal.read_text().splitlines()
    header = json.loads(lines[0])
    change(header)
    lines[0] = json.dumps(header)
    journal.write_text("\n".join(lines) + "\n")
    result = send(fake, "--journal", str(journal), "13800000000", "13800000001")
    assert result.exit_code == 2, result.stderr
    assert "line 1" in result.stderr
    assert fake.count == 1


def test_a_torn_line_in_the_middle_is_refused(fake: FakeUSMS, tmp_path: Path) -> None:
    journal = tmp_path / "j.jsonl"
    assert send(fake, "--journal", str(journal), "13800000000").exit_code == 0
    lines = journal.read_text().splitlines()
    lines.insert(1, '{"event": "request", "id": "ab')
    journal.write_text("\n".join(lines) + "\n")
    result = send(fake, "--journal", str(journal), "13800000000", "13800000001")
    assert result.exit_code == 2 and "line 2" in result.stderr, result.stderr
    assert fake.count == 1


def test_a_valid_journal_still_resumes(fake: FakeUSMS, tmp_path: Path) -> None:
    path, journal = _unknown_journal(fake, tmp_path)
    before = fake.count
    held = send(fake, "-f", str(path), "--journal", str(journal))
    assert held.exit_code == 5 and fake.count == before, held.stderr
    again = send(fake, "-f", str(path), "--journal", str(journal), "--resend-unknown")
    assert again.exit_code == 0 and fake.count == before + 1


# ---- 3. no output overwrites another file of the run ------------------------------------


@pytest.mark.parametrize(
    "options",
    [
        ("--journal", "j.jsonl", "--failed-out", "j.jsonl"),
        ("--journal", "j.jsonl", "--failed-out", "./sub/../j.jsonl"),
        ("--journal", "j.jsonl", "--report-dotenv", "j.jsonl"),
        ("--failed-out", "out.txt", "--report-dotenv", "out.txt"),
        ("--journal", "numbers.txt"),
        ("--failed-out", "numbers.txt"),
        ("--report-dotenv", "numbers.txt"),
        ("--journal", "link.jsonl", "--failed-out", "j.jsonl"),
    ],
)
def test_two_paths_of_one_run_naming_one_file_are_exit_2(
    fake: FakeUSMS, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, options: tuple[str, ...]
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sub").mkdir()
    values = numbers(10)
    path = numbers_file(tmp_path, values)
    journal = tmp_path / "j.jsonl"
    assert send(fake, "-f", "numbers.txt", "--journal", "j.jsonl").exit_code == 0
    os.link(journal, tmp_path / "link.jsonl")
    kept = {p: p.read_bytes() for p in (path, journal)}
    before = fake.count
    result = send(fake, "-f", "numbers.txt", *options)
    assert result.exit_code == 2, result.stderr
    assert "same file" in result.stderr
    assert fake.count == before
    assert {p: p.read_bytes() for p in kept} == kept


def test_failed_out_naming_the_csv_input_is_exit_2(fake: FakeUSMS, tmp_path: Path) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text("phone,code\n13800000000,1\n", encoding="utf-8")
    before = rows.read_bytes()
    result = run_usms(
        "send", "--base-url", fake.url, "-t", "UTA1", "-s", "Acme", "--csv", str(rows),
        "--failed-out", str(rows), env=creds(),
    )  # fmt: skip
    assert result.exit_code == 2 and "same file" in result.stderr, result.stderr
    assert rows.read_bytes() == before and fake.count == 0


# ---- 4. a full disk ---------------------------------------------------------------------


def _file_size_limit(limit: int) -> Callable[[], None]:
    """For a child: writes past ``limit`` bytes in any file fail with EFBIG (SIGXFSZ is
    ignored), the way a disk that fills up fails them with ENOSPC."""

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_no_room_for_the_run_header_is_exit_2_before_sending(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    journal = tmp_path / "j.jsonl"
    proc = cli(sandbox, "13800000000", "--journal", str(journal), preexec_fn=_file_size_limit(64))
    code, _, err = finish(proc)
    assert code == 2, err
    assert "cannot write the journal: no space left" in err
    assert "Traceback" not in err and "internal error" not in err
    assert sandbox.request_counts["SendUSMSMessage"] == 0


def test_a_journal_on_dev_full_is_exit_2(sandbox: SandboxServer) -> None:
    proc = cli(sandbox, "13800000000", "--journal", "/dev/full")
    code, _, err = finish(proc, 15)
    assert code == 2 and "/dev/full" in err, err
    assert sandbox.request_counts["SendUSMSMessage"] == 0


def test_journal_full_mid_batch_stops_reports_and_resume_holds_back(
    slow_sandbox: SandboxServer, tmp_path: Path
) -> None:
    values = numbers(5000)
    path = numbers_file(tmp_path, values)
    journal = tmp_path / "j.jsonl"
    # Room for the run header, the first request's two lines and the second one's
    # "sending" line: the second request's result does not fit.
    room = 400 + 3 * 15_400
    proc = cli(
        slow_sandbox, "-f", str(path), "-c", "1", "--journal", str(journal),
        preexec_fn=_file_size_limit(room),
    )  # fmt: skip
    code, _, err = finish(proc)
    assert code == 3, err  # two requests accepted, the rest not sent: the send's own code
    assert "internal error" not in err and "Traceback" not in err
    assert "cannot write the journal" in err and "no space left" in err
    assert "request 2" in err and "accepted" in err and "SessionNo" in err
    first = sent_counts(slow_sandbox)
    assert len(first) == 2000 and set(first.values()) == {1}
    assert slow_sandbox.request_counts["SendUSMSMessage"] == 2  # stopped dispatching
    resume = cli(slow_sandbox, "-f", str(path), "-c", "4", "--journal", str(journal))
    code, _, err = finish(resume)
    assert code == 5, err  # request 2 is unknown to the journal: held back
    assert "1,000 numbers held back" in err
    counts = sent_counts(slow_sandbox)
    assert set(counts) == set(values) and set(counts.values()) == {1}


def test_journal_full_while_requests_are_in_flight(
    slow_sandbox: SandboxServer, tmp_path: Path
) -> None:
    values = numbers(10000)
    path = numbers_file(tmp_path, values)
    journal = tmp_path / "j.jsonl"
    proc = cli(
        slow_sandbox, "-f", str(path), "-c", "4", "--journal", str(journal),
        preexec_fn=_file_size_limit(400 + 6 * 15_400),
    )  # fmt: skip
    code, _, err = finish(proc)
    # Room for six lines: requests 1-4 go out, then (in whatever order the answers come)
    # a result and one more request, or two more requests; the next line does not fit. The
    # requests in flight then finish; the rest are not sent.
    assert code == 3, err
    assert "internal error" not in err and "cannot write the journal" in err
    dispatched = slow_sandbox.request_counts["SendUSMSMessage"]
    assert dispatched in (5, 6)
    assert len(sent_counts(slow_sandbox)) == dispatched * 1000
    assert f"{10 - dispatched} later requests" in err
    resume = cli(slow_sandbox, "-f", str(path), "-c", "4", "--journal", str(journal))
    code, _, err = finish(resume)
    assert code == 5, err  # those the journal has no result for are held back, not resent
    assert "numbers held back" in err
    counts = sent_counts(slow_sandbox)
    assert set(counts) == set(values) and set(counts.values()) == {1}


# ---- 14. files holding numbers are private ----------------------------------------------


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_journal_failed_out_and_dotenv_are_created_0600(fake: FakeUSMS, tmp_path: Path) -> None:
    os.umask(0o022)
    journal, failed, dotenv = tmp_path / "j.jsonl", tmp_path / "f.txt", tmp_path / "r.env"
    for existing in (failed, dotenv):
        existing.write_text("old\n")
        existing.chmod(0o644)
    result = send(
        fake, "13800000000", "--journal", str(journal), "--failed-out", str(failed),
        "--report-dotenv", str(dotenv),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert {p.name: _mode(p) for p in (journal, failed, dotenv)} == {
        "j.jsonl": 0o600,
        "f.txt": 0o600,
        "r.env": 0o600,
    }
    assert "USMS_EXIT_CODE=0" in dotenv.read_text()


def test_an_old_0644_journal_becomes_0600(fake: FakeUSMS, tmp_path: Path) -> None:
    journal = tmp_path / "j.jsonl"
    assert send(fake, "--journal", str(journal), "13800000000").exit_code == 0
    journal.chmod(0o644)
    assert send(fake, "--journal", str(journal), "13800000001").exit_code == 0
    assert _mode(journal) == 0o600


# ---- issue 13: nothing left to send, an empty --failed-out ------------------------------


def test_a_resume_with_nothing_left_says_so_even_with_q(fake: FakeUSMS, tmp_path: Path) -> None:
    journal = tmp_path / "j.jsonl"
    assert send(fake, "--journal", str(journal), "13800000000", "13800000001").exit_code == 0
    again = send(fake, "-q", "--journal", str(journal), "13800000000", "13800000001")
    assert again.exit_code == 0
    assert "nothing to send: all 2 numbers were accepted in an earlier run" in again.stderr
    assert again.stdout == "" and fake.count == 1


def test_failed_out_is_empty_when_everything_was_accepted(fake: FakeUSMS, tmp_path: Path) -> None:
    failed = tmp_path / "failed.txt"
    assert send(fake, "13800000000", "--failed-out", str(failed)).exit_code == 0
    assert failed.exists() and failed.read_bytes() == b""


def test_csv_failed_out_is_empty_when_every_row_was_accepted(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    rows = tmp_path / "rows.csv"
    rows.write_text("phone,code\n13800000000,1\n13800000001,2\n", encoding="utf-8")
    failed = tmp_path / "failed.csv"
    failed.write_text("stale\n")
    env = {
        "UCLOUD_PUBLIC_KEY": DEFAULT_PUBLIC_KEY,
        "UCLOUD_PRIVATE_KEY": DEFAULT_PRIVATE_KEY,
        "UCLOUD_API_BASE_URL": sandbox.base_url,
        "USMS_TEMPLATE_ID": "UTSANDBOX1",
        "USMS_SIG_CONTENT": "USMSSandbox",
    }
    result = run_usms("send", "--csv", str(rows), "--failed-out", str(failed), env=env)
    assert result.exit_code == 0, result.stderr
    assert failed.read_bytes() == b""


# ---- the loader never crashes (hypothesis) ----------------------------------------------

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner),
    max_leaves=6,
)
_MESSAGE = Message(template_id="UTA1", sig_content="Acme", params=("1",))


def _valid_journal() -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "j.jsonl"
        writer = journal_module.Writer(path, _MESSAGE)
        writer.run("usms-cli/test")
        writer.sending("c1", 1, ["13800000000", "13800000001"])
        writer.result("c1", 1, ["13800000000", "13800000001"], "accepted", 0, "ok", "sn-1",
                      "req-1", None, refused={"13800000001": "blocked"})  # fmt: skip
        writer.close()
        return records(path)


@settings(max_examples=300, deadline=None)
@given(line=st.integers(0, 2), key=st.text(max_size=12), value=_JSON, data=st.data())
def test_any_change_to_a_record_is_read_or_refused_never_a_crash(
    line: int, key: str, value: Any, data: st.DataObject
) -> None:
    lines = _valid_journal()
    key = data.draw(st.sampled_from(sorted(lines[line])) | st.just(key))
    lines[line][key] = value
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "j.jsonl"
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in lines))
        try:
            state = journal_module.load(path, _MESSAGE)
        except ConfigError as exc:
            assert f"line {line + 1}" in exc.message or "different message" in exc.message
            return
    # Read: then it is still a journal usms could have written, and says what it said.
    assert set(state.accepted) <= {"13800000000", "13800000001"}
    assert all(sn is None or isinstance(sn, str) for sn in state.accepted.values())
    assert state.unknown <= {"13800000000", "13800000001"}
