"""Opt-outs (issue 16): the suppression list (``usms suppress``), marketing sends that skip
it, ``usms listen`` storing pushed receipts and opt-out replies, and the whole loop on one
machine: sandbox --push-to -> send -> push -> listen -> history -> reply "TD" -> suppressed
-> the next marketing send skips the number."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PROMO, env_for, heard, run_unchecked, run_usms
from tests.test_listen import Captured, post, reply_push
from usms_cli.app.listen import BackgroundListener, ListenConfig
from usms_cli.app.suppress import ListenHooks
from usms_cli.sandbox import SandboxServer

A, B = "13800000001", "13800000002"


@pytest.fixture
def history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "state" / "history.sqlite3"
    monkeypatch.setenv("USMS_HISTORY", str(path))
    return path


def eventually(check: Callable[[], Any], timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.05)


def listed() -> dict[str, dict[str, Any]]:
    return {e["phone"]: e for e in run_usms("suppress", "list", "--json").json["suppressed"]}


def sent_to(sandbox: SandboxServer, phone: str) -> int:
    return sum(1 for m in sandbox.messages if m["phone"] == phone)


# --------------------------------------------------------------------------------------------
# usms suppress


def test_add_list_remove_by_hand_masked_for_people_full_in_json(history: Path) -> None:
    added = run_usms("suppress", "add", A, "+8613800000002", A, "--note", "asked by phone")
    assert "2 numbers added" in added.stdout and A not in added.stdout
    assert history.exists() and history.stat().st_mode & 0o777 == 0o600
    again = run_usms("suppress", "add", A, "--json").json
    assert again["added"] == [] and again["already_listed"] == [A]
    human = run_usms("suppress", "list").stdout
    assert "138****0001" in human and A not in human
    assert "added by hand: asked by phone" in human and "2 numbers on the suppression list" in human
    entries = listed()
    assert set(entries) == {A, B}  # +86 written as usms sends it
    assert entries[A]["source"] == "hand" and entries[A]["added"] > 0
    assert run_usms("suppress", "list", "--show-pii").stdout.count(A) == 1
    removed = run_usms("suppress", "remove", A, "13900000000", "--json").json
    assert removed["removed"] == [A] and removed["not_listed"] == ["13900000000"]
    assert set(listed()) == {B}


@pytest.mark.parametrize(
    "args",
    [
        ("suppress", "add", "12345"),
        ("suppress", "add"),
        ("suppress", "remove", "138000000011"),
        ("suppress", "add", A, "-f", "missing.txt"),
    ],
)
def test_bad_numbers_exit_2_and_change_nothing(history: Path, args: tuple[str, ...]) -> None:
    result = run_unchecked(*args)
    assert result.exit_code == 2 and "error" in result.stderr
    assert listed() == {}


def test_bad_input_in_json_mode_is_one_json_object(history: Path) -> None:
    result = run_unchecked("suppress", "add", "12345", "--json")
    assert result.exit_code == 2 and result.json["ok"] is False and result.json["error"]


def test_the_list_needs_the_history(monkeypatch: pytest.MonkeyPatch) -> None:
    result = run_unchecked("suppress", "add", A)
    assert result.exit_code == 2 and "USMS_HISTORY=off" in result.stderr


def test_an_empty_list_says_so(history: Path) -> None:
    assert "The suppression list is empty." in run_usms("suppress", "list").stdout
    assert run_usms("suppress", "list", "--json").json["count"] == 0
    assert not history.exists()  # listing creates nothing


def test_push_sends_the_list_to_the_blacklist_for_marketing(
    sandbox: SandboxServer, history: Path
) -> None:
    run_usms("suppress", "add", A, B)
    pushed = run_usms("suppress", "push", "--json", env=env_for(sandbox)).json
    assert pushed["ok"] and sorted(pushed["added"]) == [A, B] and pushed["requests"] == 1
    human = run_usms("suppress", "push", env=env_for(sandbox)).stdout
    assert "2 numbers added" in human and A not in human
    # the sandbox now refuses marketing to them, and still sends them codes
    run_usms("send", "-p", "1", "--include-suppressed", A, env=env_for(sandbox, PROMO))
    assert sent_to(sandbox, A) == 0
    run_usms("send", "-p", "123456", A, env=env_for(sandbox))
    assert sent_to(sandbox, A) == 1


def test_push_of_an_empty_list_exits_2(sandbox: SandboxServer, history: Path) -> None:
    result = run_unchecked("suppress", "push", env=env_for(sandbox))
    assert result.exit_code == 2 and "empty" in result.stderr
    assert sandbox.request_counts["BatchCreateUSMSBlacklistPhone"] == 0


# --------------------------------------------------------------------------------------------
# usms send


def test_a_marketing_send_skips_suppressed_numbers_and_reports_them(
    sandbox: SandboxServer, history: Path
) -> None:
    run_usms("suppress", "add", A)
    promo = env_for(sandbox, PROMO)
    result = run_usms("send", "-p", "x", A, B, "--json", env=promo).json
    assert result["suppressed"] == {"count": 1, "phones": [A]}
    assert result["recipients"] == 1 and sent_to(sandbox, A) == 0 and sent_to(sandbox, B) == 1
    human = run_usms("send", "-p", "y", A, B, env=promo)
    assert "Skipped 1 number(s) on the suppression list" in human.stderr
    assert A not in human.stdout + human.stderr
    dry = run_usms("send", "-p", "z", "--dry-run", A, B, "--json", env=promo).json
    assert dry["suppressed"]["count"] == 1 and dry["recipients"] == 1
    forced = run_usms("send", "-p", "w", "--include-suppressed", A, "--json", env=promo).json
    assert "suppressed" not in forced and sent_to(sandbox, A) == 1


def test_other_templates_still_reach_suppressed_numbers(
    sandbox: SandboxServer, history: Path
) -> None:
    run_usms("suppress", "add", A)
    result = run_usms("send", "-p", "123456", A, B, "--json", env=env_for(sandbox)).json
    assert "suppressed" not in result and sent_to(sandbox, A) == 1
    assert sandbox.request_counts["QueryUSMSTemplate"] == 1  # looked up: a number was listed


def test_a_send_with_no_listed_number_makes_no_extra_request(
    sandbox: SandboxServer, history: Path
) -> None:
    run_usms("suppress", "add", A)
    run_usms("send", "-p", "x", B, env=env_for(sandbox, PROMO))
    assert sandbox.request_counts["QueryUSMSTemplate"] == 0


def test_when_every_number_is_suppressed_nothing_is_sent(
    sandbox: SandboxServer, history: Path
) -> None:
    run_usms("suppress", "add", A)
    result = run_unchecked("send", "-p", "x", A, env=env_for(sandbox, PROMO))
    assert result.exit_code == 2 and "suppression list" in result.stderr
    assert "--include-suppressed" in result.stderr and sandbox.messages == []


# --------------------------------------------------------------------------------------------
# usms listen's hooks


@pytest.fixture
def listening(tmp_path: Path, history: Path) -> Iterator[tuple[BackgroundListener, Captured]]:
    captured = Captured()
    config = ListenConfig(port=0, out=tmp_path / "events.jsonl")
    listener = BackgroundListener(config, captured.output, ListenHooks(history).hooks)
    yield listener, captured
    listener.close()


def test_opt_out_replies_go_on_the_list_and_other_replies_do_not(listening: Any) -> None:
    listener, _ = listening
    assert post(listener.url, reply_push("谢谢", phone="13900001111"))[0] == 200
    assert post(listener.url, reply_push("回TD。", phone="8613900002222"))[0] == 200
    entries = eventually(listed)
    assert list(entries) == ["13900002222"]  # normalised: +86 dropped, as usms sends it
    assert entries["13900002222"]["source"] == "reply"
    assert entries["13900002222"]["detail"] == "回TD。"
    human = run_usms("suppress", "list").stdout
    assert "opt-out reply [4 characters]" in human and "回TD" not in human
    assert 'opt-out reply "回TD。"' in run_usms("suppress", "list", "--show-pii").stdout


def test_listen_with_the_history_off_says_so_once_and_records_nothing(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from usms_cli.app.env import Env
    from usms_cli.app.suppress import listen_hooks

    hooks, note = listen_hooks(Env(environ={"USMS_HISTORY": "off"}))
    assert hooks == [] and "USMS_HISTORY=off" in note
    captured = Captured()
    config = ListenConfig(port=0, out=tmp_path / "e.jsonl", notes=[note])
    with BackgroundListener(config, captured.output, hooks) as listener:
        post(listener.url, reply_push("TD"))
        captured.wait_for("reply", "stdout")
    assert captured.stderr.getvalue().count("USMS_HISTORY=off") == 1


# --------------------------------------------------------------------------------------------
# The whole loop


def test_the_whole_loop_on_one_machine(
    sandbox: SandboxServer, listening: Any, history: Path
) -> None:
    listener, captured = listening
    sandbox.config.push_to = listener.url
    sandbox.config.push_retry_delay = 0.05
    promo = env_for(sandbox, PROMO)

    first = run_usms("send", "-p", "spring", A, B, "--json", env=promo).json
    assert first["counts"]["accepted"] == 2

    def receipt_in_history() -> Any:
        sends = run_usms("history", "--phone", A, "--json").json["sends"]
        return sends and sends[0].get("receipt") == "delivered" and sends

    sends = eventually(receipt_in_history)
    assert sends, run_usms("history", "--phone", A, "--json").stdout
    assert "delivered" in run_usms("history", "--phone", A).stdout
    captured.wait_for("receipt 138****0001 delivered", "stdout")

    replied = run_usms("sandbox", "reply", A, "TD", "--url", sandbox.base_url)
    assert "pushed" in replied.stdout and A not in replied.stdout
    entries = eventually(listed)
    assert list(entries) == [A] and entries[A]["source"] == "reply"

    second = run_usms("send", "-p", "summer", A, B, "--json", env=promo).json
    assert second["suppressed"] == {"count": 1, "phones": [A]}
    assert sent_to(sandbox, A) == 1 and sent_to(sandbox, B) == 2


def test_the_listen_command_wires_the_hooks_and_reads_usms_opt_out_words(
    history: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import signal

    from tests.test_listen import _start_process

    monkeypatch.setenv("USMS_OPT_OUT_WORDS", "STOPPLZ,停")
    proc, url = _start_process(tmp_path / "events.jsonl", "-q")
    assert proc.stderr is not None
    banner = heard("")  # read it all here: communicate() does not see what readline() buffered
    while "Ctrl-C or SIGTERM stops it." not in banner and proc.poll() is None:
        banner += proc.stderr.readline()
    try:
        assert post(url, reply_push("TD", phone="13900004444"))[0] == 200  # not in the list now
        assert post(url, reply_push("stopplz!", phone="13900003333"))[0] == 200  # (in order)
        entries = eventually(listed)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=15)
    assert list(entries) == ["13900003333"]
    assert (banner + err).count(str(history)) == 1 and "Traceback" not in err
