"""Endpoint policy (issue 7): TLS is always verified, plain http only to loopback, proxies from
the standard variables work (plain forwarding and CONNECT), and a redirect is never followed.

Every server here is started on loopback, port 0, by the test itself: an HTTPS USMS endpoint
with a certificate from a throwaway CA, plain-http endpoints, and a tiny forward proxy. The CLI
runs as a real ``python -m usms_cli`` process wherever the environment (CA bundles, proxy
variables) matters; the URL checks run in-process so that sockets can be watched.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import PRIVATE_KEY, PUBLIC_KEY, creds, run_usms
from tests.servers.raw import Conn, RawServer, closed_port, http_response
from usms_cli.core.signing import verify

PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
CA_VARS = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR")
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
SESSION_NO = "sn-tls"


@pytest.fixture(autouse=True)
def no_proxy_or_ca_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """Proxy and CA variables of the developer's shell must not leak into any test."""
    for name in (*PROXY_VARS, *CA_VARS):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)


# ---- certificates: a throwaway CA and a server certificate for 127.0.0.1 --------------------


@dataclass(frozen=True)
class Certs:
    ca: Path  # the CA certificate (PEM), what a client must trust
    cert: Path  # server certificate (PEM), IP SAN 127.0.0.1, signed by the CA
    key: Path  # its private key


def _certs_with_cryptography(directory: Path) -> Certs:
    import datetime
    import ipaddress

    from cryptography import x509  # type: ignore[import-not-found,unused-ignore]
    from cryptography.hazmat.primitives import hashes, serialization  # type: ignore[import-not-found,unused-ignore]
    from cryptography.hazmat.primitives.asymmetric import ec  # type: ignore[import-not-found,unused-ignore]
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID  # type: ignore[import-not-found,unused-ignore]

    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "usms-cli test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    certs = Certs(directory / "ca.pem", directory / "server.pem", directory / "server.key")
    certs.ca.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    certs.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    certs.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return certs


def _certs_with_openssl(directory: Path, openssl: str) -> Certs:
    def run(*args: str) -> None:
        subprocess.run([openssl, *args], cwd=directory, check=True, capture_output=True, timeout=30)

    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    run(
        "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        "-subj", "/CN=usms-cli test CA",
        "-addext", "basicConstraints=critical,CA:TRUE,pathlen:0",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    )  # fmt: skip
    run("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=127.0.0.1")
    (directory / "server.ext").write_text(
        "subjectAltName=IP:127.0.0.1\n"
        "basicConstraints=critical,CA:FALSE\n"
        "extendedKeyUsage=serverAuth\n"
        "subjectKeyIdentifier=hash\n"
        "authorityKeyIdentifier=keyid\n",
        encoding="ascii",
    )
    run(
        "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "server.ext",
    )  # fmt: skip
    return Certs(directory / "ca.pem", directory / "server.pem", directory / "server.key")


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Certs:
    directory = tmp_path_factory.mktemp("tls")
    try:
        import cryptography  # noqa: F401
    except ImportError:
        openssl = shutil.which("openssl")
        if openssl is None:
            pytest.skip("neither the cryptography package nor the openssl tool is available")
        try:
            return _certs_with_openssl(directory, openssl)
        except (subprocess.SubprocessError, OSError) as exc:
            pytest.skip(f"openssl could not make test certificates: {exc}")
    return _certs_with_cryptography(directory)


# ---- a USMS endpoint on loopback: plain http, https, or IPv6 --------------------------------


def accept_answer(form: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    if form.get("PublicKey") != PUBLIC_KEY or not verify(form, PRIVATE_KEY):
        payload: dict[str, Any] = {"RetCode": 171, "Message": "Signature VerifyAC Error"}
    else:
        payload = {"RetCode": 0, "Message": "ok", "SessionNo": SESSION_NO}
    return 200, {"Content-Type": "application/json"}, json.dumps(payload).encode()


Responder = Callable[[dict[str, str]], tuple[int, dict[str, str], bytes]]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        """Silent."""

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        owner = self.server.owner
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace")
        form = dict(urllib.parse.parse_qsl(body, keep_blank_values=True))
        with owner.lock:
            owner.requests.append(form)
        status, headers, payload = owner.responder(form)
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, owner: MiniUSMS, host: str, family: socket.AddressFamily) -> None:
        self.owner = owner
        self.address_family = family
        super().__init__((host, 0), _Handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        request.settimeout(5.0)
        owner = self.owner
        with owner.lock:
            owner.connections += 1
        if owner.tls is not None:
            try:
                request = owner.tls.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError) as exc:
                with owner.lock:
                    owner.handshake_failures.append(repr(exc))
                return
        try:
            super().finish_request(request, client_address)
        finally:
            request.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that went away is not the test's business."""


@dataclass
class MiniUSMS:
    """A USMS endpoint that checks the signature and answers ``responder(form)``."""

    host: str = "127.0.0.1"
    tls: ssl.SSLContext | None = None
    responder: Responder = accept_answer
    requests: list[dict[str, str]] = field(default_factory=list)
    connections: int = 0
    handshake_failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _server: _HTTPServer | None = None
    _thread: threading.Thread | None = None

    def start(self) -> MiniUSMS:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        self._server = _HTTPServer(self, self.host, family)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        scheme = "https" if self.tls is not None else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> MiniUSMS:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def server_context(certs: Certs) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certs.cert, certs.key)
    return context


@pytest.fixture
def tls_usms(certs: Certs) -> Iterator[MiniUSMS]:
    with MiniUSMS(tls=server_context(certs)) as server:
        yield server


@pytest.fixture
def plain_usms() -> Iterator[MiniUSMS]:
    with MiniUSMS() as server:
        yield server


# ---- a forward proxy on loopback: absolute-form requests and CONNECT tunnels ----------------


@dataclass
class Proxy:
    """Forwards only to loopback targets; records what it was asked to do."""

    connect_status: int = 200  # answer to CONNECT; anything else refuses the tunnel
    seen: list[tuple[str, str]] = field(default_factory=list)  # (method, target)
    tunnelled_up: bytearray = field(default_factory=bytearray)  # client -> target bytes
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: RawServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.port}"

    def behaviour(self, conn: Conn) -> None:
        request = conn.request
        assert request is not None
        with self.lock:
            self.seen.append((request.method, request.target))
        if request.method == "CONNECT":
            self._tunnel(conn, request.target)
            return
        target = urllib.parse.urlsplit(request.target)
        if target.scheme != "http" or target.hostname not in LOOPBACK_HOSTS:
            conn.send(http_response(502, "proxy: loopback targets only", content_type=None))
            return
        path = target.path or "/"
        head = [f"{request.method} {path} HTTP/1.1", f"Host: {target.netloc}"]
        for name, value in request.headers.items():
            if name not in {"host", "connection", "proxy-connection", "proxy-authorization"}:
                head.append(f"{name}: {value}")
        head.append("Connection: close")
        raw = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + request.body
        with socket.create_connection((target.hostname, target.port or 80), timeout=5) as up:
            up.sendall(raw)
            answer = b""
            while chunk := up.recv(65536):
                answer += chunk
        conn.send(answer)

    def _tunnel(self, conn: Conn, target: str) -> None:
        host, _, port = target.rpartition(":")
        host = host.strip("[]")
        if self.connect_status != 200 or host not in LOOPBACK_HOSTS:
            status = self.connect_status if self.connect_status != 200 else 403
            conn.send(
                http_response(
                    status,
                    "no tunnel for you",
                    content_type="text/plain",
                    headers={"Proxy-Authenticate": 'Basic realm="test"'},
                )
            )
            return
        with socket.create_connection((host, int(port)), timeout=5) as up:
            conn.send(b"HTTP/1.1 200 Connection established\r\n\r\n")
            deadline = time.monotonic() + 10
            pair = {conn.sock: up, up: conn.sock}
            while time.monotonic() < deadline and not conn.server.stopping.is_set():
                ready, _, _ = select.select(list(pair), [], [], 0.1)
                for sock in ready:
                    try:
                        data = sock.recv(65536)
                    except OSError:
                        return
                    if not data:
                        return
                    if sock is conn.sock:
                        with self.lock:
                            self.tunnelled_up.extend(data)
                    pair[sock].sendall(data)


@pytest.fixture
def proxy() -> Iterator[Proxy]:
    state = Proxy()
    with RawServer(state.behaviour, lifetime=60.0) as server:
        state.server = server
        yield state


# ---- running the real CLI in a child process ----------------------------------------------


def child_env(**extra: str) -> dict[str, str]:
    """The test's environment (isolated HOME and cwd from conftest) with credentials, and no
    proxy or CA variables unless given here."""
    env = {
        name: value
        for name, value in os.environ.items()
        if name.upper() not in {*PROXY_VARS, *CA_VARS}
        and (name == "USMS_NOW" or not name.upper().startswith(("UCLOUD_", "USMS_")))
    }
    env.update(creds())
    env.update(extra)
    return env


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


def test_untrusted_certificate_exits_4_before_anything_is_written(tls_usms: MiniUSMS) -> None:
    run = usms_child(tls_usms.url, "13800000000")
    assert run.code == 4, run.stderr
    assert_no_traceback(run)
    assert "TLS" in run.stderr or "certificate" in run.stderr.lower(), run.stderr
    assert tls_usms.requests == []  # the handshake failed: no HTTP request was ever sent
    assert tls_usms.connections == 1  # and it was not retried
    assert len(tls_usms.handshake_failures) == 1
    assert SESSION_NO not in run.stdout


def test_requests_ca_bundle_makes_a_private_ca_trusted(tls_usms: MiniUSMS, certs: Certs) -> None:
    run = usms_child(tls_usms.url, "13800000000", env=child_env(REQUESTS_CA_BUNDLE=str(certs.ca)))
    assert run.code == 0, run.stderr
    assert_no_traceback(run)
    assert SESSION_NO in run.stdout
    assert len(tls_usms.requests) == 1
    assert tls_usms.requests[0]["PhoneNumbers.0"] == "13800000000"


def test_the_host_name_is_checked_too(tls_usms: MiniUSMS, certs: Certs) -> None:
    """A certificate from a trusted CA, but for 127.0.0.1 only: https://localhost is refused."""
    url = f"https://localhost:{tls_usms.port}"
    run = usms_child(url, "13800000000", env=child_env(REQUESTS_CA_BUNDLE=str(certs.ca)))
    assert run.code == 4, run.stderr
    assert_no_traceback(run)
    assert tls_usms.requests == []


@pytest.mark.parametrize("variable", ["CURL_CA_BUNDLE", "SSL_CERT_FILE"])
def test_other_ca_variables_never_weaken_verification(
    tls_usms: MiniUSMS, certs: Certs, variable: str
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
    tls_usms: MiniUSMS, tmp_path: Path
) -> None:
    bundle = tmp_path / "garbage.pem"
    bundle.write_text("this is not a certificate\n", encoding="ascii")
    run = usms_child(tls_usms.url, "13800000000", env=child_env(REQUESTS_CA_BUNDLE=str(bundle)))
    assert run.code == 4, run.stderr
    assert_no_traceback(run)
    assert tls_usms.requests == []


def test_a_missing_ca_bundle_is_nothing_sent_not_unknown(
    tls_usms: MiniUSMS, tmp_path: Path
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


def send_in_process(base_url: str, *extra: str, env: dict[str, str] | None = None) -> Any:
    args = ["send", "--base-url", base_url] if base_url else ["send"]
    args += ["-t", "UTA1", "-s", "Acme", "-p", "1", "--timeout", "5", *extra, "13800000000"]
    return run_usms(*args, env={**creds(), **(env or {})})


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
    result = send_in_process(url)
    elapsed = time.monotonic() - started
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert sockets_opened == []
    assert elapsed < 2.0
    assert "Traceback" not in result.stderr
    message = result.stderr.strip()
    assert message.startswith("usms: error:"), message
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
    result = send_in_process(url, "--journal", str(journal), "--json")
    assert sockets_opened == []
    assert result.exit_code == 2, (result.exit_code, result.stderr)
    assert result.json["ok"] is False
    assert "unknown" not in result.stderr.lower()


def test_a_refused_url_from_the_environment_names_its_source(sockets_opened: list[Any]) -> None:
    result = send_in_process("", env={"UCLOUD_API_BASE_URL": "http://10.0.0.1:8040"})
    assert result.exit_code == 2
    assert "UCLOUD_API_BASE_URL" in result.stderr
    assert sockets_opened == []


def test_a_refused_url_in_json_mode_is_one_error_object(sockets_opened: list[Any]) -> None:
    result = send_in_process("http://example.com", "--json")
    assert result.exit_code == 2
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
    with MiniUSMS(host="::1" if host == "::1" else "127.0.0.1") as server:
        shown = f"[{host}]" if ":" in host else host
        result = send_in_process(f"http://{shown}:{server.port}/")
        assert result.exit_code == 0, result.stderr
        assert SESSION_NO in result.stdout
        assert len(server.requests) == 1


# ---- proxies from the standard variables ----------------------------------------------------


def test_http_proxy_is_used_for_plain_http(proxy: Proxy, plain_usms: MiniUSMS) -> None:
    run = usms_child(plain_usms.url, "13800000000", env=child_env(HTTP_PROXY=proxy.url))
    assert run.code == 0, run.stderr
    assert_no_traceback(run)
    assert SESSION_NO in run.stdout
    assert proxy.seen == [("POST", f"{plain_usms.url}/")]  # absolute-form, through the proxy
    assert len(plain_usms.requests) == 1


def test_lower_case_http_proxy_works_too(proxy: Proxy, plain_usms: MiniUSMS) -> None:
    run = usms_child(plain_usms.url, "13800000000", env=child_env(http_proxy=proxy.url))
    assert run.code == 0, run.stderr
    assert [method for method, _ in proxy.seen] == ["POST"]


def test_no_proxy_bypasses_the_proxy(proxy: Proxy, plain_usms: MiniUSMS) -> None:
    env = child_env(HTTP_PROXY=proxy.url, NO_PROXY="127.0.0.1")
    run = usms_child(plain_usms.url, "13800000000", env=env)
    assert run.code == 0, run.stderr
    assert proxy.seen == []
    assert len(plain_usms.requests) == 1


def test_https_through_a_connect_tunnel_stays_encrypted(
    proxy: Proxy, tls_usms: MiniUSMS, certs: Certs
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


def test_tls_is_verified_end_to_end_through_the_tunnel(proxy: Proxy, tls_usms: MiniUSMS) -> None:
    run = usms_child(tls_usms.url, "13800000000", env=child_env(HTTPS_PROXY=proxy.url))
    assert run.code == 4, run.stderr
    assert_no_traceback(run)
    assert proxy.seen == [("CONNECT", f"127.0.0.1:{tls_usms.port}")]
    assert tls_usms.requests == []


def test_a_proxy_that_refuses_the_tunnel_means_nothing_was_sent(
    proxy: Proxy, tls_usms: MiniUSMS, certs: Certs, tmp_path: Path
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


def test_an_unreachable_proxy_is_exit_4(plain_usms: MiniUSMS) -> None:
    dead = f"http://127.0.0.1:{closed_port()}"
    run = usms_child(plain_usms.url, "13800000000", env=child_env(HTTP_PROXY=dead))
    assert run.code == 4, run.stderr
    assert_no_traceback(run)
    assert "proxy" in run.stderr.lower()
    assert plain_usms.requests == []


# ---- redirects are never followed -----------------------------------------------------------


def test_a_redirect_to_another_server_is_not_followed() -> None:
    with MiniUSMS() as other:

        def redirect(form: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
            return 307, {"Location": f"{other.url}/"}, b""

        with MiniUSMS(responder=redirect) as first:
            run = usms_child(first.url, "13800000000")
            assert run.code == 5, run.stderr  # the signed request was written: unknown
            assert_no_traceback(run)
            assert "redirect" in run.stderr.lower()
            assert len(first.requests) == 1
            assert other.requests == [] and other.connections == 0
