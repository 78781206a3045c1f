"""Output streams (README "Output"): --json gives exactly one object, usage errors included; a
closed or broken stdout never changes the exit code, loses the journal or skips the reports;
--debug shows the traceback of an internal error and still exits 70."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import run_unchecked as run_usms  # they check exit codes themselves

USMS = [sys.executable, "-m", "usms_cli"]


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["send", "--json", "--bogus", "13800000000"], "--bogus"),
        (["send", "--json", "-c", "99", "13800000000"], "99"),
        (["receipt", "--json", "--bogus"], "--bogus"),
        (["send", "13800000000", "--json", "--rate"], "--rate"),
    ],
)
def test_json_usage_errors_are_one_json_object(args: list[str], said: str) -> None:
    result = run_usms(*args)
    assert result.exit_code == 2
    payload = json.loads(result.stdout)  # exactly one object: json.loads refuses trailing text
    assert payload["ok"] is False and payload["exit_code"] == 2
    assert said in payload["error"]
    assert "Error:" in result.stderr  # a person still reads the usual message


def test_usage_errors_without_json_print_nothing_on_stdout() -> None:
    result = run_usms("send", "--bogus", "13800000000")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "No such option: --bogus" in result.stderr


def _child_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UCLOUD_", "USMS_"))}
    env.update(HOME=str(tmp_path), USMS_NOW="2026-11-24T10:00:00+08:00", PYTHONUNBUFFERED="")
    return env


def _numbers(tmp_path: Path, count: int) -> Path:
    path = tmp_path / "n.txt"
    path.write_text("".join(f"138{n:08d}\n" for n in range(count)))
    return path


@pytest.mark.parametrize("plumbing", ["| head -c 100", "| true", ">&-"])
def test_a_closed_stdout_keeps_the_send_exit_code_journal_and_reports(
    tmp_path: Path, plumbing: str
) -> None:
    numbers = _numbers(tmp_path, 3000)  # a JSON report larger than a pipe buffer
    journal, dotenv = tmp_path / "j.jsonl", tmp_path / "report.env"
    command = " ".join(
        [
            *USMS,
            "send --sandbox --json -p 1 -f",
            str(numbers),
            f"--journal {journal} --report-dotenv {dotenv}",
        ]
    )
    script = f'{command} {plumbing}; echo "exit=${{PIPESTATUS[0]}}" >&2'
    done = subprocess.run(
        ["bash", "-c", script],
        cwd=tmp_path,
        env=_child_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "exit=0" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr and "Exception ignored" not in done.stderr
    assert "BrokenPipeError" not in done.stderr
    assert "USMS_EXIT_CODE=0" in dotenv.read_text()
    records = [json.loads(line) for line in journal.read_text().splitlines()]
    assert sum(len(r["numbers"]) for r in records if r.get("status") == "accepted") == 3000
    if plumbing != "| head -c 100":
        # nothing of the report reached stdout: one line on stderr says how the send ended
        assert "stdout was closed" in done.stderr
        assert "all 3,000 numbers accepted" in done.stderr or "exit code 0" in done.stderr


def test_debug_shows_the_traceback_and_keeps_exit_70(monkeypatch: pytest.MonkeyPatch) -> None:
    from usms_cli.app import send as send_module

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug for the test")

    monkeypatch.setattr(send_module, "send", broken)
    debug = run_usms("send", "--sandbox", "--debug", "13800000000")
    assert debug.exit_code == 70
    assert "Traceback" in debug.stderr and "a bug for the test" in debug.stderr
    plain = run_usms("send", "--sandbox", "13800000000")
    assert plain.exit_code == 70
    assert "Traceback" not in plain.stderr
    assert "unexpected internal error (RuntimeError)" in plain.stderr
