"""Issue 12: the whole answer has a deadline, "not sent" means nothing reached the API, settings
have their documented shapes, echoed values are redacted and short, and plain http goes only
to a loopback address (or to UCloud's VPC endpoint).

Every server is a raw TCP server on 127.0.0.1 (``tests/servers/raw.py``). Tests that involve
host names run in-process behind ``network_guard``: every name lookup and connect is recorded,
and anything not on loopback is refused, so no byte can leave the machine.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import PRIVATE_KEY, Result, closed_port, creds, error_prefix
from tests.conftest import run_unchecked as run_usms  # they check exit codes themselves
from tests.servers.raw import RawServer, accepted, hang, trickle_head

PHONE = "13800000000"
PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
VPC_URL = "http://api.service.ucloud.cn"
TEN_MB = 10 * 1024 * 1024


@pytest.fixture(autouse=True)
def no_proxy_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's proxy settings must not leak into these tests."""
    for name in PROXY_VARS:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


def _loopback(host: Any) -> bool:
    text = host.decode() if isinstance(host, bytes) else str(host)
    return text in {"localhost", "::1"} or text.startswith("127.")


class Guard:
    """What the in-process CLI looked up and connected to; non-loopback is refused."""

    def __init__(self) -> None:
        self.lookups: list[str] = []
        self.connects: list[Any] = []
        self.localhost_is: list[str] | None = None  # make "localhost" resolve to these

    @property
    def left_loopback(self) -> list[Any]:
        return [a for a in self.connects if isinstance(a, tuple) and not _loopback(a[0])]


@pytest.fixture
def network_guard(monkeypatch: pytest.MonkeyPatch) -> Guard:
    guard = Guard()
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_getaddrinfo = socket.getaddrinfo

    def connect(self: socket.socket, address: Any) -> None:
        guard.connects.append(address)
        if isinstance(address, tuple) and not _loopback(address[0]):
            raise ConnectionRefusedError(111, "refused by the test: not loopback")
        return real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        guard.connects.append(address)
        if isinstance(address, tuple) and not _loopback(address[0]):
            return 111
        return real_connect_ex(self, address)

    def getaddrinfo(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        guard.lookups.append(name)
        if name.lower() == "localhost" and guard.localhost_is is not None:
            return [
                (
                    socket.AF_INET6 if ":" in address else socket.AF_INET,
                    socket.SOCK_STREAM,
                    6,
                    "",
                    (address, int(port or 80)),
                )
                for address in guard.localhost_is
            ]
        if not _loopback(name):
            raise socket.gaierror(socket.EAI_NONAME, "refused by the test: not loopback")
        return real_getaddrinfo(host, port, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return guard


def command(kind: str, url: str) -> list[str]:
    """One command of each kind that calls the API once."""
    return {
        "send": ["send", "--base-url", url, "-t", "UTA1", "-s", "Acme", PHONE],
        "send --timeout": ["send", "--base-url", url, "--timeout", "1", "-t", "UTA1", "-s", "Acme"]
        + [PHONE],
        "receipt": ["receipt", "--base-url", url, "sn-1"],
        "template": ["template", "--base-url", url, "UTA1"],
        "config check": ["config", "check", "--base-url", url],
    }[kind]


def run(args: Sequence[str], env: dict[str, str] | None = None) -> tuple[Result, float]:
    started = time.monotonic()
    result = run_usms(*args, env={**creds(), "UCLOUD_TIMEOUT_SECOND": "1", **(env or {})})
    return result, time.monotonic() - started


def assert_plain_error(result: Result) -> None:
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    assert PRIVATE_KEY not in result.stderr + result.stdout
    assert any(line.startswith(error_prefix()) for line in result.stderr.splitlines())


def one_json(result: Result) -> dict[str, Any]:
    assert result.stdout.count("\n") == 1, result.stdout[:2000]
    payload = json.loads(result.stdout)
    assert isinstance(payload, dict) and payload["exit_code"] == result.exit_code
    return payload


# ---- 5: --timeout bounds the whole answer, headers included -----------------------------------


KINDS = ["send", "send --timeout", "receipt", "template", "config check"]


@pytest.mark.parametrize("json_mode", [False, True], ids=["human", "json"])
@pytest.mark.parametrize("kind", KINDS)
def test_a_head_that_trickles_in_is_unknown_within_the_timeout(kind: str, json_mode: bool) -> None:
    """Status line, then one header byte every 0.4 s: no read ever waits 1 s, but the answer
    never completes. With a 1 s timeout usms gives up after about 1 s: exit 5, asked once."""
    with RawServer(trickle_head(every=0.4, for_seconds=8)) as server:
        result, elapsed = run([*command(kind, server.url), *(["--json"] if json_mode else [])])
    assert result.exit_code == 5, (result.stdout, result.stderr)
    assert elapsed < 2.5, f"timeout 1 s, but the run took {elapsed:.1f}s"
    assert server.count == 1, "a stalled answer must not be asked again"
    assert_plain_error(result)
    if json_mode:
        one_json(result)
    if kind.startswith("send"):
        assert "UNKNOWN" in result.stderr or "unknown" in result.stderr.lower()


def test_a_silent_tls_handshake_is_not_sent_and_bounded() -> None:
    """The server accepts the connection and never answers the TLS hello: the request was
    never written, so it is "not sent" (exit 4), not "unknown"."""
    with RawServer(hang(15), read_request=False, lifetime=30) as server:
        url = f"https://127.0.0.1:{server.port}/"
        result, elapsed = run([*command("send", url), "--json"])
    assert result.exit_code == 4, (result.stdout, result.stderr)
    (item,) = one_json(result)["requests"]
    assert item["status"] == "not_sent"
    assert 1 <= item["attempts"] <= 4
    assert elapsed < 4 * 1.0 + 3, f"took {elapsed:.1f}s"


# ---- 6: a proxy that never answers CONNECT ------------------------------------------------------


@pytest.mark.parametrize(
    "behaviour", [hang(15), trickle_head(every=0.4, for_seconds=8)], ids=["silent", "trickling"]
)
def test_a_proxy_that_never_opens_the_tunnel_means_not_sent(behaviour: Any) -> None:
    with RawServer(behaviour, lifetime=40) as proxy:
        env = {"HTTPS_PROXY": f"http://127.0.0.1:{proxy.port}"}
        url = f"https://127.0.0.1:{closed_port()}/"
        result, elapsed = run([*command("send", url), "--json"], env=env)
        methods = {request.method for request in proxy.requests}
    assert result.exit_code == 4, (result.stdout, result.stderr)
    assert methods == {"CONNECT"}, "only the tunnel was asked for; the API was never reached"
    (item,) = one_json(result)["requests"]
    assert item["status"] == "not_sent"
    assert 1 <= item["attempts"] <= 4
    assert elapsed < 4 * 1.0 + 3


def test_a_stalled_proxy_is_not_sent_in_human_output_too() -> None:
    with RawServer(hang(15), lifetime=40) as proxy:
        env = {"HTTPS_PROXY": f"http://127.0.0.1:{proxy.port}"}
        result, _ = run(command("send", f"https://127.0.0.1:{closed_port()}/"), env=env)
    assert result.exit_code == 4, result.stderr
    assert_plain_error(result)
    assert "UNKNOWN" not in result.stderr
    said = result.stderr
    assert "not sent" in said or "nothing was sent" in said, said


# ---- 9: settings have their documented shapes ------------------------------------------------


def send_with(
    *extra: str, env: dict[str, str] | None = None, dotenv: str | None = None
) -> tuple[Result, int]:
    """``usms send`` with these extra arguments to a server that accepts everything; the exit
    and the number of requests the server received."""
    if dotenv is not None:
        Path(".env").write_text(dotenv, encoding="utf-8")
    with RawServer(lambda conn: conn.send(accepted())) as server:
        args = ["send", "--base-url", server.url, *extra, PHONE]
        result = run_usms(*args, env={**creds(), **(env or {})})
    return result, server.count


@pytest.mark.parametrize(
    "name, value",
    [("USMS_SIG_CONTENT", "S" * TEN_MB), ("UCLOUD_PROJECT_ID", "org-" + "a" * TEN_MB)],
)
def test_a_ten_megabyte_setting_in_dotenv_is_refused_and_not_echoed(name: str, value: str) -> None:
    result, requests = send_with("-t", "UTA1", "-s", "Acme", dotenv=f"{name}={value}\n")
    if name == "USMS_SIG_CONTENT":  # the flag wins over .env: try again with only the file
        result, requests = send_with("-t", "UTA1", dotenv=f"{name}={value}\n")
    assert result.exit_code == 2, result.stderr[:500]
    assert requests == 0
    assert len(result.stderr) < 600, f"{len(result.stderr)} characters of stderr"
    assert name in result.stderr and ".env" in result.stderr
    assert_plain_error(result)


@pytest.mark.parametrize(
    "args, env, words",
    [
        (["-t", "UTA1", "-s", "S"], {}, "2–12"),
        (["-t", "UTA1", "-s", "ThirteenChars"], {}, "2–12"),
        (["-t", "UTA1", "-s", "签名" * 7], {}, "2–12"),
        (["-t", "UTA1"], {"USMS_SIG_CONTENT": "x"}, "USMS_SIG_CONTENT"),
        (["-t", "UTA1", "-s", "Acme", "--project-id", "project-1"], {}, "org-"),
        (["-t", "UTA1", "-s", "Acme", "--project-id", "org-"], {}, "org-"),
        (["-t", "UTA1", "-s", "Acme"], {"UCLOUD_PROJECT_ID": "org-a b"}, "UCLOUD_PROJECT_ID"),
        (["-t", "UT A1", "-s", "Acme"], {}, "template id"),
        (["-t", "U" * 65, "-s", "Acme"], {}, "template id"),
        (["-s", "Acme"], {"USMS_TEMPLATE_ID": "UTA1\x1b[31m"}, "USMS_TEMPLATE_ID"),
        (["-t", "UTA1", "-s", "Acme", "--user-id", "u" * 33], {}, "32"),
        (["-t", "UTA1", "-s", "Acme", "--extend-code", "1" * 13], {}, "at most 12"),
        (["-t", "UTA1", "-s", "Acme", "--extend-code", "12a"], {}, "at most 12"),
        (["-t", "UTA1", "-s", "Acme"], {"UCLOUD_PUBLIC_KEY": "k" * 100_000}, "public key"),
    ],
)
def test_settings_outside_their_documented_shape_are_refused(
    args: list[str], env: dict[str, str], words: str
) -> None:
    result, requests = send_with(*args, env=env)
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert requests == 0
    assert words in result.stderr, result.stderr
    assert len(result.stderr) < 600
    assert_plain_error(result)


@pytest.mark.parametrize(
    "args",
    [
        ["-t", "UTA1234", "-s", "UC"],
        ["-t", "UTB22081501ABCD", "-s", "优刻得云计算股份有限公司"],  # 12 characters
        ["-t", "UTN1", "-s", "Acme", "--project-id", "org-abc123"],
        ["-t", "UTA1", "-s", "Acme", "--extend-code", "123456789012", "--user-id", "u" * 32],
    ],
)
def test_settings_inside_their_documented_shape_are_sent(args: list[str]) -> None:
    result, requests = send_with(*args)
    assert result.exit_code == 0, result.stderr
    assert requests == 1


def test_a_too_long_extend_code_says_the_real_limit_and_shows_the_value() -> None:
    result, requests = send_with("-t", "UTA1", "-s", "Acme", "--extend-code", "123456789012345")
    assert result.exit_code == 2 and requests == 0
    assert "digits, at most 12" in result.stderr, result.stderr
    assert "123456789012345" in result.stderr, "the value is shown as typed, not masked"
    assert "digits only" not in result.stderr


def test_extend_code_help_states_the_limit() -> None:
    result = run_usms("send", "--help", env={"COLUMNS": "200"})
    line = next(line for line in result.stdout.splitlines() if "--extend-code" in line)
    assert "at most 12" in line, line


# ---- 11: echoed values: no user-info, no query values, short --------------------------------


@pytest.mark.parametrize(
    "url, secrets",
    [
        ("https://user:pa/ss@api.ucloud.cn/", ["pa/ss", "user:pa"]),
        ("https://user:s3cr3t@api.ucloud.cn:99x/", ["s3cr3t"]),
        ("https://user:s3cr3t@api.ucloud.cn:99999/", ["s3cr3t"]),
        ("http://admin:hunter2@10.0.0.1/", ["hunter2"]),
        ("https://api.ucloud.cn/?token=SECRET-TOKEN-1", ["SECRET-TOKEN-1"]),
        ("https://api.ucloud.cn/?a=1&token=SECRET-TOKEN-2#frag", ["SECRET-TOKEN-2"]),
        ("http://example.com/?token=SECRET-TOKEN-3", ["SECRET-TOKEN-3"]),
        ("ftp://me:SECRET-PW@example.com/?token=SECRET-TOKEN-4", ["SECRET-PW", "SECRET-TOKEN-4"]),
    ],
)
@pytest.mark.parametrize("where", ["flag", "env"])
def test_a_refused_base_url_never_repeats_passwords_or_query_values(
    url: str, secrets: list[str], where: str, network_guard: Guard
) -> None:
    args = ["send", "--dry-run", "-t", "UTA1", "-s", "Acme", PHONE]
    if where == "flag":
        result = run_usms(*args[:1], "--base-url", url, *args[1:], env=creds())
    else:
        result = run_usms(*args, env={**creds(), "UCLOUD_API_BASE_URL": url})
    assert result.exit_code == 2, result.stderr
    for secret in secrets:
        assert secret not in result.stderr, result.stderr
    assert "***" in result.stderr or "user name or password" in result.stderr, result.stderr
    assert network_guard.connects == []


@pytest.mark.parametrize(
    "line",
    [
        f"UCLOUD_API_BASE_URL=https://api.ucloud.cn/{'a' * TEN_MB}?",
        f"UCLOUD_API_BASE_URL=http://{'a' * TEN_MB}.example/",
        f"UCLOUD_TIMEOUT_SECOND={'9' * TEN_MB}x",
        f"UCLOUD_PROFILE={'p' * TEN_MB}",
    ],
    ids=["url", "http-host", "timeout", "profile"],
)
def test_a_huge_value_from_dotenv_is_cut_short_when_echoed(line: str) -> None:
    Path(".env").write_text(line + "\n", encoding="utf-8")
    for extra in ((), ("--json",)):
        result = run_usms("send", "--dry-run", "-t", "UTA1", "-s", "Acme", *extra, PHONE)
        assert result.exit_code == 2, result.stderr[:300]
        assert len(result.stderr) < 600, f"{len(result.stderr)} characters of stderr"
        assert len(result.stdout) < 1200
        assert "…" in result.stderr or "characters" in result.stderr


@given(
    user=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=10),
    secret=st.text(
        alphabet=st.characters(blacklist_characters="@?#", blacklist_categories=("Cs",)),
        min_size=6,
        max_size=30,
    ),
    token=st.text(
        alphabet=st.characters(blacklist_characters="&#", blacklist_categories=("Cs",)),
        min_size=6,
        max_size=30,
    ),
)
def test_redacted_urls_hold_neither_password_nor_query_value(
    user: str, secret: str, token: str
) -> None:
    from usms_cli.core import shapes

    url = f"https://{user}:{secret}@api.ucloud.cn/path?token={token}#x"
    shown = shapes.redact_url(url)
    assert secret not in shown
    assert token not in shown
    assert shown.startswith("https://***@api.ucloud.cn")
    assert len(shapes.clip(url)) <= shapes.ECHO_LIMIT + 1


# ---- 12: "localhost." is not loopback; "localhost" is checked after resolution ---------------


@pytest.mark.parametrize("host", ["localhost.", "LOCALHOST.", "localhost.localdomain"])
def test_a_name_that_only_looks_like_localhost_cannot_carry_plain_http(
    host: str, network_guard: Guard
) -> None:
    with RawServer(lambda conn: conn.send(accepted())) as server:
        result = run_usms(*command("send", f"http://{host}:{server.port}/"), env=creds())
    assert result.exit_code == 2, result.stderr
    assert "refusing plain http://" in result.stderr
    assert network_guard.lookups == [] and network_guard.connects == []
    assert server.count == 0


@pytest.mark.parametrize(
    "addresses", [["192.0.2.10"], ["127.0.0.1", "192.0.2.10"]], ids=["remote", "mixed"]
)
def test_localhost_is_checked_after_resolution(addresses: list[str], network_guard: Guard) -> None:
    """If "localhost" resolves to a remote address (a tampered hosts file or resolver), the
    signed request must not go there in clear: no connection is even attempted."""
    network_guard.localhost_is = addresses
    with RawServer(lambda conn: conn.send(accepted())) as server:
        args = [*command("send", f"http://localhost:{server.port}/"), "--json"]
        result = run_usms(*args, env=creds())
    assert network_guard.left_loopback == []
    assert result.exit_code == 4, result.stderr
    (item,) = one_json(result)["requests"]
    assert item["status"] == "not_sent"
    assert "loopback" in item["error"] and "192.0.2.10" in item["error"]
    assert server.count == 0


@pytest.mark.parametrize("addresses", [None, ["::1", "127.0.0.1"]], ids=["system", "v6-first"])
def test_localhost_that_resolves_to_loopback_still_works(
    addresses: list[str] | None, network_guard: Guard
) -> None:
    """Every address found is tried in turn (the server listens on 127.0.0.1 only)."""
    network_guard.localhost_is = addresses
    with RawServer(lambda conn: conn.send(accepted("sn-local"))) as server:
        result = run_usms(*command("send", f"http://localhost:{server.port}/"), env=creds())
    assert result.exit_code == 0, result.stderr
    assert "sn-local" in result.stdout
    assert network_guard.left_loopback == []


# ---- 13: UCloud's VPC endpoint is http only ---------------------------------------------------


@pytest.mark.parametrize("url", [VPC_URL, VPC_URL + "/", "HTTP://API.Service.UCloud.cn:80/"])
def test_the_vpc_endpoint_is_accepted_over_http(url: str, network_guard: Guard) -> None:
    result = run_usms("config", "show", "--json", env={"UCLOUD_API_BASE_URL": url})
    assert result.exit_code == 0, result.stderr
    assert result.json["settings"]["base_url"]["value"] == url
    dry = run_usms("send", "--dry-run", "--base-url", url, "-t", "UTA1", "-s", "Acme", PHONE)
    assert dry.exit_code == 0, dry.stderr
    assert network_guard.connects == [] and network_guard.lookups == []


@pytest.mark.parametrize(
    "url",
    [
        "http://api.ucloud.cn",
        "http://api.service.ucloud.cn.",
        "http://api.service.ucloud.cn.evil.example",
        "http://evil-api.service.ucloud.cn",
        "http://api.service.ucloud.cn:8080",
        "http://api.sms.ucloud.cn",
    ],
)
def test_every_other_remote_http_host_is_still_refused(url: str, network_guard: Guard) -> None:
    result = run_usms("send", "--base-url", url, "-t", "UTA1", "-s", "Acme", PHONE, env=creds())
    assert result.exit_code == 2, result.stderr
    assert "refusing plain http://" in result.stderr or "base URL" in result.stderr
    assert network_guard.connects == [] and network_guard.lookups == []


@pytest.mark.parametrize("verbose", [True, False])
def test_a_send_to_the_vpc_endpoint_notes_the_plain_http_in_verbose_output(
    verbose: bool, network_guard: Guard
) -> None:
    """A forward proxy on loopback stands in for the VPC: the request goes to it in absolute
    form and never leaves the machine."""
    with RawServer(lambda conn: conn.send(accepted("sn-vpc"))) as proxy:
        env = {**creds(), "HTTP_PROXY": f"http://127.0.0.1:{proxy.port}"}
        args = ["send", "--base-url", VPC_URL, "-t", "UTA1", "-s", "Acme", PHONE]
        result = run_usms(*args, *(["-v"] if verbose else []), env=env)
        targets = [request.target for request in proxy.requests]
    assert result.exit_code == 0, result.stderr
    assert "sn-vpc" in result.stdout
    assert targets == [VPC_URL + "/"]
    assert network_guard.left_loopback == []
    assert "api.service.ucloud.cn" not in network_guard.lookups
    notices = [line for line in result.stderr.splitlines() if "unencrypted" in line]
    assert len(notices) == (1 if verbose else 0), result.stderr
    if verbose:
        assert "VPC" in notices[0]
