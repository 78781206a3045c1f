"""`usms send` against a real HTTP server on 127.0.0.1 that verifies every signature."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import PRIVATE_KEY, PUBLIC_KEY, creds, run_usms, say, usms_send
from tests.servers.fake_usms import FakeUSMS, accept, api

# ---- the happy path -----------------------------------------------------------------------


def test_one_send_prints_the_session_no_and_exits_0(fake: FakeUSMS) -> None:
    result = usms_send(fake.url, "-p", "123456", "13800000000")
    assert fake.count == 1
    form = fake.requests[0]
    assert form["Action"] == "SendUSMSMessage"
    assert form["PhoneNumbers.0"] == "13800000000"
    assert form["TemplateId"] == "UTA1234" and form["SigContent"] == "UCloud"
    assert form["TemplateParams.0"] == "123456"
    assert "Sent: 1 recipient accepted in 1 request." in result.stdout
    assert "SessionNo sn-" in result.stdout
    assert result.stderr == ""


def test_user_agent_names_the_tool(fake: FakeUSMS) -> None:
    usms_send(fake.url, "13800000000")
    assert fake.headers[0]["User-Agent"].startswith("usms-cli/")


def test_chinese_signature_and_params_are_signed_correctly(fake: FakeUSMS) -> None:
    run_usms(
        "send",
        "--base-url",
        fake.url,
        "-t",
        "UTA1234",
        "-s",
        "优刻得",
        "-p",
        "验证码123",
        "-p",
        "a&b=c%20+d",
        "13800000000",
        env=creds(),
    )
    assert fake.requests[0]["SigContent"] == "优刻得"
    assert fake.requests[0]["TemplateParams.1"] == "a&b=c%20+d"


def test_2500_numbers_from_a_messy_file_go_in_3_requests_nothing_lost_or_doubled(
    fake: FakeUSMS, tmp_path: Path
) -> None:
    expected = [f"1380000{i:04d}" for i in range(2500)]
    styles = [
        "{n}",
        "+86 {a} {b} {c}",
        "0086-{n}",
        "(86){n}",
        "86{n}",
        "{a}-{b}-{c}",
        "(0086) {n}",
        "{a}.{b}.{c}",
    ]
    lines = ["# recipients exported from the CRM", ""]
    for i, number in enumerate(expected):
        a, b, c = number[:3], number[3:7], number[7:]
        lines.append(styles[i % len(styles)].format(n=number, a=a, b=b, c=c))
        if i % 10 == 0:
            lines.append(f"{number}   # again, duplicated")
    path = tmp_path / "numbers.txt"
    path.write_bytes(b"\xef\xbb\xbf" + "\r\n".join(lines).encode() + b"\r\n")
    result = usms_send(fake.url, "-f", str(path), "--json")
    assert fake.count == 3
    received = [n for batch in fake.sent for n in batch]  # in arrival order (concurrent)
    assert sorted(received) == sorted(expected) and len(set(received)) == 2500
    report = result.json
    assert [r["count"] for r in report["requests"]] == [1000, 1000, 500]
    assert [n for r in report["requests"] for n in r["numbers"]] == expected  # input order
    assert report["duplicates_removed"] == 250
    assert report["recipients"] == 2500
    assert report["counts"]["accepted"] == 2500
    assert len(report["session_nos"]) == 3


def test_international_numbers_go_on_the_wire_as_cc_number(fake: FakeUSMS) -> None:
    usms_send(fake.url, "+1 415 555 0100, 0044 20 7123 4567", "(852) 9123 4567")
    assert fake.sent == [["(1)4155550100", "(44)2071234567", "(852)91234567"]]


def test_numbers_from_stdin_and_csv_column(fake: FakeUSMS, tmp_path: Path) -> None:
    csv_file = tmp_path / "people.csv"
    csv_file.write_text('name,mobile\n"Li, Lei",13800000001\nWang,13800000002\n', encoding="utf-8")
    usms_send(
        fake.url,
        "-f",
        "-",
        "-f",
        str(csv_file),
        "--column",
        "mobile",
        input="name,mobile\nZhao,13800000003\n",
    )
    assert fake.sent == [["13800000003", "13800000001", "13800000002"]]


def test_quiet_prints_only_session_numbers(fake: FakeUSMS) -> None:
    numbers = [f"1390000{i:04d}" for i in range(1500)]
    result = usms_send(fake.url, "-q", ",".join(numbers))
    lines = result.stdout.splitlines()
    assert len(lines) == 2 and all(line.startswith("sn-") for line in lines)


def test_json_is_one_object_with_per_request_details(fake: FakeUSMS) -> None:
    result = usms_send(fake.url, "--json", "13800000000", "13800000000")
    report = result.json
    assert report["ok"] is True and report["exit_code"] == 0
    assert report["duplicates_removed"] == 1
    (request,) = report["requests"]
    assert request["status"] == "accepted" and request["RetCode"] == 0
    assert request["numbers"] == ["13800000000"]
    assert request["SessionNo"].startswith("sn-")
    assert request["Message"] == "提交发送成功"
    assert request["request_id"] == "req-0001"


# ---- refusals ----------------------------------------------------------------------------


def test_wrong_private_key_exits_1_with_retcode_message_and_hint(fake: FakeUSMS) -> None:
    result = usms_send(fake.url, "13800000000", env={"UCLOUD_PRIVATE_KEY": "wrong-key"}, expect=1)
    assert "RetCode 171" in result.stderr and "Signature VerifyAC Error" in result.stderr
    assert "UCLOUD_PRIVATE_KEY" in result.stderr
    assert "req-0001" in result.stderr
    assert "wrong-key" not in result.stderr + result.stdout


def test_account_wide_refusal_stops_the_batch(fake: FakeUSMS) -> None:
    fake.answer(lambda form: api(18017, "template not approved"))
    numbers = ",".join(f"1390000{i:04d}" for i in range(2500))
    result = usms_send(fake.url, numbers, "--json", "-c", "1", expect=1)
    assert fake.count == 1
    statuses = [r["status"] for r in result.json["requests"]]
    assert statuses == ["rejected", "not_sent", "not_sent"]
    assert "-t/--template-id" in result.stderr


def test_partial_failure_exits_3(fake: FakeUSMS) -> None:
    fake.answer(accept, lambda form: api(18014, "some phone numbers invalid"), accept)
    numbers = ",".join(f"1390000{i:04d}" for i in range(2500))
    result = usms_send(fake.url, numbers, "--json", "-c", "1", expect=3)
    assert fake.count == 3
    report = result.json
    assert [r["status"] for r in report["requests"]] == ["accepted", "rejected", "accepted"]
    assert report["counts"] == {"accepted": 1500, "rejected": 1000, "unknown": 0, "not_sent": 0}
    assert "request 2 of 3" in result.stderr and "RetCode 18014" in result.stderr


# ---- never send twice ----------------------------------------------------------------------


def test_retcode_153_throttled_is_retried(fake: FakeUSMS) -> None:
    fake.answer(lambda form: api(153, "request throttled"), accept)
    usms_send(fake.url, "13800000000")
    assert fake.count == 2


# ---- bad input: exit 2, nothing sent -----------------------------------------------------


def test_missing_credentials_exit_2_and_no_request(fake: FakeUSMS) -> None:
    result = run_usms(
        "send", "--base-url", fake.url, "-t", "UTA1", "-s", "XX", "13800000000", expect=2
    )
    assert "UCLOUD_PUBLIC_KEY and UCLOUD_PRIVATE_KEY not set" in result.stderr
    assert fake.count == 0


def test_invalid_numbers_stop_the_run_naming_file_and_line(fake: FakeUSMS, tmp_path: Path) -> None:
    path = tmp_path / "list.txt"
    path.write_text("13800000000\n\nabc\n1380000\n+999 12345678\n", encoding="utf-8")
    result = usms_send(fake.url, "--show-pii", "-f", str(path), "12", expect=2)
    assert fake.count == 0
    assert "4 invalid phone numbers" in result.stderr
    assert f"{path}:3: 'abc': contains letters" in result.stderr
    assert f"{path}:4: '1380000'" in result.stderr
    assert "unknown country code +999" in result.stderr
    assert "argument 1: '12'" in result.stderr


def test_at_most_20_invalid_entries_are_listed_then_a_count(fake: FakeUSMS) -> None:
    bad = ",".join(f"bad{i}" for i in range(25))
    result = usms_send(fake.url, bad, expect=2)
    assert result.stderr.count(say("contains letters")) == 20
    assert "and 5 more invalid entries" in result.stderr


def test_skip_invalid_sends_the_valid_ones_and_reports_the_rest(fake: FakeUSMS) -> None:
    result = usms_send(fake.url, "--skip-invalid", "13800000000, nope, 13900000000")
    assert fake.sent == [["13800000000", "13900000000"]]
    assert "Skipped 1 invalid entry" in result.stdout
    assert "'nope'" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--extend-code", "12a", "13800000000"], "--extend-code must be digits"),
        (["--user-id", "x" * 33, "13800000000"], "at most 32"),
        (["--timeout", "abc", "13800000000"], "not a number"),
        ([], "no recipients"),
        (["-f", "/nonexistent/file.txt"], "no such file"),
    ],
)
def test_bad_options_exit_2_without_sending(fake: FakeUSMS, args: list[str], message: str) -> None:
    result = usms_send(fake.url, *args, expect=2)
    assert message in result.stderr
    assert fake.count == 0


def test_missing_template_exits_2(fake: FakeUSMS) -> None:
    result = run_usms(
        "send", "--base-url", fake.url, "-s", "XX", "13800000000", env=creds(), expect=2
    )
    assert "no template" in result.stderr


def test_plain_http_to_a_remote_host_is_refused() -> None:
    result = run_usms(
        "send",
        "--base-url",
        "http://api.ucloud.cn",
        "-t",
        "T",
        "-s",
        "SS",
        "13800000000",
        env=creds(),
        expect=2,
    )
    assert "https://" in result.stderr


def test_invalid_utf8_file_exits_2_naming_it(fake: FakeUSMS, tmp_path: Path) -> None:
    path = tmp_path / "latin1.txt"
    path.write_bytes(b"13800000000\n\xe9t\xe9\n")
    result = usms_send(fake.url, "-f", str(path), expect=2)
    assert "latin1.txt" in result.stderr and "UTF-8" in result.stderr
    assert fake.count == 0


def test_json_error_is_still_one_object(fake: FakeUSMS) -> None:
    result = usms_send(fake.url, "--json", "abc", expect=2)
    assert result.json["ok"] is False and result.json["exit_code"] == 2


# ---- configuration -------------------------------------------------------------------------


def test_dotenv_in_working_directory_provides_credentials(fake: FakeUSMS) -> None:
    Path(".env").write_text(
        f"UCLOUD_PUBLIC_KEY={PUBLIC_KEY}\nUCLOUD_PRIVATE_KEY='{PRIVATE_KEY}'\n"
        "USMS_TEMPLATE_ID=UTDOTENV\n",
        encoding="utf-8",
    )
    run_usms("send", "--base-url", fake.url, "-s", "XX", "13800000000")
    assert fake.requests[0]["TemplateId"] == "UTDOTENV"


def test_environment_beats_dotenv_and_flag_beats_environment(fake: FakeUSMS) -> None:
    Path(".env").write_text(
        f"UCLOUD_PUBLIC_KEY={PUBLIC_KEY}\nUCLOUD_PRIVATE_KEY=stale-key-in-dotenv\n"
        "USMS_TEMPLATE_ID=UTDOTENV\nUSMS_SIG_CONTENT=DotEnvSig\n",
        encoding="utf-8",
    )
    env = {"UCLOUD_PRIVATE_KEY": PRIVATE_KEY, "USMS_TEMPLATE_ID": "UTENV"}
    run_usms("send", "--base-url", fake.url, "13800000000", env=env)
    assert fake.requests[0]["TemplateId"] == "UTENV"
    assert fake.requests[0]["SigContent"] == "DotEnvSig"
    run_usms("send", "--base-url", fake.url, "-t", "UTFLAG", "13800000000", env=env)
    assert fake.requests[1]["TemplateId"] == "UTFLAG"


def test_env_file_option_and_no_interpolation(fake: FakeUSMS, tmp_path: Path) -> None:
    env_file = tmp_path / "prod.env"
    env_file.write_text(
        f"UCLOUD_PUBLIC_KEY={PUBLIC_KEY}\nUCLOUD_PRIVATE_KEY={PRIVATE_KEY}\n"
        "USMS_SIG_CONTENT=${HOME}\n",
        encoding="utf-8",
    )
    run_usms("send", "--env-file", str(env_file), "--base-url", fake.url, "-t", "T", "13800000000")
    assert fake.requests[0]["SigContent"] == "${HOME}"


def test_missing_env_file_is_exit_2(tmp_path: Path) -> None:
    result = run_usms(
        "send",
        "--env-file",
        str(tmp_path / "nope.env"),
        "-t",
        "T",
        "-s",
        "SS",
        "13800000000",
        expect=2,
    )
    assert "nope.env" in result.stderr


def test_base_url_from_either_environment_name(fake: FakeUSMS) -> None:
    env = {**creds(), "UCLOUD_BASE_URL": fake.url}
    run_usms("send", "-t", "T", "-s", "SS", "13800000000", env=env)
    env["UCLOUD_API_BASE_URL"] = "http://127.0.0.1:9"  # the first name wins
    run_usms("send", "-t", "T", "-s", "SS", "13800000000", env=env, expect=4)


def test_project_id_is_sent_when_set(fake: FakeUSMS) -> None:
    usms_send(fake.url, "13800000000", env={"UCLOUD_PROJECT_ID": "org-abc"})
    assert fake.requests[0]["ProjectId"] == "org-abc"


# ---- dry run and secrets ---------------------------------------------------------------------


def test_dry_run_sends_nothing_and_works_with_placeholder_keys(fake: FakeUSMS) -> None:
    result = run_usms(
        "send",
        "--base-url",
        fake.url,
        "--dry-run",
        "-t",
        "UTA1",
        "-s",
        "SS",
        "-p",
        "1",
        "13800000000",
    )
    assert fake.count == 0
    assert "Dry run: nothing was sent." in result.stdout
    assert "Signature=<redacted>" in result.stdout


def test_dry_run_json_lists_requests_with_redacted_signature(fake: FakeUSMS) -> None:
    numbers = ",".join(f"1390000{i:04d}" for i in range(1001))
    result = usms_send(fake.url, "--dry-run", "--offline", "--json", numbers)
    report = result.json
    assert report["dry_run"] is True and report["request_count"] == 2
    assert report["requests"][0]["params"]["Signature"] == "<redacted>"
    assert PUBLIC_KEY not in result.stdout
    assert fake.requests == []  # --offline: not even the read-only checks
    fake.answer(
        lambda form: api(0, "", Data={"Template": "Hi", "Status": 2, "SigContent": "UCloud"})
    )
    usms_send(fake.url, "--dry-run", "--json", numbers)
    # the read-only checks a real send would fail (issue 13 #6); nothing sent
    actions = [form["Action"] for form in fake.requests]
    assert actions == ["QueryUSMSTemplate", "QueryUSMSSignature"]


def test_private_key_and_signature_never_appear_even_verbose(fake: FakeUSMS) -> None:
    fake.answer(lambda form: api(171, "Signature VerifyAC Error"))
    result = usms_send(fake.url, "-v", "13800000000", expect=1)
    everything = result.stdout + result.stderr
    assert PRIVATE_KEY not in everything
    assert fake.requests[0]["Signature"] not in everything
    assert "Signature=<redacted>" in result.stderr
    assert "Action=SendUSMSMessage" in result.stderr


def test_no_flag_takes_the_private_key() -> None:
    result = run_usms("send", "--private-key", "x", "13800000000", expect=2)
    assert "No such option" in result.stderr
