"""The send history (README "History"): what went to whom, receipts, the repeat guard and the
per-number limits, against the sandbox with a real SQLite file."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import env_for, run_usms
from usms_cli.sandbox import SandboxServer


@pytest.fixture
def history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "state" / "history.sqlite3"
    monkeypatch.setenv("USMS_HISTORY", str(path))
    return path


def send(sandbox: SandboxServer, *args: str, expect: int | None = 0) -> object:
    return run_usms("send", "-p", "123456", *args, env=env_for(sandbox), expect=expect)


def test_a_real_send_is_recorded_and_listed(sandbox: SandboxServer, history: Path) -> None:
    send(sandbox, "13800000000", "13800000001")
    assert history.exists() and (history.stat().st_mode & 0o777) == 0o600
    assert (history.parent.stat().st_mode & 0o777) == 0o700
    listing = run_usms("history", "--json").json
    run = listing["runs"][0]
    assert run["numbers"] == 2 and run["counts"]["accepted"] == 2 and run["exit_code"] == 0
    human = run_usms("history").stdout
    assert "13800000000" not in human  # masked, as all human output
    phone = run_usms("history", "--phone", "13800000001", "--json").json
    assert phone["sends"][0]["status"] == "accepted" and phone["sends"][0]["session_no"]


def test_dry_runs_and_no_history_are_not_recorded(sandbox: SandboxServer, history: Path) -> None:
    send(sandbox, "--dry-run", "13800000000")
    send(sandbox, "--no-history", "13800000000")
    assert not history.exists() or run_usms("history", "--json").json["runs"] == []


def test_the_repeat_guard_stops_the_same_message_within_a_minute(
    sandbox: SandboxServer, history: Path
) -> None:
    send(sandbox, "13800000000")
    before = len(sandbox.messages)
    again = send(sandbox, "13800000000", "13800000002", expect=2)
    assert "1 of 2 numbers were sent this same message" in again.stderr  # type: ignore[attr-defined]
    assert len(sandbox.messages) == before  # nothing sent
    skipped = run_usms(
        "send", "-p", "123456", "--skip-repeats", "--json", "13800000000", "13800000002",
        env=env_for(sandbox),
    )  # fmt: skip
    assert [r["phone"] for r in skipped.json["repeats"]] == ["13800000000"]
    assert skipped.json["recipients"] == 1
    send(sandbox, "--again", "13800000000")
    run_usms("send", "-p", "654321", "13800000000", env=env_for(sandbox))  # other params
    assert len(sandbox.messages) == before + 3


def test_receipt_last_and_wait_know_the_phones_from_the_history(
    sandbox: SandboxServer, history: Path
) -> None:
    sandbox.config.receipt_delay = 0.2
    sent = run_usms("send", "-q", "-p", "1", "13800000000", "13800000001", env=env_for(sandbox))
    time.sleep(0.4)
    last = run_usms("receipt", "--last", "--json", env=env_for(sandbox))
    assert last.json["all_phones_counted"] is True and last.json["counts"]["delivered"] == 2
    waited = run_usms(
        "receipt", "--wait", "--wait-interval", "0.1", "--json", sent.stdout.strip(),
        env=env_for(sandbox),
    )  # fmt: skip
    assert waited.json["all_phones_counted"] is True
    phone = run_usms("history", "--phone", "13800000001", "--json").json
    assert phone["sends"][0]["receipt"] == "delivered"


def test_a_corrupt_history_warns_once_and_still_sends(
    sandbox: SandboxServer, history: Path
) -> None:
    history.parent.mkdir(parents=True)
    history.write_bytes(b"this is not a database" * 100)
    result = send(sandbox, "13800000000")
    assert result.stderr.count("history") >= 1  # type: ignore[attr-defined]
    assert len(sandbox.messages) == 1


def test_frequency_warnings_at_the_documented_counts(
    sandbox: SandboxServer, history: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("USMS_LIMITS", "repeat_window_s=0,code_gap_s=0")
    for _ in range(3):  # codes 1-3 within the hour: the limit is 3 per hour
        assert "per-number limits" not in send(sandbox, "13800000000").stderr  # type: ignore[attr-defined]
    fourth = send(sandbox, "13800000000")
    assert "3 verification code(s) with this template in the last hour (limit 3)" in (
        fourth.stderr  # type: ignore[attr-defined]
    )
    strict = send(sandbox, "--strict-limits", "13800000000", expect=2)
    assert "nothing was sent" in strict.stderr  # type: ignore[attr-defined]


def test_a_killed_batch_leaves_unknown_never_accepted(tmp_path: Path, history: Path) -> None:
    from usms_cli.sandbox import SandboxConfig, start_sandbox

    server = start_sandbox(SandboxConfig(latency_ms=400))
    numbers = tmp_path / "n.txt"
    numbers.write_text("".join(f"1390000{i:04d}\n" for i in range(6000)))
    env = {k: v for k, v in os.environ.items() if not k.startswith("UCLOUD_")}
    env.update(env_for(server), USMS_HISTORY=str(history))
    child = subprocess.Popen(
        [sys.executable, "-m", "usms_cli", "send", "-p", "1", "-c", "2", "-f", str(numbers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30  # a loaded machine starts the child slowly
    while len(server.messages) < 2 and time.monotonic() < deadline and child.poll() is None:
        time.sleep(0.05)
    child.send_signal(signal.SIGKILL)
    child.wait()
    server.close()
    listing = run_usms("history", "--json").json["runs"][0]
    assert listing["exit_code"] is None  # never finished
    received = {m["phone"] for m in server.messages}
    assert received, "the run was killed after some requests went out"
    # every number the server received is recorded accepted or unknown, never missing;
    # no number it did not receive is recorded as accepted
    for number in sorted(received)[-3:]:
        sends = run_usms("history", "--phone", number, "--json").json["sends"]
        assert sends and sends[0]["status"] in ("accepted", "unknown")
    never = run_usms("history", "--phone", "13900005999", "--json").json["sends"]
    assert all(send["status"] != "accepted" for send in never)
