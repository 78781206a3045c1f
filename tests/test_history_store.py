"""The send history store: real SQLite files in temporary folders, real processes, real
signals. What a user relies on: files are private, every send is recorded even with several
usms running at once, a killed run never looks accepted, a broken history costs one warning
and never a send, queries answer what was sent, and the file stays bounded."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import stat
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from usms_cli.core.errors import ExitCode
from usms_cli.core.history_rules import Planned, find_repeats, frequency_problems
from usms_cli.core.receipts import Receipt
from usms_cli.engine.history import History, HistoryError, history_path
from usms_cli.engine.history_safe import SafeHistory

ROOT = Path(__file__).resolve().parent.parent


def numbers(count: int, start: int = 0) -> list[str]:
    return [f"139{i:08d}" for i in range(start, start + count)]


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store(tmp_path: Path) -> Iterator[History]:
    history = History.open(tmp_path / "state" / "usms" / "history.sqlite3", clock=Clock())
    yield history
    history.close()


def send(
    history: History,
    phones: list[str],
    status: str = "accepted",
    *,
    template: str = "UTA1",
    params: tuple[str, ...] = ("123456",),
    per_request: int = 1000,
    refused: dict[str, str] | None = None,
) -> int:
    """Record a whole run as the send command will."""
    digest = history.params_hash(template, "Acme", params)
    run = history.start_run("SendUSMSMessage", template, "Acme", "org-1", digest, len(phones))
    for index, start in enumerate(range(0, len(phones), per_request), start=1):
        chunk = phones[start : start + per_request]
        history.before_request(run, index, chunk)
        history.after_request(run, index, chunk, status, 0, f"SN-{run}-{index}", refused)
    history.finish_run(run, 0)
    return run


# -- where and how the file is created -------------------------------------------------------


def test_folders_0700_and_files_0600(tmp_path: Path) -> None:
    os.umask(0o022)
    path = tmp_path / "state" / "usms" / "history.sqlite3"
    history = History.open(path)
    send(history, numbers(3))
    for folder in (tmp_path / "state", tmp_path / "state" / "usms"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    files = sorted(path.parent.iterdir())
    assert [f.name for f in files] == [
        "history.sqlite3",
        "history.sqlite3-shm",
        "history.sqlite3-wal",
    ]
    for file in files:
        assert stat.S_IMODE(file.stat().st_mode) == 0o600, file.name
    history.close()
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_an_existing_folder_keeps_its_mode(tmp_path: Path) -> None:
    folder = tmp_path / "shared"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)
    History.open(folder / "h.sqlite3").close()
    assert stat.S_IMODE(folder.stat().st_mode) == 0o755
    assert stat.S_IMODE((folder / "h.sqlite3").stat().st_mode) == 0o600


def test_history_path_from_the_environment(tmp_path: Path) -> None:
    home = str(tmp_path / "home")
    assert history_path({"HOME": home}) == Path(home, ".local/state/usms/history.sqlite3")
    assert history_path({"HOME": home, "XDG_STATE_HOME": "/srv/state"}) == Path(
        "/srv/state/usms/history.sqlite3"
    )
    # The XDG spec: a relative XDG_STATE_HOME is invalid and ignored.
    assert history_path({"HOME": home, "XDG_STATE_HOME": "state"}) == Path(
        home, ".local/state/usms/history.sqlite3"
    )
    assert history_path({"USMS_HISTORY": "/tmp/h.db", "XDG_STATE_HOME": "/x"}) == Path("/tmp/h.db")
    assert history_path({"USMS_HISTORY": str(tmp_path)}) == tmp_path / "history.sqlite3"
    for off in ("off", "OFF", " off ", "0", "false", "no"):
        assert history_path({"USMS_HISTORY": off, "HOME": home}) is None


# -- recording and answering -----------------------------------------------------------------


def test_a_run_is_recorded_per_number_and_summarised(store: History) -> None:
    phones = numbers(2500)
    run = send(store, phones, refused={phones[1]: "invalid number"})
    [summary] = store.runs()
    assert (summary.id, summary.template_id, summary.project_id) == (run, "UTA1", "org-1")
    assert (summary.planned, summary.exit_code) == (2500, 0)
    # One refusal by name per 1000-number request (phones[1] is in the first one only).
    assert summary.counts == {"accepted": 2499, "rejected": 1, "unknown": 0, "not_sent": 0}
    [refused] = store.by_phone(phones[1])
    assert (refused.status, refused.reason, refused.session_no) == (
        "rejected",
        "invalid number",
        f"SN-{run}-1",
    )
    [last] = store.by_phone(phones[-1])
    assert (last.status, last.request, last.session_no) == ("accepted", 3, f"SN-{run}-3")
    sessions = store.run_sessions()
    assert sessions is not None and sessions.run_id == run
    assert list(sessions.sessions) == [f"SN-{run}-1", f"SN-{run}-2", f"SN-{run}-3"]
    assert sessions.sessions[f"SN-{run}-1"] == [phones[0], *phones[2:1000]]
    assert store.phones_for_session(f"SN-{run}-3") == phones[2000:]


def test_params_are_never_stored(store: History, tmp_path: Path) -> None:
    send(store, numbers(3), params=("834271", "张三"))
    store.close()
    raw = b"".join(p.read_bytes() for p in store.path.parent.iterdir())
    assert b"834271" not in raw and "张三".encode() not in raw
    assert b"13900000001" in raw  # the phones are (that is what the history is for)


def test_runs_filter_by_template_and_time_newest_first(store: History) -> None:
    clock = store.clock
    assert isinstance(clock, Clock)
    first = send(store, numbers(2), template="UTA1")
    clock.now += 100
    second = send(store, numbers(2), template="UTA2")
    clock.now += 100
    third = send(store, numbers(2), template="UTA1")
    assert [r.id for r in store.runs()] == [third, second, first]
    assert [r.id for r in store.runs(template_id="UTA1")] == [third, first]
    assert [r.id for r in store.runs(since=clock.now - 150)] == [third, second]
    assert [r.id for r in store.runs(limit=1)] == [third]
    assert store.run_sessions(first) is not None
    assert store.run_sessions(999) is None


def test_not_sent_chunks_and_by_phone_across_runs(store: History) -> None:
    clock = store.clock
    assert isinstance(clock, Clock)
    phones = numbers(2000)
    run = store.start_run("SendUSMSMessage", "UTA1", "Acme", None, "h", 2000)
    store.before_request(run, 1, phones[:1000])
    store.after_request(run, 1, phones[:1000], "rejected", 18017)
    store.after_request(run, 2, phones[1000:], "not_sent")  # never dispatched: no "before"
    store.finish_run(run, int(ExitCode.REJECTED))
    clock.now += 60
    later = send(store, [phones[0]])
    assert store.runs()[1].counts == {
        "accepted": 0,
        "rejected": 1000,
        "unknown": 0,
        "not_sent": 1000,
    }
    history = store.by_phone(phones[0])
    assert [(p.run_id, p.status, p.ret_code) for p in history] == [
        (later, "accepted", 0),
        (run, "rejected", 18017),
    ]
    assert store.by_phone(phones[1500])[0].status == "not_sent"
    assert store.by_phone("13000000000") == []


def test_receipts_land_on_their_numbers_even_with_a_country_prefix(store: History) -> None:
    phones = ["13800000001", "13800000002", "(852)91234567"]
    run = send(store, phones)
    sn = f"SN-{run}-1"
    matched = store.record_receipts(
        [
            Receipt(sn, "8613800000001", "delivered", code="DELIVRD", time=1700, cost=1),
            Receipt(sn, "(86)13800000002", "failed", code="UNDELIVRD", time=1701, cost=1),
            Receipt(sn, "85291234567", "delivered", code="DELIVRD", time=1702, cost=2),
            Receipt("SN-elsewhere", "13800000001", "delivered"),  # not ours: ignored
            Receipt(sn, "13800000009", "delivered"),  # not in that session: ignored
        ]
    )
    assert matched == 3
    rows = {p: store.by_phone(p)[0] for p in phones}
    assert (rows[phones[0]].receipt, rows[phones[0]].receipt_code) == ("delivered", "DELIVRD")
    assert (rows[phones[1]].receipt, rows[phones[1]].receipt_time) == ("failed", 1701)
    assert rows[phones[2]].cost == 2


def test_recording_a_request_twice_keeps_the_first(store: History) -> None:
    run = store.start_run("SendUSMSMessage", "UTA1", "Acme", None, "h", 2)
    store.before_request(run, 1, numbers(2))
    store.before_request(run, 1, numbers(2))
    store.after_request(run, 1, numbers(2), "accepted", 0, "SN")
    assert store.runs()[0].counts["accepted"] == 2
    assert len(store.by_phone(numbers(1)[0])) == 1


def test_repeat_guard_and_limits_from_the_recorded_history(store: History) -> None:
    clock = store.clock
    assert isinstance(clock, Clock)
    phones = numbers(3)
    send(store, phones[:2])
    send(store, [phones[2]], status="unknown")
    clock.now += 20
    digest = store.params_hash("UTA1", "Acme", ["123456"])
    recent = store.recent_sends(phones, since=clock.now - 86400)
    assert sorted(r.phone for r in recent) == phones
    assert [r.phone for r in find_repeats(recent, Planned("UTA1", digest), clock.now)] == [
        phones[0],
        phones[1],
    ]  # the unknown one is not "accepted": not a repeat, but it counts for the limits
    problems = frequency_problems(recent, Planned("UTA1", digest, True), clock.now)
    assert [(p.phone, p.limit) for p in problems] == [(p, "code_gap_s") for p in phones]
    other = store.params_hash("UTA1", "Acme", ["654321"])
    assert find_repeats(recent, Planned("UTA1", other), clock.now) == []


def test_recent_sends_same_answer_for_few_and_many_numbers(store: History) -> None:
    clock = store.clock
    assert isinstance(clock, Clock)
    for start in range(0, 6000, 2000):
        send(store, numbers(2000, start))
        clock.now += 3600
    asked = numbers(3, 1999) + numbers(2, 5998) + ["13000000000"]
    wanted = {"13900001999", "13900002000", "13900002001", "13900005998", "13900005999"}
    # A few numbers are searched for in the packed phones, many are unpacked and compared.
    by_lookup = store.recent_sends(asked, since=clock.now - 3 * 3600 - 1)
    assert {r.phone for r in by_lookup} == wanted
    many = asked + numbers(5000, 100_000)
    by_scan = store.recent_sends(many, since=clock.now - 3 * 3600 - 1)
    assert sorted(map(repr, by_scan)) == sorted(map(repr, by_lookup))
    assert {r.phone for r in store.recent_sends(asked, since=clock.now - 3600)} == {
        "13900005998",
        "13900005999",
    }


# -- several processes, killed processes ------------------------------------------------------

WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from usms_cli.engine.history import History
    path, tag, requests, go = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4])
    history = History.open(path)
    while not go.exists():
        time.sleep(0.005)
    run = history.start_run("SendUSMSMessage", "UTA1", "Acme", None, "h", requests * 1000)
    for index in range(1, requests + 1):
        phones = [f"1{tag}{index:04d}{n:05d}" for n in range(1000)]
        history.before_request(run, index, phones)
        if len(sys.argv) > 5:
            time.sleep(float(sys.argv[5]))  # the HTTP request
        history.after_request(run, index, phones, "accepted", 0, f"SN-{tag}-{index}")
        print(index, flush=True)
    history.finish_run(run, 0)
    """
)


def start_writer(
    path: Path, tag: int, requests: int, go: Path, *extra: str
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(path), str(tag), str(requests), str(go), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )


def test_two_processes_writing_at_once_record_everything(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    go = tmp_path / "go"
    writers = [start_writer(path, tag, 40, go) for tag in (3, 5)]
    time.sleep(0.3)  # both have opened the file (and raced to create its tables)
    go.touch()
    for writer in writers:
        out, err = writer.communicate(timeout=120)
        assert writer.returncode == 0, err
        assert out.split() == [str(i) for i in range(1, 41)]
    history = History.open(path)
    runs = history.runs()
    assert len(runs) == 2
    for run in runs:
        assert run.exit_code == 0
        assert run.counts == {"accepted": 40_000, "rejected": 0, "unknown": 0, "not_sent": 0}
    assert history.by_phone("15004000999")[0].session_no == "SN-5-40"
    assert history.phones_for_session("SN-3-17")[:2] == ["13001700000", "13001700001"]


OPENER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from usms_cli.engine.history import History
    go = Path(sys.argv[2])
    while not go.exists():
        time.sleep(0.001)
    history = History.open(sys.argv[1])
    run = history.start_run("SendUSMSMessage", "UTA1", "Acme", None, "h", 1)
    history.before_request(run, 1, [sys.argv[3]])
    history.after_request(run, 1, [sys.argv[3]], "accepted", 0, "SN")
    history.finish_run(run, 0)
    """
)


def test_several_processes_creating_the_file_at_once_all_record(tmp_path: Path) -> None:
    for attempt in range(3):
        path = tmp_path / f"history-{attempt}.sqlite3"
        go = tmp_path / f"go-{attempt}"
        openers = [
            subprocess.Popen(
                [sys.executable, "-c", OPENER, str(path), str(go), f"1390000000{n}"],
                stderr=subprocess.PIPE,
                text=True,
                cwd=ROOT,
            )
            for n in range(6)
        ]
        time.sleep(0.5)  # all are waiting for the signal
        go.touch()
        for opener in openers:
            _, err = opener.communicate(timeout=60)
            assert opener.returncode == 0, err
        history = History.open(path)
        assert len(history.runs()) == 6
        assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        history.close()


@pytest.mark.parametrize("delay", [0.0, 0.0007, 0.0015, 0.003, 0.006])
def test_a_killed_run_leaves_unknown_never_accepted(tmp_path: Path, delay: float) -> None:
    """SIGKILL lands at different points of the loop: while a request is being recorded,
    while it is "in flight" (a 1 ms pause stands for the HTTP call), or while its answer
    is being recorded."""
    path = tmp_path / "history.sqlite3"
    go = tmp_path / "go"
    go.touch()
    writer = start_writer(path, 7, 10_000, go, "0.001")  # runs until killed
    assert writer.stdout is not None
    for _ in range(20):
        writer.stdout.readline()
    time.sleep(delay)
    writer.send_signal(signal.SIGKILL)
    writer.communicate(timeout=10)
    history = History.open(path)
    [run] = history.runs()
    assert run.exit_code is None and run.finished is None
    counts = run.counts
    assert counts["accepted"] % 1000 == 0 and counts["accepted"] >= 20_000
    # Whatever was in flight is "unknown" (one request at most), never half a request.
    assert counts["unknown"] in (0, 1000)
    assert counts["accepted"] + counts["unknown"] == run.recorded
    if counts["unknown"]:
        last = f"17{counts['accepted'] // 1000 + 1:04d}00999"
        assert [p.status for p in history.by_phone(last)] == ["unknown"]
    raw = sqlite3.connect(path)
    per_request = [
        (count, len(phones.strip().split("\n")))
        for count, phones in raw.execute("SELECT count, phones FROM requests")
    ]
    raw.close()
    assert all(count == rows == 1000 for count, rows in per_request)


def test_a_request_in_flight_when_killed_is_unknown(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import sys, time
        from usms_cli.engine.history import History
        history = History.open(sys.argv[1])
        run = history.start_run("SendUSMSMessage", "UTA1", "Acme", None, "h", 2000)
        first = [f"139{n:08d}" for n in range(1000)]
        history.before_request(run, 1, first)
        history.after_request(run, 1, first, "accepted", 0, "SN-1")
        history.before_request(run, 2, [f"139{n:08d}" for n in range(1000, 2000)])
        print("sending", flush=True)
        time.sleep(60)  # the HTTP request that never comes back
        """
    )
    path = tmp_path / "history.sqlite3"
    child = subprocess.Popen(
        [sys.executable, "-c", script, str(path)], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    assert child.stdout is not None and child.stdout.readline() == "sending\n"
    child.kill()
    child.communicate(timeout=10)
    history = History.open(path)
    assert history.runs()[0].counts == {
        "accepted": 1000,
        "rejected": 0,
        "unknown": 1000,
        "not_sent": 0,
    }
    [row] = history.by_phone("13900001500")
    assert (row.status, row.session_no) == ("unknown", None)
    assert [r.status for r in history.recent_sends(["13900001500"], 0)] == ["unknown"]
    sessions = history.run_sessions()
    assert sessions is not None and list(sessions.sessions) == ["SN-1"]


# -- a history that cannot be used ------------------------------------------------------------

SAFE_SEND = textwrap.dedent(
    """
    import json, sys
    from usms_cli.engine.history_safe import SafeHistory
    warnings = []
    history = SafeHistory.open(sys.argv[1], warnings.append, busy_timeout=0.2)
    h = history.params_hash("UTA1", "Acme", ["123456"])
    recent = history.recent_sends(["13900000000"], 0)
    run = history.start_run("SendUSMSMessage", "UTA1", "Acme", None, h, 2000)
    for index in (1, 2):
        history.before_request(run, index, ["13900000000"])
        history.after_request(run, index, ["13900000000"], "accepted", 0, "SN")
    history.finish_run(run, 0)
    history.record_receipts([])
    history.close()
    print(json.dumps({"warnings": warnings, "active": history.active}))
    """
)


def safe_send(path: Path, *, obey_permissions: bool = False) -> dict[str, object]:
    """Run a whole send through SafeHistory in a child process; returns what it reported.
    ``obey_permissions``: when we are root, the child runs without the capabilities that let
    root write to read-only files and folders (util-linux ``setpriv``)."""
    prefix: list[str] = []
    if obey_permissions and os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.skip("running as root without setpriv: read-only files are writable")
        prefix = [setpriv, "--bounding-set=-dac_override,-dac_read_search,-fowner", "--"]
    result = subprocess.run(
        [*prefix, sys.executable, "-c", SAFE_SEND, str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    report: dict[str, object] = json.loads(result.stdout)
    return report


def test_a_corrupt_file_gives_one_warning_and_the_send_goes_on(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    path.write_bytes(b"this is not a database, just bytes " * 200)
    report = safe_send(path)
    assert report["active"] is False
    [warning] = report["warnings"]  # type: ignore[misc]
    assert str(path) in warning and "not a database" in warning
    assert "sending goes on" in warning
    with pytest.raises(HistoryError) as caught:
        History.open(path)
    assert caught.value.exit_code == ExitCode.USAGE
    assert "USMS_HISTORY" in (caught.value.hint or "")


def test_a_damaged_database_gives_one_warning_however_many_calls(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    history = History.open(path)
    for _ in range(20):
        send(history, numbers(1000))
    history.close()
    data = path.read_bytes()
    page = 4096
    path.write_bytes(data[: 2 * page] + b"\xff" * (len(data) - 2 * page))  # trash all but two
    for name in ("history.sqlite3-wal", "history.sqlite3-shm"):
        (tmp_path / name).unlink(missing_ok=True)
    warnings: list[str] = []
    safe = SafeHistory.open(path, warnings.append)
    for _ in range(3):
        run = safe.start_run("SendUSMSMessage", "UTA1", "Acme", None, "h", 1)
        safe.before_request(run, 1, ["13900000000"])
        safe.after_request(run, 1, ["13900000000"], "accepted", 0, "SN")
        safe.recent_sends(numbers(5), 0)
        safe.finish_run(run, 0)
    assert len(warnings) == 1 and "cannot be used" in warnings[0]
    assert safe.active is False


def test_a_read_only_file_gives_one_warning(tmp_path: Path) -> None:
    open_dir = tmp_path / "ro"
    path = open_dir / "history.sqlite3"
    history = History.open(path)  # creates open_dir
    send(history, numbers(10))
    history.close()
    for file in open_dir.iterdir():
        file.chmod(0o444)
    open_dir.chmod(0o555)
    try:
        report = safe_send(path, obey_permissions=True)
    finally:
        open_dir.chmod(0o755)
    assert report["active"] is False
    assert len(report["warnings"]) == 1  # type: ignore[arg-type]
    assert History.open(path).runs()[0].planned == 10  # untouched


def test_a_read_only_folder_gives_one_warning(tmp_path: Path) -> None:
    open_dir = tmp_path / "ro"
    open_dir.mkdir()
    open_dir.chmod(0o555)
    try:
        report = safe_send(open_dir / "state" / "usms" / "history.sqlite3", obey_permissions=True)
    finally:
        open_dir.chmod(0o755)
    assert report["active"] is False
    [warning] = report["warnings"]  # type: ignore[misc]
    assert "Permission denied" in warning or "read-only" in warning
    assert not (open_dir / "state").exists()


def test_a_locked_history_costs_a_bounded_wait_and_one_warning(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    History.open(path).close()
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process stuck inside a write
    warnings: list[str] = []
    safe = SafeHistory.open(path, warnings.append, busy_timeout=0.2)
    started = time.monotonic()
    run = safe.start_run("SendUSMSMessage", "UTA1", "Acme", None, "h", 1)
    safe.before_request(run, 1, ["13900000000"])
    safe.after_request(run, 1, ["13900000000"], "accepted", 0, "SN")
    assert time.monotonic() - started < 2
    assert len(warnings) == 1 and "locked" in warnings[0]
    other.execute("ROLLBACK")


def test_history_off_is_silent(tmp_path: Path) -> None:
    warnings: list[str] = []
    safe = SafeHistory.open(None, warnings.append)
    assert safe.start_run("SendUSMSMessage", "UTA1", None, None, None, 1) is None
    safe.before_request(None, 1, ["13900000000"])
    assert safe.recent_sends(["13900000000"], 0) == [] and safe.params_hash("T", None, []) == ""
    assert warnings == [] and not list(tmp_path.rglob("*.sqlite3*"))


def test_a_bug_in_the_history_does_not_fail_the_send(tmp_path: Path) -> None:
    warnings: list[str] = []
    safe = SafeHistory.open(tmp_path / "h.sqlite3", warnings.append)
    run = safe.start_run("SendBatchUSMSMessage", "UTA1", "Acme", None, None, 2)
    safe.before_request(run, 1, numbers(2), params_hashes=["only one"])  # caller's mistake
    safe.after_request(run, 1, numbers(2), "accepted", 0, "SN")
    assert len(warnings) == 1 and "internal error" in warnings[0]


def test_a_newer_schema_is_refused_with_a_message(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    History.open(path).close()
    sqlite3.connect(path).execute("PRAGMA user_version=99")
    with pytest.raises(HistoryError) as caught:
        History.open(path)
    assert "newer usms" in caught.value.message


# -- staying small ---------------------------------------------------------------------------


def test_prune_drops_runs_older_than_the_age(store: History) -> None:
    clock = store.clock
    assert isinstance(clock, Clock)
    old = send(store, numbers(300))
    clock.now += 80 * 86400
    middle = send(store, numbers(200, 1000))
    clock.now += 20 * 86400
    new = send(store, numbers(100, 2000))
    assert store.prune(timedelta(days=90)) == 300
    assert [r.id for r in store.runs()] == [new, middle]
    assert store.by_phone(numbers(1)[0]) == [] and store.run_sessions(old) is None
    assert store.prune(timedelta(days=1)) == 200
    assert store.prune(timedelta(days=1)) == 0


def test_the_cap_trims_the_oldest_runs_and_keeps_recent_ones(tmp_path: Path) -> None:
    clock = Clock()
    history = History.open(tmp_path / "h.sqlite3", clock=clock, max_rows=5000)
    busy = history.start_run("SendUSMSMessage", "UTA1", "Acme", None, "h", 500)  # in flight
    history.before_request(busy, 1, numbers(500, 90_000))
    runs = []
    for n in range(5):
        clock.now += 60
        runs.append(send(history, numbers(1000, n * 1000)))
    # 5500 numbers > 5000: the oldest finished runs go until at most 4500 remain.
    kept = {r.id for r in history.runs(limit=100)}
    assert kept == {busy, runs[1], runs[2], runs[3], runs[4]}
    assert history.by_phone("13900000000") == []
    assert history.by_phone("13900090000")[0].status == "unknown"
    assert history.by_phone("13900004999")[0].status == "accepted"


def test_a_csv_batch_keeps_each_numbers_params_hash(store: History) -> None:
    phones = numbers(300)
    hashes = [store.params_hash("UTA1", "Acme", [f"row {n}"]) for n in range(300)]
    run = store.start_run("SendBatchUSMSMessage", "UTA1", "Acme", None, None, 300)
    for index, start in enumerate((0, 200), start=1):
        chunk, own = phones[start : start + 200], hashes[start : start + 200]
        store.before_request(run, index, chunk, own)
        store.after_request(run, index, chunk, "accepted", 0, f"SN-{index}")
    recent = store.recent_sends([phones[5], phones[250]], since=0)
    assert {(r.phone, r.params_hash) for r in recent} == {
        (phones[5], hashes[5]),
        (phones[250], hashes[250]),
    }
    planned = Planned("UTA1", "", per_number={phones[5]: hashes[5], phones[250]: hashes[0]})
    assert [r.phone for r in find_repeats(recent, planned, store.clock())] == [phones[5]]


def test_small_and_big_requests_are_both_found_by_phone(store: History) -> None:
    phone = "13800138000"
    small = send(store, [phone])
    big = send(store, [*numbers(999), phone])
    assert [p.run_id for p in store.by_phone(phone)] == [big, small]
    assert isinstance(store.clock, Clock)
    store.clock.now += 1
    assert store.prune(timedelta(seconds=1)) == 0
    assert store.prune(timedelta(0)) == 1001
    assert store.by_phone(phone) == [] and store.runs() == []


def test_numbers_refused_by_name_are_not_recent_sends(store: History) -> None:
    phones = numbers(1000)
    send(store, phones, refused={phones[7]: "invalid"})
    few = store.recent_sends(phones[6:9], since=0)
    many = store.recent_sends(phones, since=0)
    assert sorted(r.phone for r in few) == [phones[6], phones[8]]
    assert len(many) == 999 and phones[7] not in {r.phone for r in many}
