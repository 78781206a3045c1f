"""UCloud profile files, precedence, ``usms config show`` and ``usms config check``.

The profile files are written exactly as UCloud's CLI writes them: JSON arrays with every key
the CLI stores (most of them ignored by usms), ``base_url`` with a trailing "/", mode 0600.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import (
    PRIVATE_KEY,
    PUBLIC_KEY,
    closed_port,
    run_usms,
    say,
    warning_prefix,
)
from usms_cli.app.common import emit_warnings
from usms_cli.app.config import interpret_check
from usms_cli.core.errors import ConfigError, ExitCode
from usms_cli.core.results import ApiResult
from usms_cli.engine import settings as config
from usms_cli.output.console import Output
from usms_cli.sandbox import SandboxConfig, SandboxServer

OTHER_PUBLIC = "other-public-key-0000aaaa"
OTHER_PRIVATE = "OTHER-PRIVATE-KEY-9d8c7b6a"


def config_entry(
    profile: str, *, active: bool = False, project: str = "org-prof"
) -> dict[str, Any]:
    return {
        "project_id": project,
        "region": "cn-bj2",
        "zone": "cn-bj2-05",
        "base_url": "https://api.ucloud.cn/",
        "timeout_sec": 15,
        "profile": profile,
        "active": active,
        "max_retry_times": 3,
        "agree_upload_log": True,
        "oauth_base_url": "https://oauth.ucloud.cn/",
        "channel_key": "",
    }


def credential_entry(profile: str, public: str, private: str) -> dict[str, Any]:
    return {
        "public_key": public,
        "private_key": private,
        "cookie": "",
        "csrf_token": "",
        "profile": profile,
        "auth_mode": "AKSK",
        "access_token": "",
        "refresh_token": "",
        "expires_at": 0,
    }


def write_json(path: Path, document: Any, mode: int = 0o600) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    # UCloud's CLI writes indented JSON (json.MarshalIndent with a tab)
    path.write_text(json.dumps(document, indent="\t"), encoding="utf-8")
    path.chmod(mode)
    return path


def ucloud_dir() -> Path:
    return Path.home() / ".ucloud"


def write_profiles(
    configs: list[dict[str, Any]],
    credentials: list[dict[str, Any]],
    *,
    directory: Path | None = None,
    mode: int = 0o600,
) -> tuple[Path, Path]:
    where = directory or ucloud_dir()
    return (
        write_json(where / "config.json", configs, mode),
        write_json(where / "credential.json", credentials, mode),
    )


def two_profiles() -> None:
    """``default`` (inactive) and ``prod`` (active), with different keys and projects."""
    write_profiles(
        [
            config_entry("default", project="org-default"),
            config_entry("prod", active=True, project="org-prod"),
        ],
        [
            credential_entry("default", OTHER_PUBLIC, OTHER_PRIVATE),
            credential_entry("prod", PUBLIC_KEY, PRIVATE_KEY),
        ],
    )


def show(*args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    result = run_usms("config", "show", "--json", *args, env=env)
    assert PRIVATE_KEY not in result.stdout + result.stderr
    assert OTHER_PRIVATE not in result.stdout + result.stderr
    payload: dict[str, Any] = result.json
    return payload


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    """The sandbox knows the test keys, so a profile holding them works against it."""
    return SandboxConfig(public_key=PUBLIC_KEY, private_key=PRIVATE_KEY)


# ---- profiles supply settings -------------------------------------------------------------------


def test_profile_supplies_the_credentials_for_a_real_send(sandbox: SandboxServer) -> None:
    write_profiles(
        [config_entry("default", active=True, project="org-sandbox")],
        [credential_entry("default", PUBLIC_KEY, PRIVATE_KEY)],
    )
    result = run_usms(
        "send",
        "--base-url",
        sandbox.base_url,
        "-t",
        "UTSANDBOX1",
        "-s",
        "USMSSandbox",
        "-p",
        "1",
        "13800000000",
    )
    assert [m["phone"] for m in sandbox.messages] == ["13800000000"]
    assert "warning" not in result.stderr  # 0600 files: no permission warning


def test_the_active_profile_is_used_by_default_with_file_sources() -> None:
    two_profiles()
    payload = show()
    settings = payload["settings"]
    assert payload["profile"] == "prod"
    assert settings["profile"] == {"value": "prod", "source": "active in ~/.ucloud/config.json"}
    assert settings["project_id"] == {
        "value": "org-prod",
        "source": "profile 'prod' (~/.ucloud/config.json)",
    }
    assert settings["public_key"]["source"] == "profile 'prod' (~/.ucloud/credential.json)"
    assert settings["private_key"] == {
        "value": "<set, hidden>",
        "source": "profile 'prod' (~/.ucloud/credential.json)",
    }
    assert settings["base_url"]["value"] == "https://api.ucloud.cn"  # one trailing / stripped
    assert settings["timeout"] == {"value": 15, "source": "profile 'prod' (~/.ucloud/config.json)"}
    assert settings["config_file"] == {
        "value": "~/.ucloud/config.json",
        "source": "default",
        "found": True,
    }
    assert sorted(payload["profiles"]) == ["default", "prod"]


def test_the_profile_named_default_is_used_when_none_is_active() -> None:
    write_profiles(
        [config_entry("default", project="org-default"), config_entry("x", project="org-x")],
        [credential_entry("default", PUBLIC_KEY, PRIVATE_KEY)],
    )
    payload = show()
    assert payload["profile"] == "default"
    assert payload["settings"]["profile"]["source"] == "default (no profile is marked active)"
    assert payload["settings"]["project_id"]["value"] == "org-default"


@pytest.mark.parametrize(
    ("args", "env", "dotenv", "source"),
    [
        (["--profile", "default"], {}, "", "--profile"),
        ([], {"UCLOUD_PROFILE": "default"}, "", "environment UCLOUD_PROFILE"),
        ([], {}, "UCLOUD_PROFILE=default\n", "./.env UCLOUD_PROFILE"),
        # the flag beats the environment, which beats .env
        (["--profile", "default"], {"UCLOUD_PROFILE": "prod"}, "", "--profile"),
        ([], {"UCLOUD_PROFILE": "default"}, "UCLOUD_PROFILE=prod\n", "environment UCLOUD_PROFILE"),
    ],
)
def test_profile_selection_by_flag_environment_and_dotenv(
    args: list[str], env: dict[str, str], dotenv: str, source: str
) -> None:
    two_profiles()
    if dotenv:
        Path(".env").write_text(dotenv, encoding="utf-8")
    payload = show(*args, env=env)
    assert payload["profile"] == "default"
    assert payload["settings"]["profile"]["source"] == source
    assert payload["settings"]["project_id"]["value"] == "org-default"
    assert payload["settings"]["public_key"]["source"] == (
        "profile 'default' (~/.ucloud/credential.json)"
    )


def test_precedence_environment_over_dotenv_over_profile() -> None:
    two_profiles()
    Path(".env").write_text(
        "UCLOUD_PROJECT_ID=org-dotenv\nUCLOUD_TIMEOUT_SECOND=7\n", encoding="utf-8"
    )
    settings = show(env={"UCLOUD_PROJECT_ID": "org-env"})["settings"]
    assert settings["project_id"] == {"value": "org-env", "source": "environment UCLOUD_PROJECT_ID"}
    assert settings["timeout"] == {"value": 7, "source": "./.env UCLOUD_TIMEOUT_SECOND"}
    assert settings["public_key"]["source"] == "profile 'prod' (~/.ucloud/credential.json)"
    assert settings["template_id"] == {"value": None, "source": "not set"}


def test_precedence_flag_over_everything() -> None:
    two_profiles()
    env_file = Path("ci.env")
    env_file.write_text("UCLOUD_API_BASE_URL=https://dotenv.example\n", encoding="utf-8")
    environ = {"UCLOUD_PROJECT_ID": "org-env", "UCLOUD_API_BASE_URL": "https://env.example"}
    flags = {"project_id": "org-flag", "base_url": None, "profile": None}
    settings = config.resolve(flags, environ, env_file, Path.cwd())
    assert (settings.project_id, settings.sources["project_id"]) == ("org-flag", "command line")
    assert settings.base_url == "https://env.example"
    assert settings.sources["base_url"] == "environment UCLOUD_API_BASE_URL"
    settings = config.resolve(flags, {}, env_file, Path.cwd())
    assert settings.sources["base_url"] == "ci.env UCLOUD_API_BASE_URL"
    settings = config.resolve({}, {}, None, Path.cwd())
    assert settings.sources["base_url"] == "profile 'prod' (~/.ucloud/config.json)"
    assert settings.private_key == PRIVATE_KEY
    assert PRIVATE_KEY not in repr(settings)


def test_shared_file_variables_point_elsewhere(tmp_path: Path) -> None:
    two_profiles()  # the default files must be ignored
    elsewhere = tmp_path / "team"
    config_path, credential_path = write_profiles(
        [config_entry("ci", active=True, project="org-ci")],
        [credential_entry("ci", OTHER_PUBLIC, OTHER_PRIVATE)],
        directory=elsewhere,
    )
    env = {
        "UCLOUD_SHARED_CONFIG_FILE": str(config_path),
        "UCLOUD_SHARED_CREDENTIAL_FILE": str(credential_path),
    }
    payload = show(env=env)
    settings = payload["settings"]
    assert payload["profile"] == "ci"
    assert settings["project_id"]["value"] == "org-ci"
    assert settings["project_id"]["source"] == f"profile 'ci' ({config_path})"
    assert settings["public_key"]["source"] == f"profile 'ci' ({credential_path})"
    assert settings["config_file"]["source"] == "environment UCLOUD_SHARED_CONFIG_FILE"
    # the same variables in ./.env work too
    Path(".env").write_text(
        "".join(f"{key}={value}\n" for key, value in env.items()), encoding="utf-8"
    )
    settings = show()["settings"]
    assert settings["project_id"]["value"] == "org-ci"
    assert settings["credential_file"]["source"] == "./.env UCLOUD_SHARED_CREDENTIAL_FILE"


def test_missing_default_files_are_fine() -> None:
    payload = show()
    assert payload["profile"] is None and payload["profiles"] == []
    assert payload["settings"]["private_key"] == {"value": "<not set>", "source": "not set"}
    assert payload["settings"]["config_file"]["found"] is False
    result = run_usms("config", "show")
    assert "~/.ucloud/config.json (not found)" in result.stdout


# ---- errors -------------------------------------------------------------------------------------


def test_a_named_file_that_is_missing_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "credential.json"
    result = run_usms(
        "config", "show", env={"UCLOUD_SHARED_CREDENTIAL_FILE": str(missing)}, expect=2
    )
    assert str(missing) in result.stderr and "no such file" in result.stderr
    assert "UCLOUD_SHARED_CREDENTIAL_FILE" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_unknown_profile_is_an_error_listing_the_existing_ones() -> None:
    two_profiles()
    result = run_usms("config", "show", "--profile", "staging", expect=2)
    assert "'staging'" in result.stderr
    assert "'default'" in result.stderr and "'prod'" in result.stderr
    result = run_usms("template", "UTA1", env={"UCLOUD_PROFILE": "staging"}, expect=2)
    assert "environment UCLOUD_PROFILE" in result.stderr


def test_an_unknown_profile_without_any_files_says_so() -> None:
    result = run_usms("config", "show", "--profile", "prod", expect=2)
    assert "neither file exists" in result.stderr


def test_malformed_json_names_file_and_line_but_never_quotes_it() -> None:
    path = ucloud_dir() / "credential.json"
    path.parent.mkdir()
    lines = [
        "[",
        "\t{",
        f'\t\t"public_key": "{PUBLIC_KEY}",',
        f'\t\t"private_key": "{PRIVATE_KEY}"',  # the comma is missing: error on line 5
        '\t\t"profile": "default"',
        "\t}",
        "]",
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o600)
    for args in (("config", "show"), ("config", "show", "--json"), ("config", "check")):
        result = run_usms(*args, expect=2)
        assert "~/.ucloud/credential.json" in result.stderr
        assert "line 5" in result.stderr
        assert PRIVATE_KEY not in result.stdout + result.stderr
        assert PUBLIC_KEY not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("document", "words"),
    [
        ({"profile": "default"}, "expected a JSON array of profiles, found an object"),
        (["default"], "entry 1 must be a JSON object"),
        ([{"project_id": "org-x"}], 'entry 1 has no "profile" name'),
        ([{"profile": "a"}, {"profile": "b", "timeout_sec": "15"}], '"timeout_sec" must be'),
        ([{"profile": "a", "active": "yes"}], '"active" must be true or false'),
        ([{"profile": "a", "project_id": 42}], '"project_id" must be a string'),
    ],
)
def test_config_json_of_the_wrong_shape_is_an_error(document: Any, words: str) -> None:
    write_json(ucloud_dir() / "config.json", document)
    result = run_usms("config", "show", expect=2)
    assert "~/.ucloud/config.json" in result.stderr and words in result.stderr


def test_credential_json_of_the_wrong_shape_does_not_quote_the_key() -> None:
    write_json(
        ucloud_dir() / "credential.json",
        [{"profile": "default", "public_key": PUBLIC_KEY, "private_key": [PRIVATE_KEY]}],
    )
    result = run_usms("send", "--dry-run", "-t", "UTA1", "-s", "Acme", "13800000000", expect=2)
    assert '"private_key" must be a string, found an array' in result.stderr
    assert PRIVATE_KEY not in result.stdout + result.stderr


def test_an_unreadable_profile_file_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    _, credential_path = write_profiles(
        [config_entry("default", active=True)],
        [credential_entry("default", PUBLIC_KEY, PRIVATE_KEY)],
    )
    real_open = Path.open

    def refuse(self: Path, *args: Any, **kwargs: Any) -> Any:
        if self == credential_path:
            raise PermissionError(13, "Permission denied")
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", refuse)  # the tests may run as root: chmod 000 is moot
    result = run_usms("config", "show", expect=2)
    assert "~/.ucloud/credential.json: cannot read it (Permission denied)" in result.stderr


def test_a_bad_timeout_in_the_profile_names_its_source() -> None:
    entry = config_entry("default", active=True)
    entry["timeout_sec"] = 100000
    write_json(ucloud_dir() / "config.json", [entry])
    result = run_usms("config", "show", expect=2)
    assert "profile 'default' (~/.ucloud/config.json)" in result.stderr


# ---- permission warnings ------------------------------------------------------------------------


def warnings_in(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "readable by other users" in line]


def test_a_world_readable_credential_file_is_warned_about_once() -> None:
    _, credential_path = write_profiles(
        [config_entry("default", active=True)],
        [credential_entry("default", PUBLIC_KEY, PRIVATE_KEY)],
        mode=0o644,
    )
    result = run_usms("config", "show")
    (warning,) = warnings_in(result.stderr)
    assert warning.startswith(warning_prefix())
    assert (
        "~/.ucloud/credential.json is readable by other users (mode 0644) and holds a private "
        "key; run: chmod 600 ~/.ucloud/credential.json"
    ) in warning
    credential_path.chmod(0o600)
    assert warnings_in(run_usms("config", "show").stderr) == []


def test_a_world_readable_dotenv_with_a_private_key_is_warned_about() -> None:
    dotenv = Path(".env")
    dotenv.write_text(f"UCLOUD_PRIVATE_KEY={PRIVATE_KEY}\n", encoding="utf-8")
    dotenv.chmod(0o640)
    result = run_usms("config", "show")
    (warning,) = warnings_in(result.stderr)
    assert warning.startswith(warning_prefix())
    said = "./.env is readable by other users (mode 0640) and holds a private key; run: chmod 600"
    assert said in warning and warning.endswith("./.env")
    dotenv.chmod(0o600)
    assert warnings_in(run_usms("config", "show").stderr) == []
    dotenv.write_text("USMS_TEMPLATE_ID=UTA1\n", encoding="utf-8")  # no key: no warning
    dotenv.chmod(0o644)
    assert warnings_in(run_usms("config", "show").stderr) == []


def test_emit_warnings_prints_each_warning_once_per_run(capsys: pytest.CaptureFixture[str]) -> None:
    dotenv = Path(".env")
    dotenv.write_text(f"UCLOUD_PRIVATE_KEY={PRIVATE_KEY}\n", encoding="utf-8")
    dotenv.chmod(0o644)
    settings = config.resolve({}, {}, None, Path.cwd())
    assert len(settings.warnings) == 1
    output = Output()
    emit_warnings(output, settings)
    emit_warnings(output, settings)
    assert len(warnings_in(capsys.readouterr().err)) == 1
    assert stat.S_IMODE(dotenv.stat().st_mode) == 0o644  # only warned, never changed


# ---- config show --------------------------------------------------------------------------------


def test_config_show_masks_secrets_and_prints_sources() -> None:
    two_profiles()
    result = run_usms("config", "show", env={"UCLOUD_PRIVATE_KEY": PRIVATE_KEY})
    assert PRIVATE_KEY not in result.stdout + result.stderr
    assert PUBLIC_KEY not in result.stdout  # shortened
    lines = {line.split("  ")[0]: line for line in result.stdout.splitlines()}
    private, public, profile = (lines[say(row)] for row in ("private key", "public key", "profile"))
    assert "<set, hidden>" in private
    assert "environment UCLOUD_PRIVATE_KEY" in private
    assert "profile 'prod' (~/.ucloud/credential.json)" in public
    assert "active in ~/.ucloud/config.json" in profile
    assert "Profiles in the files: default, prod" in result.stdout


# ---- config check -------------------------------------------------------------------------------


def test_config_check_with_good_keys_from_a_profile(sandbox: SandboxServer) -> None:
    write_profiles(
        [config_entry("default", active=True, project="org-sandbox")],
        [credential_entry("default", PUBLIC_KEY, PRIVATE_KEY)],
    )
    result = run_usms("config", "check", "--base-url", sandbox.base_url)
    assert result.stdout.startswith(
        say(
            "The keys, the project and the endpoint work: {action} was answered with "
            "RetCode {code}.",
            action="GetUSMSSendReceipt",
            code=0,
        )
    )
    assert "profile 'default' (~/.ucloud/credential.json)" in result.stdout
    assert sandbox.request_counts == {"GetUSMSSendReceipt": 1}
    assert PRIVATE_KEY not in result.stdout + result.stderr


def test_config_check_queries_the_configured_signature(sandbox: SandboxServer) -> None:
    env = {
        "UCLOUD_PUBLIC_KEY": PUBLIC_KEY,
        "UCLOUD_PRIVATE_KEY": PRIVATE_KEY,
        "USMS_SIG_CONTENT": "USMSSandbox",
    }
    result = run_usms("config", "check", "--base-url", sandbox.base_url, env=env)
    assert "The signature 'USMSSandbox' is approved." in result.stdout
    assert "no project set" in result.stdout
    env["USMS_SIG_CONTENT"] = "Unknown"
    result = run_usms("config", "check", "--base-url", sandbox.base_url, "--json", env=env)
    report = result.json
    assert report["keys_work"] is True and report["RetCode"] == 18016
    assert "not approved or not known" in report["summary"]
    assert sandbox.request_counts == {"QueryUSMSSignature": 2}


def test_config_check_with_the_wrong_private_key_exits_1(sandbox: SandboxServer) -> None:
    env = {"UCLOUD_PUBLIC_KEY": PUBLIC_KEY, "UCLOUD_PRIVATE_KEY": OTHER_PRIVATE}
    result = run_usms("config", "check", "--base-url", sandbox.base_url, env=env, expect=1)
    assert "private key does not match the public key" in result.stderr
    assert "environment UCLOUD_PRIVATE_KEY" in result.stderr
    assert OTHER_PRIVATE not in result.stdout + result.stderr


def test_config_check_with_an_unknown_public_key_exits_1(sandbox: SandboxServer) -> None:
    env = {"UCLOUD_PUBLIC_KEY": OTHER_PUBLIC, "UCLOUD_PRIVATE_KEY": PRIVATE_KEY}
    result = run_usms(
        "config", "check", "--base-url", sandbox.base_url, "--json", env=env, expect=1
    )
    assert result.json["keys_work"] is False
    assert "public key is not known" in result.stderr


def test_config_check_without_credentials_exits_2_and_sends_nothing(
    sandbox: SandboxServer,
) -> None:
    result = run_usms("config", "check", "--base-url", sandbox.base_url, expect=2)
    assert "UCLOUD_PUBLIC_KEY and UCLOUD_PRIVATE_KEY not set" in result.stderr
    assert sum(sandbox.request_counts.values()) == 0


def test_config_check_of_an_unreachable_endpoint_exits_4() -> None:
    env = {"UCLOUD_PUBLIC_KEY": PUBLIC_KEY, "UCLOUD_PRIVATE_KEY": PRIVATE_KEY}
    result = run_usms(
        "config", "check", "--base-url", f"http://127.0.0.1:{closed_port()}", env=env, expect=4
    )
    assert "error: could not reach the API at http://127.0.0.1:" in result.stderr
    assert "connection refused" in result.stderr


@pytest.mark.parametrize(
    ("result", "code", "words"),
    [
        (ApiResult("rejected", 292, "project not exist"), 1, "project is wrong"),
        (ApiResult("rejected", 290, "no access"), 1, "project is wrong"),
        (ApiResult("rejected", 294, "ip"), 1, "IP address is not allowed"),
        (ApiResult("rejected", 299, "iam"), 1, "no permission to use USMS"),
        (ApiResult("rejected", 161, "no action"), 1, "refused the check: RetCode 161"),
        (ApiResult("rejected", 18013, "no balance"), 0, "the endpoint work"),
        (ApiResult("unknown", error="no answer within 30s (read timeout)"), 5, "No usable"),
    ],
)
def test_interpret_check(result: ApiResult, code: int, words: str) -> None:
    settings = config.resolve({"project_id": "org-x"}, {}, None, Path.cwd())
    verdict = interpret_check(
        result, action="GetUSMSSendReceipt", settings=settings, sig_content=None
    )
    assert verdict.exit_code == ExitCode(code)
    assert words in verdict.summary


def test_resolve_raises_config_error_not_a_traceback_for_a_directory() -> None:
    (ucloud_dir() / "config.json").mkdir(parents=True)
    with pytest.raises(ConfigError, match="is a directory"):
        config.resolve({}, {}, None, Path.cwd())


def test_send_sandbox_ignores_the_keys_of_a_profile() -> None:
    """--sandbox uses its own throwaway keys even when a profile holds real ones (the
    sandbox would refuse the profile's keys with RetCode 172)."""
    two_profiles()
    result = run_usms("send", "--sandbox", "--show-pii", "-p", "1", "13800000000")
    assert "Sent: 1 recipient accepted" in result.stdout
    assert "sandbox → 13800000000: 【USMSSandbox】您的验证码是1，5分钟内有效。" in result.stderr
