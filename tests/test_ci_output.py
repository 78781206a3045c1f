"""CI-native output: GitHub Actions masks, outputs, step summary and annotations, and the
GitLab dotenv report, from real sends."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import TWO_VARS, creds, env_for, run_usms
from tests.servers.fake_usms import FakeUSMS, api
from usms_cli.sandbox import SandboxServer

NUMBER = "13912345678"
CODE = "734519"
OTHER = "13700001111"


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
        "send", "--base-url", fake.url, "-t", "UT1", "-s", "Acme", NUMBER, env=creds(), expect=1
    )
    assert result.stderr.startswith(f"::add-mask::{NUMBER}\n")
    assert "::error title=usms::" in result.stderr
    outputs = read_outputs(github["output"])
    assert outputs["status"] == "rejected" and outputs["rejected"] == "1"


def test_input_error_reports_invalid_in_github_and_dotenv(
    github: dict[str, Path], tmp_path: Path
) -> None:
    dotenv = tmp_path / "usms.env"
    result = run_usms(
        "send",
        "--dry-run",
        "-t",
        "UT1",
        "-s",
        "Acme",
        "--report-dotenv",
        str(dotenv),
        "12x",
        expect=2,
    )
    assert "::error title=usms::" in result.stderr
    assert read_outputs(github["output"])["status"] == "invalid"
    assert "USMS_STATUS=invalid\n" in dotenv.read_text(encoding="utf-8")
    assert "USMS_EXIT_CODE=2\n" in dotenv.read_text(encoding="utf-8")


def test_report_dotenv_for_gitlab_on_a_csv_send(sandbox: SandboxServer, tmp_path: Path) -> None:
    source = tmp_path / "p.csv"
    source.write_text(f"phone,name,code\n{NUMBER},Ann,{CODE}\n", encoding="utf-8")
    dotenv = tmp_path / "usms.env"
    result = run_usms(
        "send", "--csv", str(source), "--report-dotenv", str(dotenv), env=env_for(sandbox, TWO_VARS)
    )
    assert "::" not in result.stderr  # not in GitHub Actions
    text = dotenv.read_text(encoding="utf-8")
    assert "USMS_STATUS=accepted\n" in text and "USMS_ACCEPTED=1\n" in text
    assert "USMS_SESSION_NOS=" in text
