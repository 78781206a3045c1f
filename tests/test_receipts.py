"""`usms receipt`, `template`, `signature` and `send --sandbox/--wait`, against the sandbox."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import FAILING_NUMBER, REJECTED, env_for, run_usms
from usms_cli.sandbox import SandboxServer

# The shared sandbox (tests/conftest.py) never delivers FAILING_NUMBER, holds the refused
# marketing template REJECTED and the signature 'Pending' (id SIGP), still under review.


def send_q(server: SandboxServer, *numbers: str) -> str:
    return run_usms("send", "-q", "-p", "123456", *numbers, env=env_for(server)).stdout.strip()


def test_receipt_before_the_delay_is_pending_and_exit_5(sandbox: SandboxServer) -> None:
    sandbox.config.receipt_delay = 30
    sn = send_q(sandbox, "13800000000")
    result = run_usms("receipt", sn, env=env_for(sandbox), expect=5)
    assert "no receipts yet" in result.stdout
    assert "--wait" in result.stderr


def test_wait_until_delivered_exits_0_with_a_table(sandbox: SandboxServer) -> None:
    sn = send_q(sandbox, "13800000000", "+1 415 555 0100")
    result = run_usms(
        "receipt", "--wait", "--interval", "0.1", "--timeout", "10", sn, env=env_for(sandbox)
    )
    assert "138****0000" in result.stdout and "delivered" in result.stdout
    assert "DELIVRD" in result.stdout
    assert "Receipts: 2 delivered." in result.stdout


def test_wait_with_a_failed_delivery_exits_1(sandbox: SandboxServer) -> None:
    sn = send_q(sandbox, "13800000000", FAILING_NUMBER)
    result = run_usms(
        "receipt", "--wait", "--interval", "0.1", sn, "--json", env=env_for(sandbox), expect=1
    )
    report = result.json
    assert report["counts"] == {"delivered": 1, "failed": 1, "unknown": 0, "pending": 0}
    failed = [r for r in report["receipts"] if r["result"] == "failed"]
    assert failed[0]["Phone"] == FAILING_NUMBER and failed[0]["ReceiptCode"] == "UNDELIVRD"


def test_wait_gives_up_at_the_timeout_with_exit_5(sandbox: SandboxServer) -> None:
    sandbox.config.receipt_delay = 30
    sn = send_q(sandbox, "13800000000")
    result = run_usms(
        "receipt",
        "--wait",
        "--interval",
        "0.1",
        "--timeout",
        "0.5",
        sn,
        env=env_for(sandbox),
        expect=5,
    )
    assert "gave up waiting" in result.stderr


def test_receipt_quiet_prints_phone_and_result(sandbox: SandboxServer) -> None:
    sn = send_q(sandbox, "13800000000")
    result = run_usms("receipt", "-q", "--wait", "--interval", "0.1", sn, env=env_for(sandbox))
    assert result.stdout == "13800000000\tdelivered\n"


def test_more_than_100_sessions_are_asked_in_chunks(sandbox: SandboxServer) -> None:
    sessions = [f"unknown-session-{i}" for i in range(150)]
    result = run_usms("receipt", *sessions, "--json", env=env_for(sandbox), expect=5)
    assert sandbox.request_counts["GetUSMSSendReceipt"] == 2
    # none of them has reported, and usms does not know their phones: nothing is counted as
    # pending per phone; the sessions are listed as silent (issue 13: not "1 pending" each)
    assert result.json["receipts"] == []
    assert len(result.json["sessions_without_receipts"]) == 150
    assert result.json["all_phones_counted"] is False


def test_receipt_with_a_wrong_key_exits_1(sandbox: SandboxServer) -> None:
    env = {**env_for(sandbox), "UCLOUD_PRIVATE_KEY": "not-the-key"}
    result = run_usms("receipt", "some-session", env=env, expect=1)
    assert "RetCode 171" in result.stderr


def test_send_wait_reports_delivery_in_one_command(sandbox: SandboxServer) -> None:
    result = run_usms(
        "send",
        "--wait",
        "--wait-interval",
        "0.1",
        "-p",
        "1",
        "13800000000",
        "--json",
        env=env_for(sandbox),
    )
    report = result.json  # still exactly one JSON object
    assert report["counts"]["accepted"] == 1
    assert report["receipts"]["counts"]["delivered"] == 1


def test_send_wait_fails_the_job_when_delivery_fails(sandbox: SandboxServer) -> None:
    result = run_usms(
        "send",
        "--wait",
        "--wait-interval",
        "0.1",
        "-q",
        "-p",
        "1",
        FAILING_NUMBER,
        env=env_for(sandbox),
        expect=1,
    )
    assert len(result.stdout.split()) == 1  # -q: only the SessionNo


def test_template_lookup_approved_exits_0(sandbox: SandboxServer) -> None:
    result = run_usms("template", "UTSANDBOX1", env=env_for(sandbox))
    assert "approved" in result.stdout
    assert "verification code" in result.stdout
    assert "您的验证码是{1}" in result.stdout


def test_rejected_template_exits_1_with_reason(sandbox: SandboxServer) -> None:
    result = run_usms("template", REJECTED, "--json", env=env_for(sandbox), expect=1)
    assert result.json["status"] == "rejected"
    assert result.json["data"]["ErrDesc"] == "含有营销内容"
    human = run_usms("template", REJECTED, env=env_for(sandbox), expect=1)
    assert "marketing" in human.stdout and "含有营销内容" in human.stdout


def test_unknown_template_exits_1(sandbox: SandboxServer) -> None:
    result = run_usms("template", "UTNOPE", env=env_for(sandbox), expect=1)
    assert "RetCode 18017" in result.stderr


def test_signature_lookup_by_content_and_id(sandbox: SandboxServer) -> None:
    run_usms("signature", "USMSSandbox", env=env_for(sandbox))
    result = run_usms("signature", "--id", "SIGP", "-q", env=env_for(sandbox), expect=1)
    assert result.stdout.strip() == "under review"


def test_signature_needs_an_argument() -> None:
    run_usms("signature", expect=2)


def test_send_sandbox_needs_no_account_and_shows_the_message() -> None:
    result = run_usms("send", "--sandbox", "--show-pii", "-p", "246810", "13800000000")
    assert "Sent: 1 recipient accepted" in result.stdout
    assert "【USMSSandbox】您的验证码是246810，5分钟内有效。" in result.stderr


def test_send_sandbox_wait_end_to_end() -> None:
    result = run_usms(
        "send",
        "--sandbox",
        "--wait",
        "--wait-interval",
        "0.2",
        "-p",
        "1",
        "13800000000",
        "13900000000",
    )
    assert "Receipts: 2 delivered." in result.stdout


def test_send_sandbox_with_wrong_param_count_is_refused_before_sending() -> None:
    # The sandbox knows the template text, so the param count is checked up front (exit 2).
    result = run_usms("send", "--sandbox", "13800000000", expect=2)
    assert "1 variable(s) but 0 param(s)" in result.stderr
    assert "-p/--param" in result.stderr


def test_bad_wait_options_are_refused_before_anything_is_sent(sandbox: SandboxServer) -> None:
    result = run_usms(
        "send",
        "--wait",
        "--wait-interval",
        "0",
        "-p",
        "1",
        "13800000000",
        env=env_for(sandbox),
        expect=2,
    )
    assert "--wait-interval" in result.stderr
    assert sandbox.request_counts["SendUSMSMessage"] == 0


# ---- issue 13: what receipt --wait knows, and how SessionNos are read ----------------------


def test_wait_without_the_phones_says_silent_phones_are_not_counted(
    sandbox: SandboxServer,
) -> None:
    """The API lists only phones that reported: 'usms receipt --wait SN' must not call a
    two-phone session delivered because one phone reported, without saying so."""
    sn = send_q(sandbox, "13800000000", "13800000001")
    result = run_usms(
        "receipt", "--wait", "--wait-interval", "0.1", "--json", sn, env=env_for(sandbox),
        expect=None,
    )  # fmt: skip
    assert result.json["all_phones_counted"] is False
    human = run_usms("receipt", sn, env=env_for(sandbox), expect=None)
    assert "cannot be counted" in human.stdout


def test_wait_with_expect_counts_the_phones_that_have_not_reported(
    sandbox: SandboxServer,
) -> None:
    sn = send_q(sandbox, "13800000000")
    result = run_usms(
        "receipt", "--wait", "--wait-interval", "0.1", "--wait-timeout", "3", "--expect", "2",
        "--json", sn, env=env_for(sandbox), expect=5,
    )  # fmt: skip
    # one phone reported; one is still pending
    assert result.json["counts"]["delivered"] == 1 and result.json["counts"]["pending"] == 1
    assert result.json["all_phones_counted"] is True


def test_wait_with_phones_names_the_silent_ones(sandbox: SandboxServer, tmp_path: Any) -> None:
    sn = send_q(sandbox, "13800000000")
    phones = tmp_path / "phones.txt"
    phones.write_text("13800000000\n13800000009\n")
    result = run_usms(
        "receipt", "--wait", "--wait-interval", "0.1", "--wait-timeout", "3",
        "--phones", str(phones), "--json", sn, env=env_for(sandbox), expect=5,
    )  # fmt: skip
    pending = [r["Phone"] for r in result.json["receipts"] if r["result"] == "pending"]
    assert pending == ["13800000009"]
    listed = run_usms(
        "receipt", "--phones", "13800000000", "--json", sn, env=env_for(sandbox), expect=None
    )  # the list form
    assert listed.json["all_phones_counted"] is True


def test_session_nos_from_q_output_in_one_argument_and_from_stdin(
    sandbox: SandboxServer,
) -> None:
    """SN=$(usms send -q …) holds one SessionNo per line once a send needs two requests."""
    first = send_q(sandbox, "13800000000")
    second = send_q(sandbox, "13800000001")
    joined = f"{first}\n{second}\n"
    result = run_usms("receipt", "--json", joined, env=env_for(sandbox), expect=None)
    assert result.json["session_nos"] == [first, second]
    piped = run_usms("receipt", "--json", "-", input=joined, env=env_for(sandbox), expect=None)
    assert piped.json["session_nos"] == [first, second]


@pytest.mark.parametrize("typo", ["$SN", "5a3c9e1b7d42", "{'SessionNo': 1}", "x" * 300])
def test_a_malformed_session_no_is_exit_2_before_any_request(
    sandbox: SandboxServer, typo: str
) -> None:
    result = run_usms("receipt", typo, env=env_for(sandbox), expect=2)
    assert "is not a SessionNo" in result.stderr
    assert sandbox.request_counts.get("GetUSMSSendReceipt", 0) == 0


def test_the_old_timeout_spelling_still_works_but_is_not_advertised(
    sandbox: SandboxServer,
) -> None:
    sn = send_q(sandbox, "13800000000")
    run_usms("receipt", "--wait", "--interval", "0.1", "--timeout", "10", sn, env=env_for(sandbox))
    assert "--timeout" not in run_usms("receipt", "--help").stdout
    assert "--wait-timeout" in run_usms("receipt", "--help").stdout
