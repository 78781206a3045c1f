"""Every input has a bound no real file reaches: an endless (``/dev/zero``) or absurd one (a
50 MB line, 100,000 CSV columns) is exit 2 within a second, naming the file and the line, with
flat memory. Real processes, with a memory limit and their CPU time read from ``wait4``."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import creds, heard
from tests.conftest import run_unchecked as run_usms  # these tests check exit codes themselves
from usms_cli.core import csvbatch
from usms_cli.core.errors import InputError

SEND = ("send", "--dry-run", "-t", "UTA1", "-s", "Acme")
# The documented bounds (README "Limits").
MAX_LINE = 4096  # characters per line of a numbers file
MAX_CSV_LINE = 1 << 20  # per line of a CSV file
MAX_COLUMNS = 1024  # columns of a --csv file
MAX_PARAM_COLUMNS = 127  # param columns: variables a template of 500 characters can hold


DATA_LIMIT = 100 << 20  # bytes of heap a refusal may use: far less than the input


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_DATA, (DATA_LIMIT, DATA_LIMIT))


def run(
    *args: str, stdin: int | None = None, env: dict[str, str] | None = None
) -> tuple[int, str, float]:
    """``python -m usms_cli ARGS`` with at most DATA_LIMIT of memory: exit code, stderr and
    CPU seconds (not wall time: the machine may be busy)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "usms_cli", *args],
        stdin=stdin if stdin is not None else subprocess.DEVNULL,
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        preexec_fn=_limit_memory,
    )
    assert proc.stderr is not None
    limit = threading.Timer(30, proc.kill)  # an endless read must not hang the suite
    limit.start()
    try:
        with proc.stderr:
            err = heard(proc.stderr.read().decode("utf-8", "replace"))  # ends with the process
    finally:
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        limit.cancel()
    return proc.returncode, err, usage.ru_utime + usage.ru_stime


def check_refused(code: int, err: str, seconds: float, *needles: str) -> None:
    assert code == 2, err  # not 70 (out of memory) nor killed by the 30 s limit
    for needle in needles:
        assert needle in err, err
    assert "Traceback" not in err
    assert seconds < 1.5  # most of it is Python starting


@pytest.mark.parametrize(
    "args",
    [
        ("-p", "1", "-f", "/dev/zero"),
        ("-p", "1", "-f", "/dev/zero", "--column", "1"),
        ("--csv", "/dev/zero"),
    ],
)
def test_endless_input_is_refused_at_once(args: tuple[str, ...]) -> None:
    check_refused(*run(*SEND, *args), "/dev/zero", "line 1 ")


def test_endless_stdin_is_refused_at_once() -> None:
    with open("/dev/zero", "rb") as zero:
        check_refused(*run(*SEND, "-p", "1", "-f", "-", stdin=zero.fileno()), "line 1 ")


@pytest.mark.parametrize("journal", ["/dev/zero", "/dev/full"])
def test_a_device_is_no_journal(journal: str) -> None:
    code, err, seconds = run("send", "-t", "UTA1", "-s", "Acme", "-p", "1",
                                  "--base-url", "http://127.0.0.1:9", "13800000000",
                                  "--journal", journal, env=creds())  # fmt: skip
    check_refused(code, err, seconds, f"--journal {journal}")


def test_a_50_mb_line_of_spaces_is_refused_at_once(tmp_path: Path) -> None:
    path = tmp_path / "numbers.txt"
    with path.open("wb") as handle:
        handle.write(b"13800000000\n13800000001\n")
        handle.write(b" " * (50 << 20))
        handle.write(b"\n13800000002\n")
    check_refused(*run(*SEND, "-p", "1", "-f", str(path)), str(path), "line 3 ")


def test_a_long_line_in_a_csv_is_refused_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    with path.open("wb") as handle:
        handle.write(b"phone,code\n13800000000,1\n13800000001,")
        handle.write(b"7" * (MAX_CSV_LINE + 10))
        handle.write(b"\n")
    check_refused(*run(*SEND, "--csv", str(path)), str(path), "line 3 ")
    check_refused(*run(*SEND, "-p", "1", "-f", str(path)), str(path), "line 3 ")


def test_the_line_bound_leaves_real_lines_alone(tmp_path: Path) -> None:
    path = tmp_path / "numbers.txt"
    exactly = "13800000000" + " " * (MAX_LINE - 11)  # the longest line allowed
    path.write_text(f"{exactly}\n13800000001\n", encoding="utf-8")
    result = run_usms(*SEND, "-p", "1", "-f", str(path), "--json")
    assert result.exit_code == 0, result.stderr
    assert result.json["recipients"] == 2
    path.write_text(f"{exactly} \n13800000001\n", encoding="utf-8")
    result = run_usms(*SEND, "-p", "1", "-f", str(path))
    assert result.exit_code == 2 and "line 1 " in result.stderr


def test_long_lines_of_separators_parse_in_linear_time(tmp_path: Path) -> None:
    """Lines just under the bound, in the shapes that made the parser's regular expressions
    backtrack (quadratic: 0.16 s for each line of 4,096 spaces)."""
    path = tmp_path / "numbers.txt"
    shapes = [" " * 4000 + "x", "(" + " " * 4000, "+86" + " " * 4000 + "1", "." * 4000 + "x"]
    path.write_text("\n".join(shapes * 100) + "\n", encoding="utf-8")
    started = time.monotonic()
    result = run_usms(*SEND, "-p", "1", "-f", str(path))
    assert result.exit_code == 2 and "400 invalid phone numbers" in result.stderr, result.stderr
    assert time.monotonic() - started < 5  # about 0.1 s (quadratic before: minutes)


def test_a_journal_line_past_its_bound_is_exit_2(tmp_path: Path) -> None:
    journal = tmp_path / "j.jsonl"
    journal.write_bytes(b'{"event": "run", "x": "' + b"a" * (2 << 20) + b'"}\n')
    result = run_usms("send", "-t", "UTA1", "-s", "Acme", "-p", "1", "--base-url",
                      "http://127.0.0.1:9", "13800000000", "--journal", str(journal),
                      env=creds())  # fmt: skip
    assert result.exit_code == 2, result.stderr
    assert "line 1 is longer than" in result.stderr and str(journal) in result.stderr


# ---- 8. wide CSV files ------------------------------------------------------------------


def _wide_csv(path: Path, columns: int, rows: int) -> Path:
    header = ["phone"] + [f"c{i}" for i in range(1, columns)]
    lines = [",".join(header)]
    for row in range(rows):
        lines.append(",".join([f"139{row:08d}"] + ["v"] * (columns - 1)))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_100000_columns_are_refused_at_once(tmp_path: Path) -> None:
    path = _wide_csv(tmp_path / "wide.csv", 100_000, 2)
    code, err, seconds = run(*SEND, "--csv", str(path))
    check_refused(code, err, seconds, f"{str(path)}:1", "100,000 columns")


def test_more_param_columns_than_a_template_can_hold_is_exit_2(tmp_path: Path) -> None:
    path = _wide_csv(tmp_path / "wide.csv", MAX_PARAM_COLUMNS + 2, 2)
    result = run_usms(*SEND, "--csv", str(path))
    assert result.exit_code == 2
    assert f"{MAX_PARAM_COLUMNS + 1} param columns" in result.stderr


def test_the_widest_csv_allowed_maps_its_columns_in_linear_time(tmp_path: Path) -> None:
    path = _wide_csv(tmp_path / "wide.csv", MAX_COLUMNS, 500)
    started = time.monotonic()
    result = run_usms(*SEND, "--csv", str(path), "--param-columns", "c1,c2", "--json")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert result.json["recipients"] == 500
    assert time.monotonic() - started < 5
    too_wide = _wide_csv(tmp_path / "wider.csv", MAX_COLUMNS + 1, 1)
    result = run_usms(*SEND, "--csv", str(too_wide), "--param-columns", "c1")
    assert result.exit_code == 2 and f"{MAX_COLUMNS + 1:,} columns" in result.stderr


def test_column_mapping_is_linear_in_the_header(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the column bound, mapping 100,000 columns (each checked for a duplicate name)
    still takes a moment, not minutes."""
    monkeypatch.setattr(csvbatch, "MAX_COLUMNS", 10**6, raising=False)
    header = ["phone", *(f"c{i}" for i in range(1, 100_000))]
    text = ",".join(header) + "\n13800000000," + ",".join(["v"] * 99_999) + "\n"
    started = time.monotonic()
    with pytest.raises(InputError, match="99,999 param columns"):
        csvbatch.parse_table(text, "wide.csv")
    assert time.monotonic() - started < 2  # quadratic before: 132 s
