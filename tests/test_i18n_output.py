"""Chinese output (issue 17): what ``usms_cli/output`` shows a person comes out in Chinese with
``--lang zh``, its tables stay aligned by display width (a CJK character takes two columns),
``NO_COLOR`` is respected at a real terminal, and ``--json`` stays English."""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import FAILING_NUMBER, child_env, env_for, run_usms
from usms_cli.core.text import width
from usms_cli.sandbox.server import SandboxServer

# Each test names its language (--lang, USMS_LANG): the Chinese pass leaves it alone.
pytestmark = pytest.mark.languages_inside

PHONES = ["13800000001", "13800000002", FAILING_NUMBER]
HEADERS = ["手机号", "结果", "代码", "说明", "时间", "计费条数"]
CJK = re.compile(r"[\u4e00-\u9fff]")
SGR = re.compile(r"\x1b\[[0-9;]*m")  # colour and bold escape codes


def send(server: SandboxServer, *args: str) -> str:
    """Send to PHONES in English with -q; the SessionNo."""
    result = run_usms("send", "-q", "-p", "1234", *PHONES, *args, env=env_for(server))
    return result.stdout.strip()


def wait_for_receipts(server: SandboxServer, session_no: str) -> None:
    env = env_for(server)
    run_usms("receipt", "-q", "--wait", "--timeout", "10", session_no, env=env, expect=1)


def columns(line: str) -> list[int]:
    """The display column where each cell of a plain table line starts (cells are separated by
    two or more spaces; a cell may hold single spaces, like a time)."""
    return [width(line[: m.start()]) for m in re.finditer(r"\S+(?: \S+)*", line)]


def test_send_result_line_in_chinese(sandbox: SandboxServer) -> None:
    result = run_usms("--lang", "zh", "send", "-p", "1234", *PHONES, env=env_for(sandbox))
    assert "发送成功：3 个接收人已提交（1 个请求）。" in result.stdout
    assert re.search(r"SessionNo \S+  （3 个号码）", result.stdout)


def test_send_json_stays_english(sandbox: SandboxServer) -> None:
    result = run_usms("--lang", "zh", "send", "--json", "-p", "1234", *PHONES, env=env_for(sandbox))
    payload = result.json
    assert payload["ok"] is True and payload["counts"]["accepted"] == 3
    assert payload["requests"][0]["status"] == "accepted"
    for request in payload["requests"]:
        request.pop("Message")  # the API's own words, shown verbatim (the sandbox's are Chinese)
    assert not CJK.search(json.dumps(payload, ensure_ascii=False)), payload
    assert not CJK.search(result.stderr), result.stderr


def test_dry_run_labels_line_up_in_chinese(sandbox: SandboxServer) -> None:
    result = run_usms(
        "--lang", "zh", "send", "--dry-run", "-p", "1234", *PHONES, env=env_for(sandbox)
    )
    out = result.stdout
    assert out.startswith("试运行：没有发送任何短信。\n")
    labelled = [line for line in out.splitlines() if line.startswith(("模板", "签名", "费用"))]
    assert len(labelled) == 3, out
    assert {columns(line)[1] for line in labelled} == {11}, labelled  # as in English
    assert "（31 个字，计费 1 条）× 3 个接收人" in out
    assert "3 个接收人，共计费 3 条" in out


def test_receipt_table_in_chinese_is_aligned(sandbox: SandboxServer) -> None:
    session_no = send(sandbox)
    wait_for_receipts(sandbox, session_no)
    result = run_usms("--lang", "zh", "receipt", session_no, env=env_for(sandbox), expect=1)
    header, *rows = [line for line in result.stdout.splitlines() if line.strip()][:4]
    assert header.split() == HEADERS
    starts = columns(header)
    full = [row for row in rows if len(columns(row)) == len(HEADERS)]
    assert len(full) == 3, result.stdout
    for row in full:
        assert columns(row) == starts, (header, row)
    assert any("已送达" in row for row in rows) and any("失败" in row for row in rows)
    assert "状态回执：已送达 2，失败 1。" in result.stdout


def test_receipt_json_and_quiet_stay_english(sandbox: SandboxServer) -> None:
    session_no = send(sandbox)
    wait_for_receipts(sandbox, session_no)
    env = env_for(sandbox)
    payload = run_usms("--lang", "zh", "receipt", "--json", session_no, env=env, expect=1).json
    assert payload["counts"] == {"delivered": 2, "failed": 1, "unknown": 0, "pending": 0}
    assert {row["result"] for row in payload["receipts"]} == {"delivered", "failed"}
    quiet = run_usms("receipt", "-q", session_no, env={**env, "USMS_LANG": "zh"}, expect=1)
    assert sorted(line.split("\t")[1] for line in quiet.stdout.splitlines()) == [
        "delivered",
        "delivered",
        "failed",
    ]


def test_error_prefix_and_hint_in_chinese(sandbox: SandboxServer) -> None:
    session_no = send(sandbox)
    result = run_usms(
        "receipt",
        session_no,
        "--wait",
        "--timeout",
        "0.1",
        # one phone more than were sent: the wait cannot end early, however slow the machine
        # (the sandbox's receipts come after 0.2 s, which a busy CI machine may already be past)
        "--expect",
        str(len(PHONES) + 1),
        env={**env_for(sandbox), "USMS_LANG": "zh"},
        expect=None,
    )
    assert "usms: 错误：不再等待：" in result.stderr, result.stderr
    assert "  提示：真实回执可能要几分钟" in result.stderr


def test_history_table_in_chinese_is_aligned(
    sandbox: SandboxServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("USMS_HISTORY", str(tmp_path / "history.sqlite3"))
    send(sandbox)
    history = run_usms("--lang", "zh", "history", env=env_for(sandbox))
    header, row = history.stdout.splitlines()[:2]
    assert header.split() == ["批次", "时间（北京）", "模板", "号码数", "结果", "退出码"]
    assert columns(row) == columns(header)
    assert "已提交 3" in row


def _terminal_run(args: list[str], env: dict[str, str], columns_: int) -> str:
    """``python -m usms_cli ARGS`` with stdout and stderr on a real terminal; all it wrote."""
    main, child = pty.openpty()
    env = {**env, "COLUMNS": str(columns_), "LINES": "40", "TERM": "xterm-256color"}
    process = subprocess.Popen(
        [sys.executable, "-m", "usms_cli", *args],
        stdin=subprocess.DEVNULL,
        stdout=child,
        stderr=child,
        env=env,
        cwd=os.getcwd(),
    )
    os.close(child)
    chunks: list[bytes] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        ready, _, _ = select.select([main], [], [], 0.2)
        if ready:
            try:
                data = os.read(main, 65536)
            except OSError:  # the child closed the terminal
                break
            if not data:
                break
            chunks.append(data)
        elif process.poll() is not None:
            break
    process.wait(timeout=10)
    os.close(main)
    text = b"".join(chunks).decode("utf-8", "replace").replace("\r\n", "\n")
    # The status line on stderr moves the cursor and clears its line when it goes: drop those
    # cursor sequences (colours, ``m``, stay for the NO_COLOR check).
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-ln-z]", "", text)


def test_no_color_at_a_terminal_gives_plain_aligned_chinese(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    session_no = send(sandbox)
    wait_for_receipts(sandbox, session_no)
    env = child_env(**env_for(sandbox), NO_COLOR="1", USMS_LANG="zh")
    text = _terminal_run(["receipt", session_no], env, 120)
    assert not SGR.search(text), repr(text)
    lines = [line for line in text.splitlines() if "手机号" in line or "138" in line]
    header = next(line for line in lines if "手机号" in line)
    for row in lines[1:]:
        assert columns(row) == columns(header), (header, row)


def test_rich_table_at_narrow_and_wide_terminals_keeps_phones_whole(
    sandbox: SandboxServer,
) -> None:
    session_no = send(sandbox)
    wait_for_receipts(sandbox, session_no)
    env = child_env(**env_for(sandbox), USMS_LANG="zh")
    env.pop("NO_COLOR", None)
    for size in (60, 120):
        text = SGR.sub("", _terminal_run(["receipt", session_no], env, size))
        lines = text.splitlines()
        assert any(line.split()[:2] == HEADERS[:2] for line in lines if line.strip()), text
        for phone in PHONES:
            assert f"{phone[:3]}****{phone[-4:]}" in text, (size, text)
        table = [line for line in lines if "手机号" in line or "****" in line]
        assert table and all(width(line) <= size for line in table), (size, text)
        assert "状态回执：已送达 2，失败 1。" in text
