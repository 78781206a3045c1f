"""Personal data is masked in every human-facing output unless --show-pii; machine outputs
(--json, -q, the journal, --failed-out) keep full values."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from werkzeug import Response

from tests.conftest import TWO_VARS, Result, creds, env_for, run_usms
from tests.servers.fake_usms import FakeUSMS, api
from usms_cli.sandbox import SandboxServer

NUMBER = "13912345678"
CODE = "734519"
OTHER = "13700001111"
MASKED = "139****5678"


def leaks(result: Result) -> list[str]:
    text = result.stdout + result.stderr
    return [value for value in (NUMBER, CODE) if value in text]


def assert_masked(result: Result) -> None:
    assert not leaks(result), (result.stdout, result.stderr)


@pytest.mark.parametrize("mode", [(), ("-v",)])
def test_send_sandbox_masks_human_output_and_show_pii_unmasks(mode: tuple[str, ...]) -> None:
    result = run_usms("send", "--sandbox", *mode, "-p", CODE, NUMBER)
    assert_masked(result)
    assert f"sandbox → {MASKED}: 【USMSSandbox】您的验证码是***" in result.stderr
    shown = run_usms("send", "--sandbox", *mode, "--show-pii", "-p", CODE, NUMBER)
    assert NUMBER in shown.stderr and CODE in shown.stderr


def test_machine_outputs_keep_full_values(fake: FakeUSMS, tmp_path: Path) -> None:
    fake.answer(lambda form: api(18017, "template not approved"))
    base = ("send", "--base-url", fake.url, "-t", "UT1", "-s", "Acme", "-p", CODE, NUMBER)
    journal, failed = tmp_path / "j.jsonl", tmp_path / "failed.txt"
    result = run_usms(
        *base,
        "--json",
        "--journal",
        str(journal),
        "--failed-out",
        str(failed),
        env=creds(),
        expect=1,
    )
    assert result.json["requests"][0]["numbers"] == [NUMBER]
    assert NUMBER in journal.read_text(encoding="utf-8")
    assert CODE in journal.read_text(encoding="utf-8")
    assert NUMBER in failed.read_text(encoding="utf-8").split()
    fake.answer(lambda form: api(0, "ok", SessionNo="sn-1"))
    assert run_usms(*base, "-q", env=creds()).stdout == "sn-1\n"


def test_refusal_unknown_and_verbose_are_masked(fake: FakeUSMS) -> None:
    base = ("send", "--base-url", fake.url, "-t", "UT1", "-s", "Acme", "-p", CODE)
    fake.answer(lambda form: api(18017, "template not approved"))
    refused = run_usms(*base, "-v", NUMBER, OTHER, env=creds(), expect=1)
    assert_masked(refused)
    assert MASKED in refused.stderr and "TemplateParams.0=***" in refused.stderr
    fake.answer(lambda form: Response("oops " + NUMBER, status=500))
    unknown = run_usms(*base, "-v", NUMBER, env=creds(), expect=5)
    assert_masked(unknown)
    assert "outcome UNKNOWN" in unknown.stderr and MASKED in unknown.stderr
    shown = run_usms(*base, "-v", "--show-pii", NUMBER, env=creds(), expect=5)
    assert NUMBER in shown.stderr and CODE in shown.stderr


def test_dry_run_and_invalid_entries_are_masked(tmp_path: Path) -> None:
    numbers = tmp_path / "n.txt"
    numbers.write_text(f"{NUMBER}\n{OTHER}\n1{NUMBER}99\n", encoding="utf-8")
    args = ("send", "--dry-run", "-t", "UT1", "-s", "Acme", "-p", CODE, "-f", str(numbers))
    refused = run_usms(*args, expect=2)
    assert_masked(refused)
    assert "invalid phone number" in refused.stderr
    dry = run_usms(*args, "--skip-invalid", "-v")
    assert_masked(dry)
    assert "Params     '***'" in dry.stdout and f"Recipients {MASKED}" in dry.stdout
    as_json = run_usms(*args, "--json", expect=2)
    assert f"1{NUMBER}99" in as_json.json["details"][0]
    assert run_usms(*args, "--json", "--skip-invalid").json["invalid"][0]["entry"] == (
        f"1{NUMBER}99"
    )
    shown = run_usms(*args, "--skip-invalid", "--show-pii")
    assert NUMBER in shown.stdout and CODE in shown.stdout


def test_receipt_table_is_masked(sandbox: SandboxServer) -> None:
    env = env_for(sandbox)
    sent = run_usms("send", "-q", "-p", CODE, NUMBER, env=env)
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
    env = env_for(sandbox, TWO_VARS)
    failed = tmp_path / "failed.csv"
    base = ("send", "--csv", str(source))
    result = run_usms(*base, "-v", "--failed-out", str(failed), env=env, expect=3)
    assert_masked(result)
    assert f"{MASKED}: phone in the black list" in result.stderr
    assert NUMBER in failed.read_text(encoding="utf-8")
    preview = run_usms(*base, "--dry-run", "--preview", "2", "-v", env=env)
    assert_masked(preview)
    assert "您的编号是***" in preview.stdout
    no_keys = run_usms(*base, "--dry-run", "--preview", "2", "-t", "UTNAME", "-s", "Acme")
    assert_masked(no_keys)
    assert "code='***'" in no_keys.stdout
    shown = run_usms(*base, "--dry-run", "--preview", "2", "--show-pii", env=env)
    assert NUMBER in shown.stdout and CODE in shown.stdout
    as_json = run_usms(*base, "--dry-run", "--preview", "2", "--json", env=env)
    assert json.dumps(as_json.json["preview"], ensure_ascii=False).count(CODE) >= 1


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
