"""Endpoint policy (issue 7): TLS is always verified, plain http only to loopback, proxies from
the standard variables work (plain forwarding and CONNECT), and a redirect is never followed.

Every server here is started on loopback, port 0, by the test itself: an HTTPS USMS endpoint
with a certificate from a throwaway CA, plain-http endpoints, and a tiny forward proxy
(tests/servers/). That a redirect is never followed: tests/test_hostile.py. The CLI
runs as a real ``python -m usms_cli`` process wherever the environment (CA bundles, proxy
variables) matters; the URL checks run in-process so that sockets can be watched.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import (
    CA_VARS,
    PRIVATE_KEY,
    PROXY_VARS,
    PUBLIC_KEY,
    child_env,
    closed_port,
    creds,
    error_prefix,
    run_usms,
)
from tests.servers.raw import RawServer, verifying
from tests.servers.tls import LOOPBACK_HOSTS, Certs, Proxy, make_certs, server_context

SESSION_NO = "sn-tls"


@pytest.fixture(autouse=True)
def no_proxy_or_ca_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """Proxy and CA variables of the developer's shell must not leak into any test."""
    for name in (*PROXY_VARS, *CA_VARS):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


# ---- the servers: an HTTPS and a plain-http USMS endpoint, a forward proxy --------------------


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    return make_certs(tmp_path_factory.mktemp("tls"))


def usms_endpoint(host: str = "127.0.0.1", certs: Certs | None = None) -> RawServer:
    """A USMS endpoint that checks the signature; HTTPS when given ``certs``."""
    tls = server_context(certs) if certs is not None else None
    return RawServer(verifying(PUBLIC_KEY, PRIVATE_KEY, SESSION_NO), host=host, tls=tls)


@pytest.fixture
def tls_usms(certs: Certs) -> Iterator[RawServer]:
    with usms_endpoint(certs=certs) as server:
        yield server


@pytest.fixture
def plain_usms() -> Iterator[RawServer]:
    with usms_endpoint() as server:
        yield server


@pytest.fixture
def proxy() -> Iterator[Proxy]:
    state = Proxy()
    with RawServer(state.behaviour, lifetime=60.0) as server:
        state.server = server
        yield state


# ---- running the real CLI in a child process ----------------------------------------------


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str
    seconds: float


def usms_child(base_url: str, *args: str, env: dict[str, str] | None = None) -> Run:
    command = [sys.executable, "-m", "usms_cli", "send", "--base-url", base_url]
    command += ["-t", "UTA1", "-s", "Acme", "-p", "1", "--timeout", "5", *args]
    started = time.monotonic()
    done = subprocess.run(
        command,
        env=env if env is not None else child_env(),
        capture_output=True,
        text=True,
        timeout=30,
    )
    return Run(done.returncode, done.stdout, done.stderr, time.monotonic() - started)


def assert_no_traceback(run: Run) -> None:
    assert "Traceback" not in run.stderr, run.stderr
    assert PRIVATE_KEY not in run.stdout + run.stderr


# ---- TLS: always verified -------------------------------------------------------------------


def test_untrusted_certificate_exits_4_before_anything_is_written(tls_usms: RawServer) -> None:
    run = usms_child(tls_usms.url, "13800000000")
    assert run.code == 4, run.stderr
    assert_no_traceback(run)
    assert "TLS" in run.stderr or "certificate" in run.stderr.lower(), run.stderr
    assert tls_usms.requests == []  # the handshake failed: no HTTP request was ever sent
    assert tls_usms.connections == 1  # and it was not retried
    assert len(tls_usms.handshake_failures) == 1
    assert SESSION_NO not in run.stdout


def test_requests_ca_bundle_makes_a_private_ca_trusted(tls_usms: RawServer, certs: Certs) -> None:
    run = usms_child(tls_usms.url, "13800000000", env=child_env(REQUESTS_CA_BUNDLE=str(certs.ca)))
    assert run.code == 0, run.stderr
    assert_no_traceback(run)
    assert SESSION_NO in run.stdout
    assert len(tls_usms.requests) == 1
    assert tls_usms.requests[0].form["PhoneNumbers.0"] == "13800000000"


def test_the_host_name_is_checked_too(tls_usms: RawServer, certs: Certs) -> None:
    """A certificate from a trusted CA, but for 127.0.0.1 only: https://localhost is refused."""
    url = f"https://localhost:{tls_usms.port}"
    run = usms_child(url, "13800000000", env=child_env(REQUESTS_CA_BUNDLE=str(certs.ca)))
    assert run.code == 4, run.stderr
    assert_no_traceback(run)
    assert tls_usms.requests == []


@pytest.mark.parametrize("variable", ["CURL_CA_BUNDLE", "SSL_CERT_FILE"])
def test_other_ca_variables_never_weaken_verification(
    tls_usms: RawServer, certs: Certs, variable: str
) -> None:
    """Only REQUESTS_CA_BUNDLE is documented. requests also reads CURL_CA_BUNDLE (and not
    SSL_CERT_FILE); whichever way the library goes, the run is verified and consistent: trusted
    and sent once (exit 0), or refused before anything was written (exit 4)."""
    run = usms_child(tls_usms.url, "13800000000", env=child_env(**{variable: str(certs.ca)}))
    assert_no_traceback(run)
    assert run.code in (0, 4), run.stderr
    if run.code == 0:
        assert len(tls_usms.requests) == 1 and SESSION_NO in run.stdout
    else:
        assert tls_usms.requests == [] and tls_usms.handshake_failures


def test_a_ca_bundle_that_is_not_a_certificate_fails_closed(
    tls_usms: RawServer, tmp_path: Path
) -> None:
    bundle = tmp_path / "garbage.pem"
    bundle.write_text("this is not a certificate\n", encoding="ascii")
    run = usms_child(tls_usms.url, "13800000000", env=child_env(REQUESTS_CA_BUNDLE=str(bundle)))
    assert run.code == 4, run.stderr
    assert_no_traceback(run)
    assert tls_usms.requests == []


def test_a_missing_ca_bundle_is_nothing_sent_not_unknown(
    tls_usms: RawServer, tmp_path: Path
) -> None:
    """REQUESTS_CA_BUNDLE naming a file that does not exist: requests raises a plain OSError
    before it even connects. Nothing can have been sent, so this must not be reported as an
    unknown outcome (exit 5, numbers held back by a journal)."""
    journal = tmp_path / "run.jsonl"
    missing = tmp_path / "no-such-bundle.pem"
    run = usms_child(
        tls_usms.url,
        "13800000000",
        "--journal",
        str(journal),
        "--json",
        env=child_env(REQUESTS_CA_BUNDLE=str(missing)),
    )
    assert_no_traceback(run)
    assert tls_usms.connections == 0 and tls_usms.requests == []
    assert run.code in (2, 4), run.stderr  # a configuration problem, or unreachable
    report = json.loads(run.stdout)
    assert report["ok"] is False
    assert report.get("counts", {}).get("unknown", 0) == 0, report
    # Once the variable is fixed, the same journal must not hold the number back.
    again = usms_child(tls_usms.url, "13800000000", "--journal", str(journal))
    assert again.code == 4 and "held back" not in again.stderr, again.stderr


# ---- plain http only to loopback ------------------------------------------------------------


def _is_loopback(host: Any) -> bool:
    text = host.decode() if isinstance(host, bytes) else str(host)
    return text in LOOPBACK_HOSTS or text.startswith("127.")


@pytest.fixture
def sockets_opened(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Every connect and name lookup made in this process (the in-process CLI). Anything not
    on loopback is recorded and refused, so a wrong answer can never reach the network."""
    seen: list[Any] = []
    real_connect = socket.socket.connect
    real_getaddrinfo = socket.getaddrinfo

    def connect(self: socket.socket, address: Any) -> None:
        seen.append(("connect", address))
        if isinstance(address, tuple) and not _is_loopback(address[0]):
            raise ConnectionRefusedError(111, "refused by the test: not loopback")
        return real_connect(self, address)

    def getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(("getaddrinfo", host))
        if not _is_loopback(host):
            raise socket.gaierror(socket.EAI_NONAME, "refused by the test: not loopback")
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return seen


def send_in_process(
    base_url: str, *extra: str, env: dict[str, str] | None = None, expect: int | None = 0
) -> Any:
    args = ["send", "--base-url", base_url] if base_url else ["send"]
    args += ["-t", "UTA1", "-s", "Acme", "-p", "1", "--timeout", "5", *extra, "13800000000"]
    return run_usms(*args, env={**creds(), **(env or {})}, expect=expect)


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1",
        "http://192.168.1.1:8040/",
        "http://example.com",
        "http://127.0.0.1.nip.io",
        "http://localhost.evil.com",
        "http://evil.com/127.0.0.1",
        "http://0.0.0.0",
        "http://[::]:8040",
        "http://[::ffff:10.0.0.1]",
        "HTTP://10.0.0.1",
        "http://127.0.0.1@example.com",
        "http://user:password@127.0.0.1:8040",
        "https://user:password@api.ucloud.cn",
        "https://token@api.ucloud.cn",
        "http://127.0.0.1:8040/?x=1",
        "https://api.ucloud.cn/?Action=SendUSMSMessage",
        "https://api.ucloud.cn/#frag",
        "ftp://127.0.0.1/",
        "file:///etc/passwd",
        "ws://127.0.0.1:8040",
        "127.0.0.1:8040",
        "https://",
        "https://api.ucloud.cn:99999",
    ],
)
def test_refused_base_urls_exit_2_without_opening_a_socket(
    url: str, sockets_opened: list[Any]
) -> None:
    started = time.monotonic()
    result = send_in_process(url, expect=2)
    elapsed = time.monotonic() - started
    assert sockets_opened == []
    assert elapsed < 2.0
    assert "Traceback" not in result.stderr
    message = result.stderr.strip()
    assert message.startswith(error_prefix()), message
    assert "base URL" in message or "refusing plain http://" in message, message
    assert len(message.splitlines()) <= 3, message


@pytest.mark.parametrize(
    "url",
    [
        "https://api.ucloud .cn",  # a stray space inside the host name
        "https://api..ucloud.cn",  # an empty label
        "http://127.0.0.\t1:8040",  # urlsplit drops the tab, requests does not
    ],
)
def test_malformed_base_urls_are_a_usage_error_not_an_unknown_outcome(
    url: str, sockets_opened: list[Any], tmp_path: Path
) -> None:
    """These pass check_base_url, then requests/urllib3 refuse to parse them before any
    connection exists. Nothing was sent: exit 2 (bad configuration), never 5 (unknown), and
    the journal must not hold the numbers back."""
    journal = tmp_path / "run.jsonl"
    result = send_in_process(url, "--journal", str(journal), "--json", expect=2)
    assert sockets_opened == []
    assert result.json["ok"] is False
    assert "unknown" not in result.stderr.lower()


def test_a_refused_url_from_the_environment_names_its_source(sockets_opened: list[Any]) -> None:
    result = send_in_process("", env={"UCLOUD_API_BASE_URL": "http://10.0.0.1:8040"}, expect=2)
    assert "UCLOUD_API_BASE_URL" in result.stderr
    assert sockets_opened == []


def test_a_refused_url_in_json_mode_is_one_error_object(sockets_opened: list[Any]) -> None:
    result = send_in_process("http://example.com", "--json", expect=2)
    report = result.json
    assert report["ok"] is False and report["exit_code"] == 2 and "https" in report["error"]
    assert sockets_opened == []


def ipv6_loopback_works() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1"])
def test_plain_http_to_loopback_is_allowed(host: str) -> None:
    if host == "::1" and not ipv6_loopback_works():
        pytest.skip("no IPv6 loopback here")
    with usms_endpoint(host="::1" if host == "::1" else "127.0.0.1") as server:
        shown = f"[{host}]" if ":" in host else host
        result = send_in_process(f"http://{shown}:{server.port}/")
        assert SESSION_NO in result.stdout
        assert len(server.requests) == 1


# ---- proxies from the standard variables ----------------------------------------------------


def test_http_proxy_is_used_for_plain_http(proxy: Proxy, plain_usms: RawServer) -> None:
    run = usms_child(plain_usms.url, "13800000000", env=child_env(HTTP_PROXY=proxy.url))
    assert run.code == 0, run.stderr
    assert_no_traceback(run)
    assert SESSION_NO in run.stdout
    assert proxy.seen == [("POST", plain_usms.url)]  # absolute-form, through the proxy
    assert len(plain_usms.requests) == 1


def test_lower_case_http_proxy_works_too(proxy: Proxy, plain_usms: RawServer) -> None:
    run = usms_child(plain_usms.url, "13800000000", env=child_env(http_proxy=proxy.url))
    assert run.code == 0, run.stderr
    assert [method for method, _ in proxy.seen] == ["POST"]


def test_no_proxy_bypasses_the_proxy(proxy: Proxy, plain_usms: RawServer) -> None:
    env = child_env(HTTP_PROXY=proxy.url, NO_PROXY="127.0.0.1")
    run = usms_child(plain_usms.url, "13800000000", env=env)
    assert run.code == 0, run.stderr
    assert proxy.seen == []
    assert len(plain_usms.requests) == 1


def test_https_through_a_connect_tunnel_stays_encrypted(
    proxy: Proxy, tls_usms: RawServer, certs: Certs
) -> None:
    env = child_env(HTTPS_PROXY=proxy.url, REQUESTS_CA_BUNDLE=str(certs.ca))
    run = usms_child(tls_usms.url, "13800000000", env=env)
    assert run.code == 0, run.stderr
    assert_no_traceback(run)
    assert SESSION_NO in run.stdout
    assert proxy.seen == [("CONNECT", f"127.0.0.1:{tls_usms.port}")]
    assert len(tls_usms.requests) == 1
    # The proxy relayed only ciphertext: neither the signature nor the numbers went by in clear.
    relayed = bytes(proxy.tunnelled_up)
    assert relayed and b"Signature" not in relayed and b"13800000000" not in relayed


def test_tls_is_verified_end_to_end_through_the_tunnel(proxy: Proxy, tls_usms: RawServer) -> None:
    run = usms_child(tls_usms.url, "13800000000", env=child_env(HTTPS_PROXY=proxy.url))
    assert run.code == 4, run.stderr
    assert_no_traceback(run)
    assert proxy.seen == [("CONNECT", f"127.0.0.1:{tls_usms.port}")]
    assert tls_usms.requests == []


def test_a_proxy_that_refuses_the_tunnel_means_nothing_was_sent(
    proxy: Proxy, tls_usms: RawServer, certs: Certs, tmp_path: Path
) -> None:
    """The proxy answers CONNECT with 407 (authentication required): no byte of the request
    can have reached the API, so this is "could not be reached" (exit 4), not unknown (5),
    and a journal must not hold the numbers back."""
    proxy.connect_status = 407
    journal = tmp_path / "run.jsonl"
    env = child_env(HTTPS_PROXY=proxy.url, REQUESTS_CA_BUNDLE=str(certs.ca))
    run = usms_child(tls_usms.url, "13800000000", "--journal", str(journal), env=env)
    assert_no_traceback(run)
    assert proxy.seen and {method for method, _ in proxy.seen} == {"CONNECT"}
    assert tls_usms.connections == 0 and tls_usms.requests == []
    assert run.code == 4, run.stderr
    proxy.connect_status = 200
    again = usms_child(tls_usms.url, "13800000000", "--journal", str(journal), env=env)
    assert again.code == 0, again.stderr  # not held back as unknown
    assert len(tls_usms.requests) == 1


def test_an_unreachable_proxy_is_exit_4(plain_usms: RawServer) -> None:
    dead = f"http://127.0.0.1:{closed_port()}"
    run = usms_child(plain_usms.url, "13800000000", env=child_env(HTTP_PROXY=dead))
    assert run.code == 4, run.stderr
    assert_no_traceback(run)
    assert "proxy" in run.stderr.lower()
    assert plain_usms.requests == []
