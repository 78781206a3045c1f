"""中文界面 of the use cases (usms_cli/app): their errors, hints, warnings, questions and banners
come out in Chinese with ``--lang zh``, against the real sandbox; ``--json``, the files usms
writes and the Python API stay English."""

from __future__ import annotations

import json
import os
import re
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import (
    FAILING_NUMBER,
    PROMO,
    REJECTED,
    child_env,
    env_for,
    numbers_file,
    run_usms,
)
from usms_cli.sandbox import SandboxConfig, SandboxServer, start_sandbox

# Each test names its language (--lang, USMS_LANG): the Chinese pass leaves it alone.
pytestmark = pytest.mark.languages_inside

SESSION = "5a3c9e1b-7d42-4f7e-9c1a-2b8d4e6f0a13"
LATE_EVENING = "2026-11-24T22:00:00+08:00"  # outside the 08:00-20:00 marketing hours


def test_missing_credentials_error_and_hint_in_chinese_and_english_in_json() -> None:
    args = ("send", "13800000001", "-t", "UTA1234", "-s", "UCloud")
    zh = run_usms("--lang", "zh", *args, expect=2)
    assert "没有 UCloud 密钥：未设置 UCLOUD_PUBLIC_KEY 和 UCLOUD_PRIVATE_KEY；未发送任何请求" in (
        zh.stderr
    )
    assert "请用 export 设置、写入 ./.env、用 --env-file PATH 指定，或使用 --profile NAME" in (
        zh.stderr
    )
    assert "UCLOUD_PUBLIC_KEY and" not in zh.stderr

    data = run_usms("--lang", "zh", *args, "--json", expect=2).json
    assert data["error"] == (
        "no UCloud credentials: UCLOUD_PUBLIC_KEY and UCLOUD_PRIVATE_KEY not set; nothing was sent"
    )
    assert data["hint"].startswith("export them, put them in ./.env")


def test_config_check_says_what_was_not_checked_in_chinese() -> None:
    result = run_usms("--lang", "zh", "config", "check", expect=2)
    assert "未设置 UCLOUD_PUBLIC_KEY 和 UCLOUD_PRIVATE_KEY；未做任何检查" in result.stderr


def test_config_check_verdict_against_the_sandbox(sandbox: SandboxServer) -> None:
    env = env_for(sandbox)
    zh = run_usms("--lang", "zh", "config", "check", env=env)
    assert "密钥、项目和接入地址均可用" in zh.stdout
    assert "签名 'USMSSandbox' 的状态" in zh.stdout
    assert "公钥" in zh.stdout and "私钥" in zh.stdout and "<已设置，已隐藏>" in zh.stdout

    data = run_usms("--lang", "zh", "config", "check", "--json", env=env).json
    assert data["summary"].startswith("The keys, the project and the endpoint work")
    assert data["settings"]["private_key"]["value"] == "<set, hidden>"


def test_marketing_template_refused_outside_hours(sandbox: SandboxServer) -> None:
    env = {**env_for(sandbox, PROMO), "USMS_NOW": LATE_EVENING}
    args = ("send", "13800000001", "-p", "50%")
    zh = run_usms("--lang", "zh", *args, env=env, expect=2)
    assert "模板 UTPROMO 是营销模板" in zh.stderr
    assert "营销短信只能在北京时间 08:00-20:00 发送，现在是北京时间 22:00；未发送任何短信" in (
        zh.stderr
    )
    assert "--allow-outside-hours" in zh.stderr and "如确实可以现在发送" in zh.stderr
    assert sandbox.messages == []

    data = run_usms("--lang", "zh", *args, "--json", env=env, expect=2).json
    assert "is a marketing template; marketing SMS may be sent only 08:00-20:00" in data["error"]
    assert data["hint"].startswith("send it in those hours")


def test_dry_run_preflight_refusal_and_preview_note(sandbox: SandboxServer, tmp_path: Path) -> None:
    # a dry run with credentials checks the template first: a rejected one is refused
    env = env_for(sandbox, REJECTED)
    zh = run_usms("--lang", "zh", "send", "--dry-run", "13800000001", "-p", "x", env=env, expect=1)
    assert "模板 UTREJ 的状态为" in zh.stderr and "（含有营销内容）：发送会被拒绝" in zh.stderr
    assert "请查看 usms template UTREJ；只有审核通过的模板才能发送" in zh.stderr
    data = run_usms(
        "--lang", "zh", "send", "--json", "--dry-run", "13800000001", "-p", "x", env=env, expect=1
    ).json
    assert data["error"].endswith(": the send would be refused")

    # without credentials, a CSV preview says why it shows the params instead of the text
    table = tmp_path / "batch.csv"
    table.write_text("phone,name\n13800000001,张三\n", encoding="utf-8")
    args = (
        "send",
        "--dry-run",
        "--csv",
        str(table),
        "--preview",
        "1",
        "-t",
        "UTA1",
        "-s",
        "UCloud",
    )
    zh = run_usms("--lang", "zh", *args)
    assert "预览：没有密钥，无法查询模板内容；不显示费用（可用 --template-text TEXT 提供" in (
        zh.stderr
    )
    assert "预览改为显示每行的参数。" in zh.stderr


def test_invalid_numbers_and_the_column_hint(tmp_path: Path) -> None:
    listing = numbers_file(tmp_path, ["id,mobile", "1,13800000001", "2,12345"], "people.csv")
    zh = run_usms(
        "--lang", "zh", "send", "-f", str(listing), "-t", "UTA1", "-s", "UCloud", expect=2
    )
    assert "people.csv：有 2 个无效手机号；未发送任何请求" in zh.stderr
    assert "默认读取第一列；号码似乎在 'mobile' 列：请加 --column mobile" in zh.stderr


def test_a_large_send_without_a_terminal_is_not_confirmed(sandbox: SandboxServer) -> None:
    args = ("send", "13800000001", "13800000002", "-p", "1234", "--confirm-above", "1")
    zh = run_usms("--lang", "zh", *args, env=env_for(sandbox), expect=2)
    assert "2 个接收人，超过了 --confirm-above/USMS_CONFIRM_ABOVE 设定的上限 1" in zh.stderr
    assert "加 --yes 可直接发送" in zh.stderr
    data = run_usms("--lang", "zh", *args, "--json", env=env_for(sandbox), expect=2).json
    assert data["error"].startswith("2 recipients is more than the --confirm-above")


def test_throwaway_sandbox_banner_and_inbox() -> None:
    zh = run_usms("--lang", "zh", "send", "--sandbox", "13800000001", "-p", "1234")
    assert re.search(
        r"沙箱：本地 USMS 接入地址 http://127\.0\.0\.1:\d+（所有内容都不会离开本机）", zh.stderr
    )
    assert "  沙箱 → 138****0001：【USMSSandbox】" in zh.stderr


def test_history_and_receipt_errors(tmp_path: Path) -> None:
    zh = run_usms("--lang", "zh", "history", expect=2)
    assert "发送记录已关闭（USMS_HISTORY=off）" in zh.stderr
    history = tmp_path / "history.db"
    zh = run_usms("--lang", "zh", "history", env={"USMS_HISTORY": str(history)}, expect=2)
    assert f"{history} 还没有发送记录" in zh.stderr
    assert "usms 会把每次真实发送记录在那里；请先发送一次" in zh.stderr
    zh = run_usms("--lang", "zh", "receipt", "--wait", "--wait-interval", "0", SESSION, expect=2)
    assert "--wait-interval 必须是 > 0 的秒数" in zh.stderr


def test_deleting_without_a_terminal_needs_yes(sandbox: SandboxServer) -> None:
    args = ("template", "delete", "UTA1", "UTA2")
    zh = run_usms("--lang", "zh", *args, env=env_for(sandbox), expect=2)
    assert "删除 2 个模板（UTA1, UTA2）需要确认，但没有终端可以询问；未删除任何内容" in zh.stderr
    data = run_usms("--lang", "zh", *args, "--json", env=env_for(sandbox), expect=2).json
    assert data["error"].startswith("deleting 2 templates (UTA1, UTA2) needs a confirmation")


# ---- waiting for receipts: the live status line, on a terminal -----------------------------


@pytest.fixture
def slow_sandbox() -> Iterator[SandboxServer]:
    with start_sandbox(SandboxConfig(receipt_delay=60.0)) as server:
        yield server


def _run_on_a_terminal(args: list[str], env: dict[str, str], timeout: float = 30.0) -> str:
    """``python -m usms_cli ARGS`` with stderr on a pseudo-terminal; what it drew there."""
    import pty

    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "usms_cli", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=follower,
        env=env,
    )
    os.close(follower)
    drawn = b""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(leader, 65536)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                drawn += chunk
            elif proc.poll() is not None:
                break
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        proc.wait(10)
        os.close(leader)
    return drawn.decode("utf-8", "replace")


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal")
def test_receipt_wait_status_line_in_chinese(slow_sandbox: SandboxServer) -> None:
    env = env_for(slow_sandbox)
    sent = run_usms("send", "--json", "13800000001", "-p", "1234", env=env).json
    [session] = sent["session_nos"]
    child = child_env(**env, USMS_LANG="zh", COLUMNS="200", TERM="xterm", USMS_HISTORY="off")
    child.pop("NO_COLOR", None)
    args = ["receipt", session, "--wait", "--wait-timeout", "2", "--wait-interval", "1"]
    drawn = _run_on_a_terminal(args, child)
    assert "正在等待状态回执：已送达 0，失败 0，未定 " in drawn, drawn[-2000:]
    assert re.search(r"· \d+ 秒后再查 · 剩余 \d+ 秒", drawn), drawn[-2000:]
    assert "Waiting for receipts" not in drawn


def test_send_wait_in_english_json_has_no_chinese(sandbox: SandboxServer) -> None:
    env = env_for(sandbox)
    args = ("send", "--json", "13800000001", FAILING_NUMBER, "-p", "1234", "--wait")
    result = run_usms("--lang", "zh", *args, "--wait-interval", "0.2", env=env, expect=None)
    assert result.exit_code in (0, 1, 3)
    assert not re.search(r"[\u4e00-\u9fff]", json.dumps(json.loads(result.stdout)["requests"]))


# ---- usms listen: banner, warnings and summary on stderr; the events file stays as it was ----


def test_listen_banner_and_summary_in_chinese_events_unchanged(tmp_path: Path) -> None:
    out = tmp_path / "events.jsonl"
    env = child_env(USMS_LANG="zh")
    proc = subprocess.Popen(
        [sys.executable, "-m", "usms_cli", "listen", "--port", "0", "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stderr is not None
    try:
        first = proc.stderr.readline()
        match = re.search(r"http://127\.0\.0\.1:\d+/\S*", first)
        assert match and first.startswith("usms listen: 正在 "), first
        assert "接收 UCloud 推送" in first
        banner = [first] + [proc.stderr.readline() for _ in range(3)]
        assert banner[1] == f"  事件追加写入 {out}\n", banner
        assert banner[2].startswith("  回执和退订回复保存在 "), banner  # the history's hooks
        assert banner[3] == "  按 Ctrl-C 或发送 SIGTERM 停止。\n", banner
        import http.client
        from urllib.parse import urlsplit

        url = urlsplit(match.group(0))
        push = {"MsgType": 0, "Data": [{"Phone": "13900001111", "ReplyContent": "TD"}]}
        connection = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
        connection.request("POST", url.path, body=json.dumps(push).encode())
        assert connection.getresponse().status == 200
        connection.close()
        deadline = time.monotonic() + 10
        while not out.exists() or not out.read_text(encoding="utf-8").strip():
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, rest = proc.communicate(timeout=30)
    assert "usms listen: 已停止；记录了 1 个事件。" in rest, rest
    event = json.loads(out.read_text(encoding="utf-8"))
    assert not re.search(r"[\u4e00-\u9fff]", json.dumps(event, ensure_ascii=False)), event


# ---- the Python API: English unless the caller chose otherwise -----------------------------


def test_the_python_api_raises_english_errors_by_default() -> None:
    import usms_cli
    from usms_cli.app.env import Env
    from usms_cli.app.request import SendRequest
    from usms_cli.core.errors import UsmsError

    environ = {"USMS_TEMPLATE_ID": "UTA1", "USMS_SIG_CONTENT": "UCloud", "USMS_LANG": "zh"}
    with pytest.raises(UsmsError) as caught:
        usms_cli.send(SendRequest(phones=("13800000001",)), env=Env(environ=environ))
    assert caught.value.message == (
        "no UCloud credentials: UCLOUD_PUBLIC_KEY and UCLOUD_PRIVATE_KEY not set; nothing was sent"
    )


def test_the_question_before_a_large_send_in_chinese() -> None:
    import io

    from usms_cli import i18n
    from usms_cli.app.env import Env
    from usms_cli.app.guards import confirm_mass_send
    from usms_cli.core.errors import InputError
    from usms_cli.output.console import Output

    stderr = io.StringIO()
    console = Output(stdout=io.StringIO(), stderr=stderr)
    env = Env(environ={}, stdin=io.StringIO("n\n"), interactive=lambda: True)
    i18n.set_language("zh")
    try:
        with pytest.raises(InputError) as caught:
            confirm_mass_send(console, env, 1500, None, None, False)
    finally:
        i18n.set_language("en")
    assert stderr.getvalue() == "usms: 即将发送给 1,500 个接收人。确认发送？[y/N] \n"
    assert caught.value.message == "未发送：发送未经确认"
