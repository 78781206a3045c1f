"""The command as a whole: help, version, completions, python -m, exit codes in --help."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import run_usms
from usms_cli import __version__

ROOT = Path(__file__).resolve().parent.parent


def test_version() -> None:
    result = run_usms("--version")
    assert result.stdout.strip() == f"usms {__version__}"


def test_help_lists_commands_and_exit_codes() -> None:
    result = run_usms("--help")
    for word in ("send", "receipt", "template", "signature", "sandbox", "Exit codes"):
        assert word in result.stdout
    send_help = run_usms("send", "--help").stdout
    assert "5 outcome" in send_help and "unknown" in send_help
    assert "--private-key" not in send_help


@pytest.mark.parametrize(
    ("shell", "filename"), [("bash", "usms.bash"), ("zsh", "_usms"), ("fish", "usms.fish")]
)
def test_checked_in_completions_match_the_app(shell: str, filename: str) -> None:
    result = run_usms(env={"_USMS_COMPLETE": f"source_{shell}"})
    expected = result.stdout.lstrip("\n")
    checked_in = (ROOT / "completions" / filename).read_text(encoding="utf-8")
    assert checked_in == expected, "run completions/regenerate.sh"


def test_tab_completion_offers_commands() -> None:
    result = run_usms(
        env={"_USMS_COMPLETE": "complete_bash", "COMP_WORDS": "usms s", "COMP_CWORD": "1"}
    )
    assert set(result.stdout.split()) >= {"send", "sandbox", "signature"}


_WHOLE_APP = "from usms_cli.cli import app; app(prog_name='usms')"


@pytest.mark.parametrize("line", ["usms ", "usms s", "usms sig", "usms --", "usms --l"])
@pytest.mark.parametrize("shell", ["bash", "zsh", "fish", "powershell"])
def test_completing_a_command_name_offers_what_the_whole_app_offers(shell: str, line: str) -> None:
    """Completing the command name registers only names and short help (start-up); what the
    shell shows must be what the fully built app would show, help texts and order included."""
    import os

    if shell == "bash":
        env = {"COMP_WORDS": line, "COMP_CWORD": "1"}
    elif shell == "powershell":
        word = "" if line.endswith(" ") else line.split()[-1]
        env = {"_TYPER_COMPLETE_ARGS": line, "_TYPER_COMPLETE_WORD_TO_COMPLETE": word}
    else:
        env = {"_TYPER_COMPLETE_ARGS": line, "_TYPER_COMPLETE_FISH_ACTION": "get-args"}
    env = {**os.environ, **env, "_USMS_COMPLETE": f"complete_{shell}"}
    fast = subprocess.run(
        [sys.executable, "-m", "usms_cli"], capture_output=True, text=True, env=env, check=False
    )
    whole = subprocess.run(
        [sys.executable, "-c", _WHOLE_APP], capture_output=True, text=True, env=env, check=False
    )
    assert fast.returncode == whole.returncode == 0, fast.stderr + whole.stderr
    assert fast.stdout == whole.stdout
    assert fast.stdout.strip()


def test_python_dash_m_runs_the_same_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "usms_cli", "--version"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0
    assert done.stdout.strip() == f"usms {__version__}"


def test_bare_usms_shows_help_and_exits_2() -> None:
    result = run_usms(expect=2)
    assert "Usage" in result.stdout + result.stderr


def test_sandbox_command_prints_exports_serves_and_stops_on_sigterm(tmp_path: Path) -> None:
    import os
    import re
    import signal

    record = tmp_path / "sent.jsonl"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "usms_cli",
            "sandbox",
            "--port",
            "0",
            "--record",
            str(record),
            "--template",
            "UTHELLO=Hello {1}",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        exports: dict[str, str] = {}
        while "USMS_SIG_CONTENT" not in exports:
            line = proc.stdout.readline()
            assert line, proc.stderr.read() if proc.stderr else "sandbox exited"
            match = re.match(r"\s*export (\w+)=(.*)", line)
            if match:
                exports[match.group(1)] = match.group(2).strip().strip("'\"")
        assert exports["UCLOUD_API_BASE_URL"].startswith("http://127.0.0.1:")
        env = {**os.environ, **exports, "USMS_TEMPLATE_ID": "UTHELLO"}
        done = subprocess.run(
            [sys.executable, "-m", "usms_cli", "send", "-q", "-p", "世界", "13800000000"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
        assert done.returncode == 0, done.stderr
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=10)
    lines = record.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 and "【USMSSandbox】Hello 世界" in lines[0]


def _commands() -> list[tuple[str, object]]:
    import typer.main

    from usms_cli.cli import app

    root = typer.main.get_command(app)
    found: list[tuple[str, object]] = []

    def walk(name: str, command: object) -> None:
        found.append((name, command))
        for sub_name, sub in getattr(command, "commands", {}).items():
            walk(f"{name} {sub_name}", sub)

    walk("usms", root)
    return found


def test_every_option_has_help_and_every_command_lists_exit_codes() -> None:
    for name, command in _commands():
        for param in getattr(command, "params", []):
            if getattr(param, "param_type_name", "") == "option":
                assert getattr(param, "help", None), f"{name} {param.opts} has no help"
        if not getattr(command, "commands", None):  # a leaf command
            epilog = getattr(command, "epilog", "") or ""
            assert "Exit codes" in epilog, f"{name}: no exit codes in its epilog"
            assert "Example" in epilog, f"{name}: no examples in its epilog"


@pytest.mark.parametrize(
    ("args", "env"),
    [
        (["--help"], {}),
        (["send", "--help"], {}),
        ([], {"_USMS_COMPLETE": "complete_bash", "COMP_WORDS": "usms s", "COMP_CWORD": "1"}),
        (["--version"], {}),
    ],
)
def test_help_completion_and_version_do_not_import_heavy_modules(
    args: list[str], env: dict[str, str]
) -> None:
    import os

    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "usms_cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=False,
    )
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()}
    assert not {"rich", "requests", "dotenv", "urllib3"} & imported, sorted(imported)
