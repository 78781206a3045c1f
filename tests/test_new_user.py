"""What a new user trips over (issue 13): headings that match the exit code, hints that name
something the user can do in the command they ran, dry runs that check what can be checked."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug import Response

from tests.conftest import FakeUSMS, Result, creds
from tests.conftest import run_unchecked as run_usms  # they check exit codes themselves


def send(fake: FakeUSMS, *args: str, env: dict[str, str] | None = None) -> Result:
    return run_usms(
        "send", "--base-url", fake.url, "-t", "UTA1234", "-s", "UCloud", *args,
        env={**creds(), **(env or {})},
    )  # fmt: skip


def test_an_unknown_outcome_is_not_headed_not_sent(fake: FakeUSMS) -> None:
    fake.answer(lambda form: Response("<h1>502</h1>", status=502, content_type="text/html"))
    result = send(fake, "13800000000")
    assert result.exit_code == 5
    out, err = result.stdout, result.stderr
    assert "Outcome unknown" in out and "Not sent" not in out
    # an unknown request has no SessionNo: the hint must not send the user to usms receipt
    assert "usms receipt cannot look it up" in err and "console" in err


def test_request_ids_are_shown_verbatim_and_phone_numbers_masked(fake: FakeUSMS) -> None:
    """Masking is for phone numbers, not for every run of digits (issue 13 #4)."""
    request_id = "9999473-0c1d-4e5f-8a9b-1c2d3e4f5a6b"
    answer = {"RetCode": 18017, "Message": "template for 13800000000 not approved"}
    fake.answer(
        lambda form: Response(
            json.dumps(answer),
            content_type="application/json",
            headers={"X-UCLOUD-REQUEST-UUID": request_id},
        )
    )
    result = send(fake, "13800000000")
    assert result.exit_code == 1
    assert request_id in result.stderr
    assert "13800000000" not in result.stderr and "138****0000" in result.stderr


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("request id 9999473-0c1d", "request id 9999473-0c1d"),
        ("this has 5,248,800 characters", "this has 5,248,800 characters"),
        ("version 20261203.1", "version 20261203.1"),
        ("to 13800000000, 13800000001", "to 138****0000, 138****0001"),
        ("phone=8613800000000", "phone=861******0000"),
    ],
)
def test_the_free_text_safety_net_masks_phone_numbers_only(text: str, shown: str) -> None:
    from usms_cli.core.privacy import mask_digits

    assert mask_digits(text) == shown


# ---- hints that point the right way (issue 13 #10) ------------------------------------------


@pytest.fixture
def sandbox_env() -> Iterator[dict[str, str]]:
    from usms_cli.sandbox import SandboxConfig, start_sandbox

    server = start_sandbox(SandboxConfig())
    config = server.config
    yield {
        "UCLOUD_API_BASE_URL": server.base_url,
        "UCLOUD_PUBLIC_KEY": config.public_key,
        "UCLOUD_PRIVATE_KEY": config.private_key,
        "UCLOUD_PROJECT_ID": config.project_id,
    }
    server.close()


def test_template_lookup_hint_does_not_name_send_options(sandbox_env: dict[str, str]) -> None:
    result = run_usms("template", "UTA1234", env=sandbox_env)
    assert result.exit_code == 1
    assert "-t/--template-id" not in result.stderr
    assert "template list" in result.stderr


def test_signature_lookup_hint_does_not_name_send_options(sandbox_env: dict[str, str]) -> None:
    result = run_usms("signature", "--id", "SIG-NOPE", env=sandbox_env)
    assert result.exit_code == 1
    assert "-s/--sig-content" not in result.stderr


def test_csv_param_count_hint_names_csv_columns(tmp_path: Path) -> None:
    people = tmp_path / "people.csv"
    people.write_text("phone,code,extra\n13800000000,123456,x\n", encoding="utf-8")
    result = run_usms("send", "--sandbox", "--csv", str(people))
    assert result.exit_code == 2  # checked against the sandbox's template text before sending
    assert "-p/--param" not in result.stderr and "--param-columns" in result.stderr


def test_a_csv_read_by_its_first_column_suggests_the_phone_column(tmp_path: Path) -> None:
    people = tmp_path / "people.csv"
    people.write_text("name,phone\nAlice,13800000000\nBob,13800000001\n", encoding="utf-8")
    result = run_usms("send", "--sandbox", "-p", "1", "-f", str(people))
    assert result.exit_code == 2
    assert "--column phone" in result.stderr


def test_a_skipped_csv_row_is_masked(tmp_path: Path) -> None:
    people = tmp_path / "people.csv"
    people.write_text("phone,code\n13800000000,1\n1380000000123456789,2\n", encoding="utf-8")
    result = run_usms("send", "--sandbox", "--csv", str(people), "--skip-invalid")
    assert result.exit_code == 0, result.stderr
    assert "1380000000123456789" not in result.stdout + result.stderr
    assert "138************6789" in result.stdout


def test_the_quick_start_works_with_a_real_template_and_signature_configured(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 13 #7: USMS_TEMPLATE_ID/USMS_SIG_CONTENT set for real sends made the sandbox
    refuse the quick start with RetCode 18017."""
    monkeypatch.setenv("USMS_TEMPLATE_ID", "UTA9ZZ81")
    monkeypatch.setenv("USMS_SIG_CONTENT", "Acme")
    result = run_usms("send", "--sandbox", "-p", "123456", "13800000000")
    assert result.exit_code == 0, result.stderr
    assert "registered your template UTA9ZZ81 and signature 'Acme'" in result.stderr
    assert "【Acme】Sandbox message ***" in result.stderr
    texted = run_usms(
        "send", "--sandbox", "-p", "123456", "--template-text", "您的验证码是{1}", "13800000000"
    )
    assert texted.exit_code == 0 and "【Acme】您的验证码是***" in texted.stderr


def test_verbose_lines_carry_their_request_number_and_sum_up_the_numbers(tmp_path: Path) -> None:
    """Issue 13 #13: -v at -c 4 interleaved requests, without an index, a line per number."""
    numbers = tmp_path / "n.txt"
    numbers.write_text("".join(f"138{n:08d}\n" for n in range(2500)))
    result = run_usms("send", "--sandbox", "-v", "-p", "1", "-f", str(numbers))
    assert result.exit_code == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("[")]
    assert "[1/3] >   PhoneNumbers: 1,000 (138****0000 … 138****0999)" in lines
    assert "[3/3] >   PhoneNumbers: 500 (138****2000 … 138****2499)" in lines
    assert not any("PhoneNumbers." in line for line in lines)
    for tag in ("[1/3]", "[2/3]", "[3/3]"):  # each request's block is contiguous
        rows = [i for i, line in enumerate(lines) if line.startswith(tag + " >")]
        assert rows == list(range(rows[0], rows[0] + len(rows)))


# ---- .env problems (issue 13 #12) -------------------------------------------------------------


def test_an_unparsable_env_line_is_named_with_its_file(tmp_path: Path) -> None:
    env_file = tmp_path / "prod.env"
    env_file.write_text("USMS_SIG_CONTENT=Acme\nthis is not a setting\n", encoding="utf-8")
    result = run_usms(
        "send", "--dry-run", "--env-file", str(env_file), "-t", "UTA1", "-p", "1", "13800000000"
    )
    assert result.exit_code == 0, result.stderr
    assert f"{env_file}: line 2 could not be read" in result.stderr
    assert "python-dotenv" not in result.stderr


def test_a_misspelt_env_key_suggests_the_right_one(tmp_path: Path) -> None:
    env_file = tmp_path / "prod.env"
    env_file.write_text("UCLOUD_PRIVATEKEY=secret-value\n", encoding="utf-8")
    env_file.chmod(0o600)
    result = run_usms("config", "show", "--env-file", str(env_file))
    assert "UCLOUD_PRIVATEKEY" in result.stderr and "UCLOUD_PRIVATE_KEY" in result.stderr
    assert "secret-value" not in result.stderr + result.stdout


def test_the_missing_key_hint_names_the_env_file_given(tmp_path: Path) -> None:
    env_file = tmp_path / "prod.env"
    env_file.write_text("UCLOUD_PROJECT_ID=org-abc\n", encoding="utf-8")
    result = run_usms(
        "send", "--env-file", str(env_file), "-t", "UTA1", "-s", "Acme", "13800000000"
    )
    assert result.exit_code == 2
    assert "pass --env-file PATH" not in result.stderr
    assert f"add them to {env_file}" in result.stderr


def test_a_broken_profile_file_matters_only_when_a_profile_is_used(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    home = Path(os.environ["HOME"])
    (home / ".ucloud").mkdir()
    (home / ".ucloud" / "config.json").write_text("{not json", encoding="utf-8")
    args = ("send", "--dry-run", "--offline", "-t", "UTA1", "-s", "Acme", "-p", "1", "13800000000")
    monkeypatch.setenv("UCLOUD_PUBLIC_KEY", "pub-key-1")
    monkeypatch.setenv("UCLOUD_PRIVATE_KEY", "private-key-1")
    monkeypatch.setenv("UCLOUD_PROJECT_ID", "org-abc")
    everything_set = run_usms(*args)
    assert everything_set.exit_code == 0, everything_set.stderr
    assert "config.json" in everything_set.stderr  # still a warning
    asked = run_usms(*args, "--profile", "prod")
    assert asked.exit_code == 2 and "config.json" in asked.stderr
