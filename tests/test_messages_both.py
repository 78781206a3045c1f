"""The messages a new user meets first, checked in the language under test: English by
default, Chinese when .ci/run sets USMS_TEST_LANG=zh for its second pass of the suite.
Each check is written with say(), so it holds in both."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import env_for, run_unchecked, run_usms, say
from usms_cli.sandbox import SandboxServer


def test_missing_credentials_say_what_is_missing_and_how_to_give_it() -> None:
    result = run_unchecked("send", "-t", "UTA1234", "-s", "Acme", "13800000000")
    assert result.exit_code == 2
    names = say("{a} and {b}", a="UCLOUD_PUBLIC_KEY", b="UCLOUD_PRIVATE_KEY")
    what = say("nothing was sent")
    assert say("no UCloud credentials: {names} not set; {what}", names=names, what=what) in (
        result.stderr
    )
    assert say("export them, put them in ./.env, pass --env-file PATH, or use --profile NAME") in (
        result.stderr
    )


def test_a_short_number_is_named_and_nothing_is_sent(sandbox: SandboxServer) -> None:
    result = run_unchecked("send", "12345", env=env_for(sandbox))
    assert result.exit_code == 2
    assert say("wrong length: a mainland mobile has 11 digits, this has {digits}", digits=5) in (
        result.stderr
    )
    assert say("fix them, or pass --skip-invalid to send to the valid ones only") in result.stderr
    assert sandbox.messages == []


def test_json_is_the_same_in_any_language(sandbox: SandboxServer) -> None:
    result = run_unchecked("send", "12345", "--json", env=env_for(sandbox))
    assert result.exit_code == 2
    assert result.json["error"].endswith("nothing was sent")  # English, whatever the language


def test_help_speaks_the_language_under_test() -> None:
    shown = run_usms("send", "--help").stdout
    assert shown.startswith(say("Usage:"))
    assert "".join(say("Show this message and exit.").split()) in "".join(shown.split())


def test_the_suppression_list_speaks_the_language_under_test(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("USMS_HISTORY", str(tmp_path / "history.sqlite3"))
    added = run_usms("suppress", "add", "13800000000").stdout
    line = say("Suppression list: {n:,} number added", n=1)
    assert added == say("{line}.", line=line) + "\n"
    listing = run_usms("suppress", "list").stdout
    assert say("{n:,} number on the suppression list.", n=1) in listing
    assert "138****0000" in listing and say("added by hand") in listing
    assert run_usms("suppress", "list", "--json").json["suppressed"][0]["phone"] == "13800000000"
