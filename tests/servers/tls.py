"""HTTPS on loopback: a throwaway CA and a server certificate for 127.0.0.1, and a forward
proxy (plain forwarding and CONNECT tunnels) that only reaches loopback targets.

The USMS endpoint itself is a :class:`~tests.servers.raw.RawServer` with ``tls=`` set.
"""

from __future__ import annotations

import select
import shutil
import socket
import ssl
import subprocess
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.servers.raw import Conn, RawServer, http_response

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


# ---- certificates ----------------------------------------------------------------------------


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


def make_certs(directory: Path) -> Certs:
    """Certificates in ``directory``, made with the cryptography package or the openssl tool
    (the test is skipped when neither is there)."""
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


def server_context(certs: Certs) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certs.cert, certs.key)
    return context


# ---- a forward proxy -------------------------------------------------------------------------


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
