"""Shared fixtures and helpers: an isolated environment, the CLI runner, recipients, child
processes, the project's sandbox, and the signature-checking fake (tests/servers/)."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.servers.fake_usms import FakeUSMS, serve_fake
from usms_cli.cli import app
from usms_cli.engine import client as client_module
from usms_cli.sandbox import (
    DEFAULT_PRIVATE_KEY,
    DEFAULT_PUBLIC_KEY,
    SandboxConfig,
    SandboxServer,
    Signature,
    Template,
    start_sandbox,
)

PUBLIC_KEY = "test-public-key-7f3a"
PRIVATE_KEY = "TEST-PRIVATE-KEY-5ec7e7a1b2c3d4"  # scanned for in every output

ALL_OUTPUTS: list[str] = []

# The language the CLI runs in: English, or with USMS_TEST_LANG=zh (.ci/run's second pass of the
# whole suite) Chinese. Its output then reaches the checks as tests.heard.Heard text, so that
# `"nothing was sent" in result.stderr` checks the Chinese message; say() gives a message in
# TEST_LANG where a check compares whole lines.
TEST_LANG = os.environ.get("USMS_TEST_LANG", "en")


_chosen_inside = False  # the running test chooses its languages itself (languages_inside)


def heard(text: str) -> str:
    """CLI output as the checks read it: in a Chinese pass, English needles are looked up in
    the catalog (``tests.heard``)."""
    if TEST_LANG == "en" or _chosen_inside:
        return text
    from tests.heard import Heard

    return Heard(text)


def _in_test_language(speak: Callable[[], str]) -> str:
    from usms_cli import i18n

    before = i18n.language()
    i18n.set_language(TEST_LANG)
    try:
        return speak()
    finally:
        i18n.set_language(before)


def say(message: str, /, **fields: Any) -> str:
    """``message`` as the CLI says it in TEST_LANG (``usms_cli.i18n.tr``)."""
    from usms_cli.i18n import tr

    return _in_test_language(lambda: tr(message, **fields))


def say_n(singular: str, plural: str, count: int, /, **fields: Any) -> str:
    """``say`` for a message with a plural (``usms_cli.i18n.tr_n``)."""
    from usms_cli.i18n import tr_n

    return _in_test_language(lambda: tr_n(singular, plural, count, **fields))


def _line_start(message: str) -> tuple[str, ...]:
    """How a ``{prog}: …: {message}`` line begins, in English and in TEST_LANG: ``--json``
    runs, and what they write on stderr, are English in either language."""
    english = message.format(prog="usms", message="").rstrip()
    return tuple(dict.fromkeys((english, say(message, prog="usms", message="").rstrip())))


def error_prefix() -> tuple[str, ...]:
    """How an error line begins (``usms: error:``; see ``_line_start``)."""
    return _line_start("{prog}: error: {message}")


def warning_prefix() -> tuple[str, ...]:
    """How a warning line begins (``usms: warning:``; see ``_line_start``)."""
    return _line_start("{prog}: warning: {message}")


def one_error(stderr: str, message: str) -> bool:
    """Whether ``stderr`` is exactly one error line saying ``message`` (in English, byte for
    byte; in Chinese, the translated message: ``tests.heard``)."""
    if TEST_LANG == "en":
        return stderr == f"usms: error: {message}\n"
    return stderr.count("\n") == 1 and stderr.startswith(error_prefix()) and message in stderr


PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
CA_VARS = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR")


@pytest.fixture(autouse=True)
def isolated(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any, request: pytest.FixtureRequest
) -> Iterator[None]:
    """No real credentials, no ./.env from the developer's tree, no real home, no retry waits."""
    for name in list(os.environ):
        if name.startswith(("UCLOUD_", "USMS_")) or name in {"NO_COLOR", "GITHUB_ACTIONS"}:
            monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setattr(client_module, "BASE_DELAY", 0.0)
    # 10:00 China time: inside the marketing window, so no send makes the extra look-up
    # (child processes get it too: child_env passes USMS_NOW on).
    monkeypatch.setenv("USMS_NOW", "2026-11-24T10:00:00+08:00")
    # Most tests send the same message twice on purpose; the history and its repeat guard
    # have their own tests (tests/test_history.py), which turn it on.
    monkeypatch.setenv("USMS_HISTORY", "off")
    # English unless a test asks: no language from the developer's locale.
    for name in ("LC_ALL", "LC_MESSAGES", "LANGUAGE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    global _chosen_inside
    _chosen_inside = request.node.get_closest_marker("languages_inside") is not None
    if TEST_LANG != "en" and not _chosen_inside:
        monkeypatch.setenv("USMS_LANG", TEST_LANG)
    from usms_cli import i18n

    i18n.set_language("en")  # a library call after a Chinese run speaks English again
    yield
    _chosen_inside = False


# ---- running the CLI ----------------------------------------------------------------------


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def json(self) -> Any:
        return json.loads(self.stdout)


def run_usms(
    *args: str,
    input: str | bytes | None = None,
    env: Mapping[str, str] | None = None,
    expect: int | None = 0,
) -> Result:
    """Run ``usms ARGS`` in-process and collect stdout/stderr separately.

    The test fails, showing both streams, unless the exit code is ``expect`` (``None``: any
    exit code; the test checks it itself)."""
    runner = CliRunner()
    result = runner.invoke(app, list(args), input=input, env=env, prog_name="usms")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    out = Result(result.exit_code, heard(result.stdout), heard(result.stderr))
    ALL_OUTPUTS.extend([out.stdout, out.stderr])
    if expect is not None and out.exit_code != expect:
        pytest.fail(
            f"usms {' '.join(args)[:300]}\nexited {out.exit_code}, expected {expect}\n"
            f"--- stdout ---\n{out.stdout[-3000:]}\n--- stderr ---\n{out.stderr[-3000:]}",
            pytrace=False,
        )
    return out


def run_unchecked(*args: str, **kwargs: Any) -> Result:
    """``run_usms`` for tests that assert the exit code themselves."""
    kwargs.setdefault("expect", None)
    return run_usms(*args, **kwargs)


def creds() -> dict[str, str]:
    return {"UCLOUD_PUBLIC_KEY": PUBLIC_KEY, "UCLOUD_PRIVATE_KEY": PRIVATE_KEY}


def usms_send(
    base_url: str,
    *args: str,
    env: Mapping[str, str] | None = None,
    input: str | bytes | None = None,
    expect: int | None = 0,
) -> Result:
    """``usms send --base-url URL -t UTA1234 -s UCloud ARGS`` with the test keys (``env``
    adds to or overrides them)."""
    return run_usms(
        "send",
        "--base-url",
        base_url,
        "-t",
        "UTA1234",
        "-s",
        "UCloud",
        *args,
        env={**creds(), **(env or {})},
        input=input,
        expect=expect,
    )


def child_env(**extra: str) -> dict[str, str]:
    """The environment for a real ``python -m usms_cli`` child: the test's (isolated HOME and
    cwd, USMS_NOW), the test keys, no proxy or CA variables and no other UCLOUD_*/USMS_*
    settings; ``extra`` adds or overrides."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name.upper() not in {*PROXY_VARS, *CA_VARS}
        and (name == "USMS_NOW" or not name.upper().startswith(("UCLOUD_", "USMS_")))
    }
    env.update(creds())
    env.update(extra)
    return env


# ---- recipients and ports -----------------------------------------------------------------


def numbers(count: int, start: int = 0) -> list[str]:
    """``count`` distinct mainland numbers, 139xxxxxxxx, in order."""
    return [f"139{i:08d}" for i in range(start, start + count)]


def numbers_file(tmp_path: Path, values: list[str], name: str = "numbers.txt") -> Path:
    path = tmp_path / name
    path.write_text("\n".join(values) + "\n", encoding="utf-8")
    return path


def closed_port() -> int:
    """A loopback port with nothing listening (bound once, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# ---- the project's sandbox ----------------------------------------------------------------

TWO_VARS = "UTNAME"  # 尊敬的{1}，您的编号是{2}。
NO_VARS = "UTPLAIN"  # no variables
REJECTED = "UTREJ"  # a marketing template the review refused
PROMO = "UTPROMO"  # an approved marketing template
FAILING_NUMBER = "13800000009"  # accepted, then its receipt says UNDELIVRD


@pytest.fixture
def sandbox_config() -> SandboxConfig:
    """The sandbox every test gets: receipts after 0.2 s, the default template and signature,
    and a few more templates, a pending signature and one number that is never delivered.
    A test module overrides this fixture for a different set-up."""
    config = SandboxConfig(receipt_delay=0.2)
    config.templates[TWO_VARS] = Template(TWO_VARS, "尊敬的{1}，您的编号是{2}。")
    config.templates[NO_VARS] = Template(NO_VARS, "您的订单已发货。")
    config.templates[REJECTED] = Template(
        REJECTED, "Hi {1}", purpose=3, status=3, name="promo", err_desc="含有营销内容"
    )
    config.templates[PROMO] = Template(PROMO, "Sale {1}", purpose=3)
    config.signatures["Pending"] = Signature("SIGP", "Pending", status=1)
    config.fail_numbers.add(FAILING_NUMBER)
    return config


@pytest.fixture
def sandbox(sandbox_config: SandboxConfig) -> Iterator[SandboxServer]:
    with start_sandbox(sandbox_config) as server:
        yield server


def env_for(server: SandboxServer, template: str = "UTSANDBOX1") -> dict[str, str]:
    """Settings that point usms at ``server`` with its keys, project, signature and
    ``template``."""
    return {
        "UCLOUD_PUBLIC_KEY": DEFAULT_PUBLIC_KEY,
        "UCLOUD_PRIVATE_KEY": DEFAULT_PRIVATE_KEY,
        "UCLOUD_API_BASE_URL": server.base_url,
        "UCLOUD_PROJECT_ID": "org-sandbox",
        "USMS_TEMPLATE_ID": template,
        "USMS_SIG_CONTENT": "USMSSandbox",
    }


# ---- the signature-checking fake ----------------------------------------------------------


@pytest.fixture(scope="session")
def fake_server() -> Iterator[Any]:
    """One threaded pytest-httpserver for the whole run; each test attaches its own FakeUSMS."""
    from pytest_httpserver import HTTPServer

    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    try:
        yield server
    finally:
        server.clear()
        server.stop()


@pytest.fixture
def fake(fake_server: Any) -> Iterator[FakeUSMS]:
    """A USMS endpoint that checks every signature against the test keys (see
    tests/servers/fake_usms.py); it answers concurrent requests concurrently."""
    fake_server.clear()
    try:
        yield serve_fake(fake_server, PUBLIC_KEY, PRIVATE_KEY)
    finally:
        fake_server.clear()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    leaked = [text for text in ALL_OUTPUTS if PRIVATE_KEY in text]
    if leaked:  # pragma: no cover - a failure of the whole suite, on purpose
        session.exitstatus = 1
        print(f"\nSECRET LEAK: the test private key appeared in {len(leaked)} outputs")
