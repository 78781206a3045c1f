"""Big batches: concurrency, rate limit, throttling, journal and resume, partial failure,
interruption. Against real servers on 127.0.0.1 (a threaded fake and the sandbox)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from werkzeug import Response

from tests.conftest import child_env, env_for, numbers, numbers_file, usms_send
from tests.servers.fake_usms import FakeUSMS, accept, api, phones_of
from usms_cli.sandbox import SandboxConfig, SandboxServer, start_sandbox


def slow_accept(form: dict[str, str]) -> Response:
    time.sleep(0.15)
    return accept(form)


# ---- concurrency and order --------------------------------------------------------------


def test_concurrency_sends_n_at_once_and_keeps_input_order(fake: FakeUSMS, tmp_path: Path) -> None:
    fake.answer(slow_accept)
    values = numbers(8000)
    result = usms_send(fake.url, "-f", str(numbers_file(tmp_path, values)), "-c", "4", "--json")
    assert fake.max_in_flight == 4
    report = result.json
    assert [n for r in report["requests"] for n in r["numbers"]] == values
    assert [r["index"] for r in report["requests"]] == list(range(1, 9))


def test_concurrency_is_capped_at_16(fake: FakeUSMS) -> None:
    usms_send(fake.url, "-c", "17", "13800000000", expect=2)
    assert fake.count == 0


def test_rate_limit_is_respected_on_the_server_side(fake: FakeUSMS, tmp_path: Path) -> None:
    path = numbers_file(tmp_path, numbers(12000))
    usms_send(fake.url, "-f", str(path), "-c", "8", "--rate", "5")
    times = sorted(fake.times)
    assert len(times) == 12
    # Never more than 5 request starts within any one-second window (tiny clock slack).
    for i, t in enumerate(times):
        assert sum(1 for u in times[i:] if u - t < 0.98) <= 5
    assert times[-1] - times[0] >= 11 / 5 - 0.1


def test_throttling_slows_the_whole_batch_not_one_worker(fake: FakeUSMS, tmp_path: Path) -> None:
    def first_throttled(form: dict[str, str]) -> Response:
        time.sleep(0.05)
        return accept(form)

    throttled_at: list[float] = []

    def throttle_once(form: dict[str, str]) -> Response:
        throttled_at.append(time.monotonic())
        return Response("slow down", status=429, headers={"Retry-After": "1"})

    fake.answer(throttle_once, first_throttled)
    path = numbers_file(tmp_path, numbers(6000))
    result = usms_send(fake.url, "-f", str(path), "-c", "2", "--json")
    assert fake.count == 7  # 6 requests + 1 retry
    later = [t for t in fake.times if t > throttled_at[0] + 0.2]
    # After the 429 every request (retry and new ones alike) waited for Retry-After.
    assert later and min(later) >= throttled_at[0] + 0.95
    attempts = [r["attempts"] for r in result.json["requests"]]
    assert sorted(attempts) == [1, 1, 1, 1, 1, 2]


# ---- partial failure, --failed-out, journal and resume ----------------------------------


def refuse_chunk_with(number: str):  # type: ignore[no-untyped-def]
    def responder(form: dict[str, str]) -> Response:
        if number in phones_of(form):
            return api(18014, "some phone numbers invalid")
        return accept(form)

    return responder


def test_partial_failure_exits_3_and_failed_out_feeds_back(fake: FakeUSMS, tmp_path: Path) -> None:
    values = numbers(2500)
    fake.answer(refuse_chunk_with(values[1500]))
    failed = tmp_path / "failed.txt"
    result = usms_send(
        fake.url, "-f", str(numbers_file(tmp_path, values)), "--failed-out", str(failed), expect=3
    )
    assert "request 2 of 3" in result.stderr and "RetCode 18014" in result.stderr
    written = [line for line in failed.read_text().splitlines() if not line.startswith("#")]
    assert written == values[1000:2000]
    # The file is valid input for -f.
    fake.answer(accept)
    again = usms_send(fake.url, "-f", str(failed), "--json")
    assert again.json["recipients"] == 1000


def test_journal_resume_sends_only_what_was_not_accepted(fake: FakeUSMS, tmp_path: Path) -> None:
    values = numbers(3500)
    path = numbers_file(tmp_path, values)
    journal = tmp_path / "run.jsonl"
    fake.answer(refuse_chunk_with(values[2200]))
    usms_send(fake.url, "-f", str(path), "--journal", str(journal), expect=3)
    records = [json.loads(line) for line in journal.read_text().splitlines()]
    results = [r for r in records if r["event"] == "request" and r["status"] != "sending"]
    assert [r["index"] for r in results] == [1, 2, 3, 4]  # input order
    assert [r["status"] for r in results] == ["accepted", "accepted", "rejected", "accepted"]
    assert all(r["id"] and r["numbers"] and r["time"] for r in results)
    fake.answer(accept)
    second = usms_send(fake.url, "-f", str(path), "--journal", str(journal), "--json")
    assert second.json["previously_accepted"] == 2500
    assert second.json["recipients"] == 3500
    assert [r["count"] for r in second.json["requests"]] == [1000]
    accepted = Counter(n for batch in fake.sent for n in batch)
    assert set(accepted) == set(values) and set(accepted.values()) == {1}
    third = usms_send(fake.url, "-f", str(path), "--journal", str(journal))
    assert "Nothing to send" in third.stdout


def test_journal_for_a_different_message_is_refused(fake: FakeUSMS, tmp_path: Path) -> None:
    journal = tmp_path / "run.jsonl"
    usms_send(fake.url, "--journal", str(journal), "13800000000")
    other = usms_send(fake.url, "-p", "2", "--journal", str(journal), "13800000000", expect=2)
    assert "different message" in other.stderr
    assert fake.count == 1


def test_unknown_outcomes_are_held_back_unless_resend_unknown(
    fake: FakeUSMS, tmp_path: Path
) -> None:
    values = numbers(2000)
    path = numbers_file(tmp_path, values)
    journal = tmp_path / "run.jsonl"

    def time_out_second_chunk(form: dict[str, str]) -> Response:
        if values[1500] in phones_of(form):
            time.sleep(1.5)
        return accept(form)

    fake.answer(time_out_second_chunk)
    usms_send(fake.url, "-f", str(path), "--journal", str(journal), "--timeout", "0.5", expect=5)
    time.sleep(1.2)
    fake.answer(accept)
    before = fake.count
    second = usms_send(fake.url, "-f", str(path), "--journal", str(journal), "--json", expect=5)
    assert fake.count == before  # nothing sent: 1000 accepted, 1000 held back
    assert len(second.json["held_back"]) == 1000
    assert "--resend-unknown" in second.stderr
    usms_send(fake.url, "-f", str(path), "--journal", str(journal), "--resend-unknown")
    assert fake.count == before + 1


def test_torn_last_journal_line_is_tolerated_and_reported(fake: FakeUSMS, tmp_path: Path) -> None:
    journal = tmp_path / "run.jsonl"
    usms_send(fake.url, "--journal", str(journal), "13800000000")
    with journal.open("a", encoding="utf-8") as handle:
        handle.write('{"event": "request", "id": "abc", "sta')
    result = usms_send(fake.url, "--journal", str(journal), "13800000000", "13800000001")
    assert "incomplete" in result.stderr
    assert fake.sent[-1] == ["13800000001"]
    for line in journal.read_text().splitlines()[:-1]:
        if "sta" not in line or line.endswith("}"):
            json.loads(line)


# ---- interruption (real signals, real processes) ----------------------------------------


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    """Each request takes 0.3 s, so a signal lands while requests are in flight."""
    return SandboxConfig(latency_ms=300)


def cli(server: SandboxServer, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "usms_cli",
            "send",
            "-t",
            "UTSANDBOX1",
            "-s",
            "USMSSandbox",
            "-p",
            "1",
            *args,
        ],
        env=child_env(**env_for(server)),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_requests(server: SandboxServer, count: int, limit: float = 15.0) -> None:
    deadline = time.monotonic() + limit
    while server.request_counts["SendUSMSMessage"] < count:
        assert time.monotonic() < deadline, "the batch did not start"
        time.sleep(0.02)


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_interrupt_then_resume_sends_every_number_exactly_once(
    sandbox: SandboxServer, tmp_path: Path, signum: int, code: int
) -> None:
    values = numbers(20000)
    path = numbers_file(tmp_path, values)
    journal = tmp_path / "run.jsonl"
    proc = cli(sandbox, "-f", str(path), "-c", "2", "--journal", str(journal))
    wait_for_requests(sandbox, 3)
    proc.send_signal(signum)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == code, err
    assert "stopping" in err
    first = len(sandbox.messages)
    assert 0 < first < 20000
    resume = cli(sandbox, "-f", str(path), "-c", "4", "--journal", str(journal))
    out, err = resume.communicate(timeout=60)
    assert resume.returncode == 0, err
    sent = Counter(m["phone"] for m in sandbox.messages)
    assert set(sent) == set(values) and set(sent.values()) == {1}


def test_second_ctrl_c_quits_at_once_and_marks_in_flight_unknown(
    tmp_path: Path,
) -> None:
    with start_sandbox(SandboxConfig(latency_ms=3000)) as server:
        values = numbers(4000)
        path = numbers_file(tmp_path, values)
        journal = tmp_path / "run.jsonl"
        proc = cli(server, "-f", str(path), "-c", "2", "--journal", str(journal))
        wait_for_requests(server, 2)
        proc.send_signal(signal.SIGINT)
        time.sleep(0.3)
        started = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=10)
        assert time.monotonic() - started < 2.5  # did not wait for the 3 s answers
        assert proc.returncode == 130
        records = [json.loads(line) for line in journal.read_text().splitlines()]
        statuses = [r["status"] for r in records if r["event"] == "request"]
        assert statuses.count("unknown") == 2
        assert "sending" in statuses
        # A resume holds the unknown ones back and never sends them twice.
        time.sleep(3.2)
        resume = cli(server, "-f", str(path), "--journal", str(journal), "--json")
        out, err = resume.communicate(timeout=60)
        assert resume.returncode == 5, err
        report = json.loads(out)
        assert len(report["held_back"]) == 2000
        sent = Counter(m["phone"] for m in server.messages)
        assert set(sent.values()) == {1}
        assert set(sent) | set(report["held_back"]) == set(values)


def test_human_output_shows_ten_session_numbers_and_points_to_q(
    fake: FakeUSMS, tmp_path: Path
) -> None:
    path = numbers_file(tmp_path, numbers(12000))
    human = usms_send(fake.url, "-f", str(path))
    assert human.stdout.count("SessionNo ") == 10
    assert "… and 2 more SessionNos (-q or --json lists them all)" in human.stdout
    quiet = usms_send(fake.url, "-f", str(path), "-q")
    assert len(quiet.stdout.split()) == 12
