"""Guards before a send: the cost preview (segments per distinct message), the mass-send
confirmation, and the marketing-hours window (08:00-20:00 China time)."""

from __future__ import annotations

from pathlib import Path

import pytest
from werkzeug import Response

from tests.conftest import PROMO, TWO_VARS, creds, env_for, run_usms
from tests.servers.fake_usms import FakeUSMS, api
from usms_cli.sandbox import SandboxServer

NUMBER = "13912345678"
CODE = "734519"
OTHER = "13700001111"


# ---- cost preview ---------------------------------------------------------------------------


def test_dry_run_shows_each_message_its_segments_and_the_total() -> None:
    long_code = "x" * 60  # 【USMSSandbox】您的验证码是 + 60 + ，5分钟内有效。 = 87: 2 segments
    args = ("send", "--sandbox", "--dry-run", "-p", long_code, NUMBER, OTHER, "+1 415 555 0100")
    result = run_usms(*args)
    assert "Messages   2 distinct messages" in result.stdout
    assert "【USMSSandbox】您的验证码是***，5分钟内有效。" in result.stdout
    assert "(87 characters, 2 SMS segments) × 2 recipients" in result.stdout
    assert "Cost       6 SMS segments in total for 3 recipients" in result.stdout
    assert long_code not in result.stdout
    cost = run_usms(*args, "--json").json["cost"]
    assert cost["total_segments"] == 6 and cost["distinct_messages"] == 2
    assert long_code in cost["messages"][0]["text"]


def test_template_text_gives_the_cost_and_checks_before_sending(fake: FakeUSMS) -> None:
    base = ("send", "--base-url", fake.url, "-t", "UT1", "-s", "Acme", NUMBER)
    dry = run_usms(*base, "--dry-run", "--template-text", "Code {1}", "-p", CODE)
    assert "【Acme】Code ***" in dry.stdout and "1 SMS segment in total" in dry.stdout
    wrong = run_usms(*base, "--template-text", "Code {1} {2}", "-p", CODE, env=creds(), expect=2)
    assert "2 variable(s) but 1 param(s)" in wrong.stderr
    too_long = run_usms(
        *base, "--template-text", "{1}" + "y" * 500, "-p", CODE, env=creds(), expect=2
    )
    assert "the limit is 500" in too_long.stderr
    assert fake.count == 0


def test_dry_run_checks_the_template_and_signature_and_shows_the_cost(fake: FakeUSMS) -> None:
    def approved(form: dict[str, str]) -> Response:
        if form["Action"] == "QueryUSMSSignature":
            return api(0, "", Data={"SigContent": "Acme", "Status": 2})
        return api(0, "", Data=[{"Template": "Hi {1}", "Purpose": 2, "Status": 2}])

    fake.answer(approved)
    base = ("send", "--base-url", fake.url, "-t", "UT1", "-s", "Acme", "-p", CODE, NUMBER)
    result = run_usms(*base, "--dry-run", env=creds())
    assert result.exit_code == 0, result.stderr
    assert "【Acme】Hi ***" in result.stdout and "1 SMS segment in total" in result.stdout
    # a dry run fails where the real send would (issue 13 #6): exit 1, the API's reason
    fake.answer(lambda form: api(18017, "no such template"))
    refused = run_usms(*base, "--dry-run", env=creds(), expect=1)
    assert refused.exit_code == 1 and "RetCode 18017" in refused.stderr
    fake.answer(lambda form: api(171, "Signature VerifyAC Error"))
    run_usms(*base, "--dry-run", env=creds(), expect=1)  # a wrong private key
    fake.answer(lambda form: api(0, "", Data={"Template": "Hi {1}", "Status": 1}))
    pending = run_usms(*base, "--dry-run", env=creds(), expect=1)
    assert pending.exit_code == 1 and "under review" in pending.stderr
    fake.answer(
        lambda form: (
            api(0, "", Data={"Template": "Hi {1}", "Status": 2, "SigContent": "Acme"})
            if form["Action"] == "QueryUSMSTemplate"
            else api(0, "", Data={"SigContent": "Acme", "Status": 3})
        )
    )
    bad_signature = run_usms(*base, "--dry-run", env=creds(), expect=1)
    assert bad_signature.exit_code == 1 and "signature 'Acme'" in bad_signature.stderr
    fake.requests.clear()
    offline = run_usms(*base, "--dry-run", "--offline", env=creds())
    assert offline.exit_code == 0 and fake.requests == []
    fake.requests.clear()
    fake.answer(lambda form: api(0, "ok", SessionNo="sn-1"))
    assert run_usms(*base, env=creds()).exit_code == 0
    assert [form["Action"] for form in fake.requests] == ["SendUSMSMessage"]  # no look-up


def test_csv_rows_with_a_message_too_long_stop_the_batch(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    source = tmp_path / "p.csv"
    source.write_text(f"phone,name,code\n{OTHER},Ann,1\n{NUMBER},{'z' * 500},2\n", "utf-8")
    text = ("--template-text", "尊敬的{1}，您的编号是{2}。")
    result = run_usms("send", "--csv", str(source), *text, env=env_for(sandbox, TWO_VARS), expect=2)
    assert f"{source}:3: the message would be" in result.stderr
    assert sandbox.request_counts["SendBatchUSMSMessage"] == 0


# ---- mass-send guard ------------------------------------------------------------------------


def many(count: int) -> str:
    return ",".join(f"1390000{i:04d}" for i in range(count))


def test_non_interactive_runs_are_never_asked_without_an_explicit_threshold() -> None:
    run_usms("send", "--sandbox", "-q", "-p", "1", many(1001))


def test_an_explicit_threshold_needs_yes_without_a_terminal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    args = ("send", "--sandbox", "-p", "1", many(3))
    refused = run_usms(*args, "--confirm-above", "2", expect=2)
    assert "3 recipients (3 SMS segments)" in refused.stderr and "--yes" in refused.stderr
    assert "sandbox →" not in refused.stderr
    run_usms(*args, "--confirm-above", "2", "--yes")
    run_usms(*args, "--confirm-above", "3")
    monkeypatch.setenv("USMS_CONFIRM_ABOVE", "2")
    run_usms(*args, expect=2)
    run_usms(*args, "-y")
    run_usms(*args, "--dry-run")  # dry runs are never guarded
    monkeypatch.setenv("USMS_CONFIRM_ABOVE", "lots")
    run_usms(*args, expect=2)


@pytest.mark.parametrize(("answer", "code"), [("y\n", 0), ("yes\n", 0), ("n\n", 2), ("", 2)])
def test_interactive_runs_ask_above_1000(
    monkeypatch: pytest.MonkeyPatch, answer: str, code: int
) -> None:
    from usms_cli.app import env

    monkeypatch.setattr(env, "is_interactive", lambda: True)
    result = run_usms("send", "--sandbox", "-p", "1", many(1001), input=answer, expect=code)
    assert "about to send to 1,001 recipients (1,001 SMS segments)" in result.stderr
    if code:
        assert "not sent" in result.stderr
    small = run_usms("send", "--sandbox", "-p", "1", many(2), input="")
    assert "about to send" not in small.stderr


# ---- marketing window -----------------------------------------------------------------------


@pytest.fixture
def night(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USMS_NOW", "2026-11-24T14:30:00Z")  # 22:30 China time


def test_marketing_template_is_refused_outside_hours(night: None, sandbox: SandboxServer) -> None:
    env = env_for(sandbox, PROMO)
    result = run_usms("send", "-p", "1", NUMBER, env=env, expect=2)
    assert "marketing template" in result.stderr and "22:30" in result.stderr
    assert "--allow-outside-hours" in result.stderr
    assert sandbox.request_counts["SendUSMSMessage"] == 0
    run_usms("send", "-p", "1", NUMBER, "--allow-outside-hours", env=env)
    run_usms("send", "-p", "1", NUMBER, env=env_for(sandbox))  # a verification code


def test_in_hours_sends_make_no_look_up(sandbox: SandboxServer) -> None:
    run_usms("send", "-p", "1", NUMBER, env=env_for(sandbox, PROMO))
    assert sandbox.request_counts["QueryUSMSTemplate"] == 0


def test_a_failed_look_up_proceeds_with_a_warning(night: None, fake: FakeUSMS) -> None:
    fake.answer(lambda form: api(0, "ok", SessionNo="sn-1"))
    args = ("send", "--base-url", fake.url, "-t", "UT1", "-s", "Acme", NUMBER)
    result = run_usms(*args, env=creds())
    assert "could not be checked" in result.stderr and "sending anyway" in result.stderr
