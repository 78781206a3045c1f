"""Personal data is masked in every human-facing output unless --show-pii; machine outputs
(--json, -q, the journal, --failed-out) keep full values."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug import Response

from tests.conftest import FakeUSMS, Result, api, creds, run_usms
from usms_cli.sandbox import (
    DEFAULT_PRIVATE_KEY,
    DEFAULT_PUBLIC_KEY,
    SandboxConfig,
    SandboxServer,
    Template,
    start_sandbox,
)

NUMBER = "13912345678"
CODE = "734519"
OTHER = "13700001111"
MASKED = "139****5678"


def leaks(result: Result) -> list[str]:
    text = result.stdout + result.stderr
    return [value for value in (NUMBER, CODE) if value in text]


def assert_masked(result: Result) -> None:
    assert not leaks(result), (result.stdout, result.stderr)


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    config = SandboxConfig(receipt_delay=0.1)
    config.templates["UTNAME"] = Template("UTNAME", "尊敬的{1}，您的编号是{2}。")
    with start_sandbox(config) as server:
        yield server


def env_for(server: SandboxServer, template: str = "UTSANDBOX1") -> dict[str, str]:
    return {
        "UCLOUD_PUBLIC_KEY": DEFAULT_PUBLIC_KEY,
        "UCLOUD_PRIVATE_KEY": DEFAULT_PRIVATE_KEY,
        "UCLOUD_API_BASE_URL": server.base_url,
        "UCLOUD_PROJECT_ID": "org-sandbox",
        "USMS_TEMPLATE_ID": template,
        "USMS_SIG_CONTENT": "USMSSandbox",
    }


@pytest.mark.parametrize("mode", [(), ("-v",)])
def test_send_sandbox_masks_human_output_and_show_pii_unmasks(mode: tuple[str, ...]) -> None:
    result = run_usms("send", "--sandbox", *mode, "-p", CODE, NUMBER)
    assert result.exit_code == 0, result.stderr
    assert_masked(result)
    assert f"sandbox → {MASKED}: 【USMSSandbox】您的验证码是***" in result.stderr
    shown = run_usms("send", "--sandbox", *mode, "--show-pii", "-p", CODE, NUMBER)
    assert shown.exit_code == 0
    assert NUMBER in shown.stderr and CODE in shown.stderr


def test_machine_outputs_keep_full_values(fake: FakeUSMS, tmp_path: Path) -> None:
    fake.answer(lambda form: api(18017, "template not approved"))
    base = ("send", "--base-url", fake.url, "-t", "UT1", "-s", "Acme", "-p", CODE, NUMBER)
    journal, failed = tmp_path / "j.jsonl", tmp_path / "failed.txt"
    result = run_usms(
        *base, "--json", "--journal", str(journal), "--failed-out", str(failed), env=creds()
    )
    assert result.exit_code == 1
    assert result.json["requests"][0]["numbers"] == [NUMBER]
    assert NUMBER in journal.read_text(encoding="utf-8")
    assert CODE in journal.read_text(encoding="utf-8")
    assert NUMBER in failed.read_text(encoding="utf-8").split()
    fake.answer(lambda form: api(0, "ok", SessionNo="sn-1"))
    assert run_usms(*base, "-q", env=creds()).stdout == "sn-1\n"


def test_refusal_unknown_and_verbose_are_masked(fake: FakeUSMS) -> None:
    base = ("send", "--base-url", fake.url, "-t", "UT1", "-s", "Acme", "-p", CODE)
    fake.answer(lambda form: api(18017, "template not approved"))
    refused = run_usms(*base, "-v", NUMBER, OTHER, env=creds())
    assert refused.exit_code == 1
    assert_masked(refused)
    assert MASKED in refused.stderr and "TemplateParams.0=***" in refused.stderr
    fake.answer(lambda form: Response("oops " + NUMBER, status=500))
    unknown = run_usms(*base, "-v", NUMBER, env=creds())
    assert unknown.exit_code == 5
    assert_masked(unknown)
    assert "outcome UNKNOWN" in unknown.stderr and MASKED in unknown.stderr
    shown = run_usms(*base, "-v", "--show-pii", NUMBER, env=creds())
    assert NUMBER in shown.stderr and CODE in shown.stderr


def test_dry_run_and_invalid_entries_are_masked(tmp_path: Path) -> None:
    numbers = tmp_path / "n.txt"
    numbers.write_text(f"{NUMBER}\n{OTHER}\n1{NUMBER}99\n", encoding="utf-8")
    args = ("send", "--dry-run", "-t", "UT1", "-s", "Acme", "-p", CODE, "-f", str(numbers))
    refused = run_usms(*args)
    assert refused.exit_code == 2
    assert_masked(refused)
    assert "invalid phone number" in refused.stderr
    dry = run_usms(*args, "--skip-invalid", "-v")
    assert dry.exit_code == 0, dry.stderr
    assert_masked(dry)
    assert "Params     '***'" in dry.stdout and f"Recipients {MASKED}" in dry.stdout
    as_json = run_usms(*args, "--json")
    assert f"1{NUMBER}99" in as_json.json["details"][0]
    assert run_usms(*args, "--json", "--skip-invalid").json["invalid"][0]["entry"] == (
        f"1{NUMBER}99"
    )
    shown = run_usms(*args, "--skip-invalid", "--show-pii")
    assert NUMBER in shown.stdout and CODE in shown.stdout


def test_receipt_table_is_masked(sandbox: SandboxServer) -> None:
    env = env_for(sandbox)
    sent = run_usms("send", "-q", "-p", CODE, NUMBER, env=env)
    assert sent.exit_code == 0, sent.stderr
    args = ("receipt", "--wait", "--interval", "0.1", sent.stdout.strip())
    table = run_usms(*args, "-v", env=env)
    assert_masked(table)
    assert MASKED in table.stdout
    assert NUMBER in run_usms(*args, "--show-pii", env=env).stdout
    assert NUMBER in run_usms(*args, "-q", env=env).stdout
    assert NUMBER in run_usms(*args, "--json", env=env).stdout


def test_csv_batch_with_refusals_dry_run_and_preview_are_masked(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    source = tmp_path / "p.csv"
    with source.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([["phone", "name", "code"], [NUMBER, "Ann", CODE]])
        csv.writer(handle).writerows([[OTHER, "Bob", "000111"]])
    sandbox.config.refuse_numbers.add(NUMBER)
    env = env_for(sandbox, "UTNAME")
    failed = tmp_path / "failed.csv"
    base = ("send", "--csv", str(source))
    result = run_usms(*base, "-v", "--failed-out", str(failed), env=env)
    assert result.exit_code == 3, result.stderr
    assert_masked(result)
    assert f"{MASKED}: phone in the black list" in result.stderr
    assert NUMBER in failed.read_text(encoding="utf-8")
    preview = run_usms(*base, "--dry-run", "--preview", "2", "-v", env=env)
    assert preview.exit_code == 0, preview.stderr
    assert_masked(preview)
    assert "您的编号是***" in preview.stdout
    no_keys = run_usms(*base, "--dry-run", "--preview", "2", "-t", "UTNAME", "-s", "Acme")
    assert_masked(no_keys)
    assert "code='***'" in no_keys.stdout
    shown = run_usms(*base, "--dry-run", "--preview", "2", "--show-pii", env=env)
    assert NUMBER in shown.stdout and CODE in shown.stdout
    as_json = run_usms(*base, "--dry-run", "--preview", "2", "--json", env=env)
    assert json.dumps(as_json.json["preview"], ensure_ascii=False).count(CODE) >= 1


# ---- CI-native output -----------------------------------------------------------------------


@pytest.fixture
def github(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    files = {"output": tmp_path / "gh_output", "summary": tmp_path / "gh_summary"}
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_OUTPUT", str(files["output"]))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(files["summary"]))
    return files


def read_outputs(path: Path) -> dict[str, str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    values: dict[str, str] = {}
    while lines:
        line = lines.pop(0)
        if "<<" in line:
            key, delimiter = line.split("<<", 1)
            end = lines.index(delimiter)
            values[key], lines = "\n".join(lines[:end]), lines[end + 1 :]
        else:
            key, _, value = line.partition("=")
            values[key] = value
    return values


def test_github_actions_masks_first_writes_outputs_and_summary(
    github: dict[str, Path], tmp_path: Path
) -> None:
    result = run_usms("send", "--sandbox", "--json", "-p", CODE, NUMBER, OTHER)
    assert result.exit_code == 0, result.stderr
    stderr = result.stderr.splitlines()
    assert stderr[:3] == [f"::add-mask::{CODE}", f"::add-mask::{NUMBER}", f"::add-mask::{OTHER}"]
    report = json.loads(result.stdout)  # exactly one JSON object on stdout
    assert result.stdout.count("\n") == 1
    outputs = read_outputs(github["output"])
    assert outputs["status"] == "accepted" and outputs["exit_code"] == "0"
    assert outputs["accepted"] == "2" and outputs["recipients"] == "2"
    assert outputs["session_nos"].split() == report["session_nos"]
    assert "### usms send: accepted" in github["summary"].read_text(encoding="utf-8")
    assert NUMBER not in github["summary"].read_text(encoding="utf-8")


def test_github_actions_failure_annotates_and_reports(
    github: dict[str, Path], fake: FakeUSMS
) -> None:
    fake.answer(lambda form: api(18017, "template not approved"))
    result = run_usms(
        "send", "--base-url", fake.url, "-t", "UT1", "-s", "Acme", NUMBER, env=creds()
    )
    assert result.exit_code == 1
    assert result.stderr.startswith(f"::add-mask::{NUMBER}\n")
    assert "::error title=usms::" in result.stderr
    outputs = read_outputs(github["output"])
    assert outputs["status"] == "rejected" and outputs["rejected"] == "1"


def test_input_error_reports_invalid_in_github_and_dotenv(
    github: dict[str, Path], tmp_path: Path
) -> None:
    dotenv = tmp_path / "usms.env"
    result = run_usms(
        "send", "--dry-run", "-t", "UT1", "-s", "Acme", "--report-dotenv", str(dotenv), "12x"
    )
    assert result.exit_code == 2
    assert "::error title=usms::" in result.stderr
    assert read_outputs(github["output"])["status"] == "invalid"
    assert "USMS_STATUS=invalid\n" in dotenv.read_text(encoding="utf-8")
    assert "USMS_EXIT_CODE=2\n" in dotenv.read_text(encoding="utf-8")


def test_report_dotenv_for_gitlab_on_a_csv_send(sandbox: SandboxServer, tmp_path: Path) -> None:
    source = tmp_path / "p.csv"
    source.write_text(f"phone,name,code\n{NUMBER},Ann,{CODE}\n", encoding="utf-8")
    dotenv = tmp_path / "usms.env"
    result = run_usms(
        "send", "--csv", str(source), "--report-dotenv", str(dotenv), env=env_for(sandbox, "UTNAME")
    )
    assert result.exit_code == 0, result.stderr
    assert "::" not in result.stderr  # not in GitHub Actions
    text = dotenv.read_text(encoding="utf-8")
    assert "USMS_STATUS=accepted\n" in text and "USMS_ACCEPTED=1\n" in text
    assert "USMS_SESSION_NOS=" in text


# ---- cost preview ---------------------------------------------------------------------------


def test_dry_run_shows_each_message_its_segments_and_the_total() -> None:
    long_code = "x" * 60  # 【USMSSandbox】您的验证码是 + 60 + ，5分钟内有效。 = 87: 2 segments
    args = ("send", "--sandbox", "--dry-run", "-p", long_code, NUMBER, OTHER, "+1 415 555 0100")
    result = run_usms(*args)
    assert result.exit_code == 0, result.stderr
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
    wrong = run_usms(*base, "--template-text", "Code {1} {2}", "-p", CODE, env=creds())
    assert wrong.exit_code == 2 and "2 variable(s) but 1 param(s)" in wrong.stderr
    too_long = run_usms(*base, "--template-text", "{1}" + "y" * 500, "-p", CODE, env=creds())
    assert too_long.exit_code == 2 and "the limit is 500" in too_long.stderr
    assert fake.count == 0


def test_dry_run_looks_the_template_up_and_a_failure_is_a_note(fake: FakeUSMS) -> None:
    def template(form: dict[str, str]) -> Response:
        return api(0, "", Data=[{"Template": "Hi {1}", "Purpose": 2}])

    fake.answer(template)
    base = ("send", "--base-url", fake.url, "-t", "UT1", "-s", "Acme", "-p", CODE, NUMBER)
    result = run_usms(*base, "--dry-run", env=creds())
    assert result.exit_code == 0
    assert "【Acme】Hi ***" in result.stdout and "1 SMS segment in total" in result.stdout
    fake.answer(lambda form: api(18017, "no such template"))
    noted = run_usms(*base, "--dry-run", env=creds())
    assert noted.exit_code == 0 and "RetCode 18017" in noted.stderr
    assert "Cost" not in noted.stdout
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
    result = run_usms("send", "--csv", str(source), *text, env=env_for(sandbox, "UTNAME"))
    assert result.exit_code == 2, result.stderr
    assert f"{source}:3: the message would be" in result.stderr
    assert sandbox.request_counts["SendBatchUSMSMessage"] == 0


# ---- mass-send guard ------------------------------------------------------------------------


def many(count: int) -> str:
    return ",".join(f"1390000{i:04d}" for i in range(count))


def test_non_interactive_runs_are_never_asked_without_an_explicit_threshold() -> None:
    result = run_usms("send", "--sandbox", "-q", "-p", "1", many(1001))
    assert result.exit_code == 0, result.stderr


def test_an_explicit_threshold_needs_yes_without_a_terminal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    args = ("send", "--sandbox", "-p", "1", many(3))
    refused = run_usms(*args, "--confirm-above", "2")
    assert refused.exit_code == 2
    assert "3 recipients (3 SMS segments)" in refused.stderr and "--yes" in refused.stderr
    assert "sandbox →" not in refused.stderr
    assert run_usms(*args, "--confirm-above", "2", "--yes").exit_code == 0
    assert run_usms(*args, "--confirm-above", "3").exit_code == 0
    monkeypatch.setenv("USMS_CONFIRM_ABOVE", "2")
    assert run_usms(*args).exit_code == 2
    assert run_usms(*args, "-y").exit_code == 0
    assert run_usms(*args, "--dry-run").exit_code == 0  # dry runs are never guarded
    monkeypatch.setenv("USMS_CONFIRM_ABOVE", "lots")
    assert run_usms(*args).exit_code == 2


@pytest.mark.parametrize(("answer", "code"), [("y\n", 0), ("yes\n", 0), ("n\n", 2), ("", 2)])
def test_interactive_runs_ask_above_1000(
    monkeypatch: pytest.MonkeyPatch, answer: str, code: int
) -> None:
    from usms_cli.app import commands

    monkeypatch.setattr(commands, "interactive", lambda: True)
    result = run_usms("send", "--sandbox", "-p", "1", many(1001), input=answer)
    assert result.exit_code == code, result.stderr
    assert "about to send to 1,001 recipients (1,001 SMS segments)" in result.stderr
    if code:
        assert "not sent" in result.stderr
    small = run_usms("send", "--sandbox", "-p", "1", many(2), input="")
    assert small.exit_code == 0 and "about to send" not in small.stderr


# ---- marketing window -----------------------------------------------------------------------


@pytest.fixture
def night(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USMS_NOW", "2026-11-24T14:30:00Z")  # 22:30 China time


def promo_sandbox() -> Iterator[SandboxServer]:
    config = SandboxConfig(receipt_delay=0.1)
    config.templates["UTPROMO"] = Template("UTPROMO", "Sale {1}", purpose=3)
    with start_sandbox(config) as server:
        yield server


promo = pytest.fixture(promo_sandbox)


def test_marketing_template_is_refused_outside_hours(night: None, promo: SandboxServer) -> None:
    env = env_for(promo, "UTPROMO")
    result = run_usms("send", "-p", "1", NUMBER, env=env)
    assert result.exit_code == 2
    assert "marketing template" in result.stderr and "22:30" in result.stderr
    assert "--allow-outside-hours" in result.stderr
    assert promo.request_counts["SendUSMSMessage"] == 0
    allowed = run_usms("send", "-p", "1", NUMBER, "--allow-outside-hours", env=env)
    assert allowed.exit_code == 0
    other = run_usms("send", "-p", "1", NUMBER, env=env_for(promo))  # a verification code
    assert other.exit_code == 0


def test_in_hours_sends_make_no_look_up(promo: SandboxServer) -> None:
    result = run_usms("send", "-p", "1", NUMBER, env=env_for(promo, "UTPROMO"))
    assert result.exit_code == 0
    assert promo.request_counts["QueryUSMSTemplate"] == 0


def test_a_failed_look_up_proceeds_with_a_warning(night: None, fake: FakeUSMS) -> None:
    fake.answer(lambda form: api(0, "ok", SessionNo="sn-1"))
    args = ("send", "--base-url", fake.url, "-t", "UT1", "-s", "Acme", NUMBER)
    result = run_usms(*args, env=creds())
    assert result.exit_code == 0
    assert "could not be checked" in result.stderr and "sending anyway" in result.stderr


# ---- the suite's own secret scan ------------------------------------------------------------


def test_the_secret_scan_sees_every_output_the_tests_collect(pytestconfig: pytest.Config) -> None:
    """conftest's session hook fails the suite when the planted private key shows up in any
    output. It reads the list ``run_usms`` fills, so both must be one module, not two copies."""
    import tests.conftest as shared

    loaded = [
        plugin
        for plugin in pytestconfig.pluginmanager.get_plugins()
        if getattr(plugin, "__file__", None) == shared.__file__
    ]
    assert loaded == [shared], "pytest loaded tests/conftest.py as a second module"
    before = len(shared.ALL_OUTPUTS)
    run_usms("--version")
    assert len(loaded[0].ALL_OUTPUTS) == before + 2
