"""`usms signature create/update/delete/show/wait`: the qualification file checked and encoded
locally, the exact form on the wire, and the review in the sandbox."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import creds
from tests.conftest import run_unchecked as run_usms  # these tests check exit codes themselves
from tests.servers.fake_usms import FakeUSMS, api
from usms_cli.sandbox import (
    DEFAULT_PRIVATE_KEY,
    DEFAULT_PROJECT_ID,
    DEFAULT_PUBLIC_KEY,
    SandboxConfig,
    SandboxServer,
    start_sandbox,
)

LICENCE = b"\xff\xd8\xff\xe0 a tiny jpeg \x00\x01"


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    with start_sandbox(SandboxConfig(review_delay=0.3)) as server:
        yield server


def env_for(server: SandboxServer) -> dict[str, str]:
    return {
        "UCLOUD_PUBLIC_KEY": DEFAULT_PUBLIC_KEY,
        "UCLOUD_PRIVATE_KEY": DEFAULT_PRIVATE_KEY,
        "UCLOUD_API_BASE_URL": server.base_url,
        "UCLOUD_PROJECT_ID": DEFAULT_PROJECT_ID,
    }


def fake_env(fake: FakeUSMS) -> dict[str, str]:
    return {**creds(), "UCLOUD_API_BASE_URL": fake.url, "UCLOUD_PROJECT_ID": "org-test"}


@pytest.fixture
def licence(tmp_path: Path) -> Path:
    path = tmp_path / "licence.jpg"
    path.write_bytes(LICENCE)
    return path


def create_args(*extra: str) -> list[str]:
    return ["signature", "create", "--content", "Acme", "--type", "company", "--purpose",
            "self", "--description", "our company", *extra]  # fmt: skip


def test_create_then_wait_until_approved_and_send_with_it(
    sandbox: SandboxServer, licence: Path
) -> None:
    env = env_for(sandbox)
    created = run_usms(*create_args("--file", str(licence), "-q"), env=env)
    assert created.exit_code == 0, created.stderr
    sig_id = created.stdout.strip()
    assert sandbox.config.signatures["Acme"].sig_id == sig_id

    pending = run_usms("signature", "Acme", "-q", env=env)  # the old look-up: show by text
    assert (pending.exit_code, pending.stdout.strip()) == (1, "under review")
    waited = run_usms("signature", "wait", "--id", sig_id, "--interval", "0.1", env=env)
    assert waited.exit_code == 0, waited.stderr
    assert "approved" in waited.stdout
    sent = run_usms(
        "send", "-q", "-t", "UTSANDBOX1", "-s", "Acme", "-p", "1", "13800000000", env=env
    )
    assert sent.exit_code == 0, sent.stderr


def test_the_review_rejects_retired_signature_types(sandbox: SandboxServer) -> None:
    env = env_for(sandbox)
    created = run_usms(
        "signature",
        "create",
        "--content",
        "AcmeApp",
        "--type",
        "app",
        "--purpose",
        "self",
        "--description",
        "our app",
        env=env,
    )
    assert created.exit_code == 0, created.stderr
    waited = run_usms("signature", "wait", "AcmeApp", "--interval", "0.1", "--json", env=env)
    assert waited.exit_code == 1
    assert waited.json["review"] == "rejected"
    assert "no longer accepted" in waited.json["data"]["ErrDesc"]


def test_create_sends_the_file_as_base64_and_the_documented_fields(
    fake: FakeUSMS, licence: Path, tmp_path: Path
) -> None:
    proxy = tmp_path / "letter.pdf"
    proxy.write_bytes(b"%PDF-1.4 letter")
    fake.answer(lambda form: api(0, "", SigId="SIG2026A"))
    result = run_usms(
        "signature", "create", "--content", "优刻得", "--type", "trademark", "--purpose",
        "other", "--description", "brand", "--file", str(licence), "--proxy-file", str(proxy),
        "--scene", "login codes", "--json", env=fake_env(fake),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert result.json["ids"] == ["SIG2026A"]
    [form] = fake.requests
    sent = {k: v for k, v in form.items() if k not in ("PublicKey", "Signature")}
    assert sent == {
        "Action": "CreateUSMSSignature",
        "ProjectId": "org-test",
        "SigContent": "优刻得",
        "SigType": "4",
        "SigPurpose": "1",
        "CertificateType": "4",  # matches the type unless given
        "Description": "brand",
        "File": base64.b64encode(LICENCE).decode(),
        "ProxyFile": base64.b64encode(b"%PDF-1.4 letter").decode(),
        "SceneDesc": "login codes",
    }


def test_verbose_log_does_not_dump_the_file(fake: FakeUSMS, tmp_path: Path) -> None:
    big = tmp_path / "scan.png"
    big.write_bytes(b"\x89PNG" + b"\x00" * 50_000)
    fake.answer(lambda form: api(0, "", SigId="SIG1"))
    result = run_usms(*create_args("--file", str(big), "-v"), env=fake_env(fake))
    assert result.exit_code == 0, result.stderr
    assert "characters of base64>" in result.stderr
    assert len(result.stderr) < 5_000


def test_update_sends_files_with_their_type_and_delete_lists_ids(
    fake: FakeUSMS, licence: Path
) -> None:
    fake.answer(lambda form: api(0, ""))
    updated = run_usms(
        "signature",
        "update",
        "SIG1",
        "--content",
        "Acme",
        "--type",
        "company",
        "--purpose",
        "self",
        "--file",
        str(licence),
        env=fake_env(fake),
    )
    assert updated.exit_code == 0, updated.stderr
    deleted = run_usms("signature", "delete", "SIG1", "SIG2", "-y", "-q", env=fake_env(fake))
    assert (deleted.exit_code, deleted.stdout) == (0, "SIG1\nSIG2\n")
    update_form, delete_form = fake.requests
    assert update_form["Action"] == "UpdateUSMSSignature"
    assert (update_form["SigId"], update_form["SigType"], update_form["SigPurpose"]) == (
        "SIG1",
        "0",
        "0",
    )
    assert update_form["File"] == "image/jpeg;base64," + base64.b64encode(LICENCE).decode()
    assert (delete_form["SigIds.0"], delete_form["SigIds.1"]) == ("SIG1", "SIG2")


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (["--content", "A"], "2 to 12 characters"),
        (["--content", "ThirteenChars"], "2 to 12 characters"),
        (["--content", "【Acme】"], "without 【】"),
        (["--type", "shop"], "--type must be one of"),
        (["--purpose", "mine"], "--purpose must be one of"),
        (["--purpose", "other"], "--proxy-file"),
        (["--certificate-type", "9"], "--certificate-type must be 0 to 5"),
        (["--file", "missing.jpg"], "no such file"),
    ],
)
def test_bad_input_is_exit_2_and_nothing_is_sent(
    fake: FakeUSMS, change: list[str], words: str
) -> None:
    args = create_args()
    for flag, value in zip(change[::2], change[1::2], strict=True):
        if flag in args:
            args[args.index(flag) + 1] = value
        else:
            args += [flag, value]
    result = run_usms(*args, env=fake_env(fake))
    assert result.exit_code == 2, result.stderr
    assert words in result.stderr
    assert fake.count == 0


def test_a_file_over_4_mib_is_refused_locally(fake: FakeUSMS, tmp_path: Path) -> None:
    big = tmp_path / "huge.jpg"
    with big.open("wb") as out:
        out.truncate(4 * 1024 * 1024 + 1)
    result = run_usms(*create_args("--file", str(big)), env=fake_env(fake))
    assert result.exit_code == 2
    assert "at most 4 MiB" in result.stderr and "4,194,305 bytes" in result.stderr
    assert fake.count == 0
    exactly = tmp_path / "ok.jpg"
    with exactly.open("wb") as out:
        out.truncate(4 * 1024 * 1024)
    fake.answer(lambda form: api(0, "", SigId="SIG4"))
    accepted = run_usms(*create_args("--file", str(exactly), "-q"), env=fake_env(fake))
    assert accepted.exit_code == 0, accepted.stderr


def test_a_directory_or_an_empty_file_is_refused(fake: FakeUSMS, tmp_path: Path) -> None:
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    for target, words in ((tmp_path, "is a directory"), (empty, "the file is empty")):
        result = run_usms(*create_args("--file", str(target)), env=fake_env(fake))
        assert result.exit_code == 2 and words in result.stderr
    assert fake.count == 0


def test_delete_without_yes_and_without_a_terminal_sends_nothing(fake: FakeUSMS) -> None:
    result = run_usms("signature", "delete", "SIG1", env=fake_env(fake))
    assert result.exit_code == 2
    assert fake.count == 0


def test_the_sandbox_refuses_a_second_signature_with_the_same_text(sandbox: SandboxServer) -> None:
    env = env_for(sandbox)
    again = run_usms(
        "signature",
        "create",
        "--content",
        "USMSSandbox",
        "--type",
        "company",
        "--purpose",
        "self",
        "--description",
        "dup",
        env=env,
    )
    assert again.exit_code == 1
    assert "already exists" in again.stderr


def test_show_by_id_and_wait_without_a_key_is_usage(sandbox: SandboxServer) -> None:
    env = env_for(sandbox)
    shown = run_usms("signature", "show", "--id", "SIGSANDBOX1", "--json", env=env)
    assert shown.exit_code == 0
    assert shown.json["data"]["SigContent"] == "USMSSandbox"
    assert run_usms("signature", "wait", env=env).exit_code == 2
