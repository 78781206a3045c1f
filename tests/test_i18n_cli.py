"""中文界面 of the command line's own messages and of the sandbox: ``usms --lang zh sandbox``
greets, shows its inbox and says goodbye in Chinese, while its HTTP answers stay UCloud's; the
messages that cli code prints itself (an interrupted run, a usage error, the repeat guard's
warning) are Chinese with ``--lang zh`` and English with ``--json``. Real processes and servers,
no mocks."""

from __future__ import annotations

import shlex
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import child_env, run_unchecked, run_usms
from usms_cli.sandbox import DEFAULT_PRIVATE_KEY, DEFAULT_PUBLIC_KEY

# Each test names its language (--lang, USMS_LANG): the Chinese pass leaves it alone.
pytestmark = pytest.mark.languages_inside

USMS = [sys.executable, "-m", "usms_cli"]


def _banner(process: subprocess.Popen[str]) -> list[str]:
    assert process.stdout is not None
    lines: list[str] = []
    while len(lines) < 20:
        line = process.stdout.readline()
        assert line, "the sandbox exited before printing its banner"
        lines.append(line.rstrip("\n"))
        if line.startswith("export USMS_SIG_CONTENT="):
            break
    return lines


def test_the_sandbox_speaks_the_language_of_its_run_and_its_answers_stay_ucloud_s(
    tmp_path: Path,
) -> None:
    process = subprocess.Popen(
        [*USMS, "--lang", "zh", "sandbox", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(),
        cwd=tmp_path,
    )
    try:
        banner = _banner(process)
        exports = dict(
            line.removeprefix("export ").split("=", 1)
            for line in banner
            if line.startswith("export ")
        )
        base_url = exports["UCLOUD_API_BASE_URL"]
        assert banner[0] == f"# USMS 沙箱正在 {base_url} 上监听（按 Ctrl-C 停止）"
        assert banner[1] == "# 1 个模板，1 个签名；回执在 2 秒后生成"
        assert banner[2] == "# 让 usms 使用这个沙箱："
        assert all(line.startswith(("#", "export ")) for line in banner)  # still valid shell
        env = {
            "UCLOUD_API_BASE_URL": base_url,
            "UCLOUD_PUBLIC_KEY": DEFAULT_PUBLIC_KEY,
            "UCLOUD_PRIVATE_KEY": DEFAULT_PRIVATE_KEY,
            "UCLOUD_PROJECT_ID": exports["UCLOUD_PROJECT_ID"],
            "USMS_SIG_CONTENT": exports["USMS_SIG_CONTENT"],
        }
        # the client runs in English: the sandbox's language is its own run's
        sent = run_usms(
            "send", "-t", exports["USMS_TEMPLATE_ID"], "-p", "1234", "13800000001", env=env
        )
        assert "Sent: 1 recipient accepted" in sent.stdout
        refused = run_unchecked("send", "--json", "-t", "NOPE", "-p", "1", "13800000002", env=env)
        assert refused.exit_code == 1
        # the API's answer is what UCloud would say, whatever the sandbox's language
        assert refused.json["requests"][0]["Message"] == "Template NOPE does not exist"
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=15)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert "Traceback" not in err
    assert out.splitlines()[-1] == "# USMS 沙箱已停止（共接收 1 条短信）"
    inbox = err.splitlines()
    assert any(
        line.startswith("→ 13800000001") and "（发送批次号 " in line and line.endswith("…）")
        for line in inbox
    ), err
    assert "✗ SendUSMSMessage 被拒绝：18017 Template NOPE does not exist" in inbox, err


def test_sandbox_option_errors_in_chinese(tmp_path: Path) -> None:
    result = run_usms("--lang", "zh", "sandbox", "--fail-rate", "2", expect=2)
    assert "--fail-rate 必须在 0 到 1 之间" in result.stderr
    result = run_usms("--lang", "zh", "sandbox", "--host", "192.0.2.1", expect=2)
    assert "沙箱只在本机监听：host 必须是回环地址" in result.stderr
    assert "'192.0.2.1'" in result.stderr
    result = run_usms("--lang", "zh", "sandbox", "--template", "UTA1", expect=2)
    assert "--template 'UTA1'：请写成 ID=TEXT，例如 'UTA1=您好 {1}'" in result.stderr
    config = tmp_path / "sandbox.toml"
    config.write_text("[[template]]\nid = 1\ntext = 'Hi'\n", encoding="utf-8")
    result = run_usms("--lang", "zh", "sandbox", "--config", str(config), expect=2)
    assert f"沙箱配置：{config}: [[template]] #1: 'id' 必须是字符串，实际是 1" in result.stderr
    english = run_usms("sandbox", "--fail-rate", "2", expect=2)
    assert "--fail-rate must be between 0 and 1" in english.stderr


def test_a_usage_error_of_the_cli_code_is_chinese_and_json_stays_english() -> None:
    both = ("receipt", "--last", "4a2e0c7e-5b1f-4c8e-9a3d-2f6b8c0d1e4f")
    chinese = run_usms("--lang", "zh", *both, expect=2)
    assert "请给出 SessionNo，或者用 --last / --run ID，不能同时使用" in chinese.stderr
    script = run_usms("--lang", "zh", *both, "--json", expect=2)
    assert script.json["error"] == "give SessionNos, or --last / --run ID, not both"
    assert "请" not in script.stdout + script.stderr


def test_the_repeat_guard_warning_is_chinese_and_json_stays_english(tmp_path: Path) -> None:
    env = {"USMS_HISTORY": str(tmp_path / "history.sqlite3")}
    run_usms("send", "--sandbox", "-p", "1", "13800000000", env=env)
    again = ("send", "--sandbox", "-p", "1", "--skip-repeats", "13800000000")
    chinese = run_usms("--lang", "zh", *again, "13800000001", env=env)
    assert (
        "跳过了 1 个在最近一分钟内已发过同一条短信的号码（--skip-repeats）：138****0000"
        in chinese.stderr
    )
    script = run_usms("--lang", "zh", *again, "13800000002", "--json", env=env)
    assert [r["phone"] for r in script.json["repeats"]] == ["13800000000"]
    assert "skipped 1 number(s) sent this same message in the last minute" in script.stderr
    assert "跳过" not in script.stderr


def _interrupted(tmp_path: Path, *args: str) -> tuple[int, str, str]:
    """``usms send --sandbox -f - ARGS`` stopped by Ctrl-C while it waits for more numbers."""
    process = subprocess.Popen(
        [*USMS, "send", "--sandbox", "-p", "1", "-f", "-", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=child_env(),
        cwd=tmp_path,
    )
    try:
        assert process.stdin is not None
        # more than a pipe buffer: when this write returns, usms is reading stdin
        process.stdin.write("".join(f"139{i:08d}\n" for i in range(60_000)))
        process.stdin.flush()
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    return process.returncode, out, err


def test_an_interrupted_run_says_so_in_chinese_and_json_stays_english(tmp_path: Path) -> None:
    code, out, err = _interrupted(tmp_path, "--lang", "zh")
    assert code == 130, err
    assert "已中断" in err
    assert "Traceback" not in err
    code, out, err = _interrupted(tmp_path, "--lang", "zh", "--json")
    assert code == 130, err
    assert "interrupted" in err
    assert "中断" not in out + err


def test_the_closed_stdout_note_is_chinese(tmp_path: Path) -> None:
    command = shlex.join([*USMS, "--lang", "zh", "send", "--sandbox", "-p", "1", "13800000000"])
    done = subprocess.run(
        ["bash", "-c", f"{command} >&-"],
        cwd=tmp_path,
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "usms：标准输出在全部写完之前已被关闭；退出码 0（" in done.stderr
    assert "stdout was closed" not in done.stderr
