"""A raw TCP server on loopback for tests that need byte-level control over the answer.

Each test supplies a *behaviour*: a function that gets a :class:`Conn` (the socket, plus the
request already read in full unless ``read_request=False``) and writes whatever bytes it likes,
sleeps, or closes early. The server counts connections and complete requests and keeps them.
With ``tls=`` it speaks HTTPS (handshake failures are kept), with ``host="::1"`` IPv6.

Everything is bounded: sockets have timeouts, the accept loop ends after ``lifetime`` seconds,
and :meth:`RawServer.stop` (or leaving the ``with`` block) wakes any behaviour that is waiting
in :meth:`Conn.hang`, shuts every connection down and joins the threads.
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
import urllib.parse
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

MAX_HEAD = 1 << 20
MAX_BODY = 16 << 20


@dataclass(frozen=True)
class RawRequest:
    """One complete HTTP request as received (head and Content-Length body)."""

    head: bytes
    body: bytes
    method: str
    target: str
    headers: Mapping[str, str]  # lower-case names

    @property
    def form(self) -> dict[str, str]:
        text = self.body.decode("utf-8", "replace")
        return dict(urllib.parse.parse_qsl(text, keep_blank_values=True))

    @property
    def raw(self) -> bytes:
        return self.head + self.body


def read_request(sock: socket.socket) -> RawRequest | None:
    """Read one request (head + Content-Length body); None on EOF, timeout or garbage."""
    buffer = b""
    try:
        while b"\r\n\r\n" not in buffer:
            data = sock.recv(65536)
            if not data:
                return None
            buffer += data
            if len(buffer) > MAX_HEAD:
                return None
        head, _, rest = buffer.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, target, _version = (lines[0].split(" ", 2) + ["", ""])[:3]
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0") or "0")
        if not 0 <= length <= MAX_BODY:
            return None
        body = rest
        while len(body) < length:
            data = sock.recv(min(65536, length - len(body)))
            if not data:
                return None
            body += data
    except (OSError, ValueError):
        return None
    return RawRequest(head + b"\r\n\r\n", body[:length], method, target, headers)


def http_response(
    status: int,
    body: bytes | str = b"",
    *,
    headers: Mapping[str, str] | None = None,
    content_type: str | None = "application/json",
    content_length: int | None = None,
    close: bool = True,
) -> bytes:
    """The bytes of an HTTP/1.1 response. ``content_length`` may lie on purpose."""
    data = body.encode("utf-8") if isinstance(body, str) else body
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Whatever"
    lines = [f"HTTP/1.1 {status} {reason}"]
    if content_type is not None:
        lines.append(f"Content-Type: {content_type}")
    lines.append(f"Content-Length: {len(data) if content_length is None else content_length}")
    if close:
        lines.append("Connection: close")
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + data


def usms_json(payload: Any, status: int = 200, **kw: Any) -> bytes:
    """A JSON answer (any JSON value, not only an object)."""
    return http_response(status, json.dumps(payload, ensure_ascii=False), **kw)


def accepted(session_no: str = "sn-hostile-1") -> bytes:
    return usms_json({"Action": "SendUSMSMessageResponse", "RetCode": 0, "SessionNo": session_no})


@dataclass
class Conn:
    """One accepted connection, handed to the behaviour."""

    sock: socket.socket
    server: RawServer
    request: RawRequest | None
    index: int  # 0-based number of the request (or of the connection if requests are not read)

    def send(self, data: bytes) -> bool:
        """Write ``data``; False (instead of an exception) when the peer has gone."""
        try:
            self.sock.sendall(data)
        except OSError:
            return False
        with self.server.lock:
            self.server.bytes_sent += len(data)
        return True

    def hang(self, seconds: float) -> None:
        """Do nothing for up to ``seconds``; returns early when the server stops."""
        self.server.stopping.wait(seconds)

    def reset(self) -> None:
        """Close with an RST instead of a FIN (SO_LINGER 0)."""
        import struct

        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.sock.close()


Behaviour = Callable[[Conn], None]


@dataclass
class RawServer:
    """A threaded raw TCP server on 127.0.0.1:0. Use as a context manager."""

    behaviour: Behaviour
    read_request: bool = True
    host: str = "127.0.0.1"
    tls: ssl.SSLContext | None = None
    io_timeout: float = 5.0
    lifetime: float = 30.0
    connections: int = 0
    requests: list[RawRequest] = field(default_factory=list)
    bytes_sent: int = 0
    errors: list[BaseException] = field(default_factory=list)
    handshake_failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)
    _listener: socket.socket | None = None
    _threads: list[threading.Thread] = field(default_factory=list)
    _socks: list[socket.socket] = field(default_factory=list)

    @property
    def port(self) -> int:
        assert self._listener is not None, "server not started"
        return int(self._listener.getsockname()[1])

    @property
    def url(self) -> str:
        scheme = "https" if self.tls is not None else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}/"

    @property
    def count(self) -> int:
        """Complete requests received."""
        with self.lock:
            return len(self.requests)

    def start(self) -> RawServer:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        listener = socket.socket(family, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, 0))
        listener.listen(16)
        listener.settimeout(0.05)
        self._listener = listener
        thread = threading.Thread(target=self._accept_loop, name="raw-accept", daemon=True)
        self._threads.append(thread)
        thread.start()
        return self

    def _accept_loop(self) -> None:
        assert self._listener is not None
        deadline = time.monotonic() + self.lifetime
        while not self.stopping.is_set() and time.monotonic() < deadline:
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                break
            sock.settimeout(self.io_timeout)
            with self.lock:
                self.connections += 1
                self._socks.append(sock)
            worker = threading.Thread(target=self._serve, args=(sock,), daemon=True)
            with self.lock:
                self._threads.append(worker)
            worker.start()

    def _serve(self, sock: socket.socket) -> None:
        if self.tls is not None:
            try:
                sock = self.tls.wrap_socket(sock, server_side=True)
            except (ssl.SSLError, OSError) as exc:
                with self.lock:
                    self.handshake_failures.append(repr(exc))
                sock.close()
                return
            with self.lock:
                self._socks.append(sock)
        try:
            request = read_request(sock) if self.read_request else None
            if self.read_request and request is None:
                return
            with self.lock:
                if request is not None:
                    self.requests.append(request)
                    index = len(self.requests) - 1
                else:
                    index = self.connections - 1
            self.behaviour(Conn(sock, self, request, index))
        except BaseException as exc:  # noqa: BLE001 - kept for the test to inspect
            with self.lock:
                self.errors.append(exc)
        finally:
            try:
                sock.close()
            except OSError:
                pass

    def stop(self) -> None:
        self.stopping.set()
        if self._listener is not None:
            self._listener.close()
        with self.lock:
            socks = list(self._socks)
            threads = list(self._threads)
        for sock in socks:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for thread in threads:
            thread.join(timeout=5.0)

    def __enter__(self) -> RawServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# ---- behaviours shared by several test files -----------------------------------------------


def hang(seconds: float = 15.0) -> Behaviour:
    """Read the request (if the server reads requests), then say nothing for ``seconds``."""

    def behaviour(conn: Conn) -> None:
        conn.hang(seconds)

    return behaviour


def constant(data: bytes) -> Behaviour:
    """Answer every request with the same bytes."""

    def behaviour(conn: Conn) -> None:
        conn.send(data)

    return behaviour


def trickle_head(
    *, every: float = 0.4, for_seconds: float = 8.0, answer: bytes | None = None
) -> Behaviour:
    """The status line at once, then one byte of a header every ``every`` seconds: no single
    socket read ever waits long, yet the head never ends. After ``for_seconds`` the head is
    finished with ``answer`` (an accepted send by default), so that a client without a
    whole-answer deadline ends too, only far too late."""
    final = answer if answer is not None else accepted("sn-trickled")
    status_line, _, rest = final.partition(b"\r\n")

    def behaviour(conn: Conn) -> None:
        if not conn.send(status_line + b"\r\nX-Slow: "):
            return
        deadline = time.monotonic() + for_seconds
        while time.monotonic() < deadline and not conn.server.stopping.is_set():
            if not conn.send(b"a"):
                return
            conn.hang(every)
        conn.send(b"\r\n" + rest)

    return behaviour


def scripted(*answers: bytes) -> Behaviour:
    """The n-th request gets the n-th answer; the last one repeats."""

    def behaviour(conn: Conn) -> None:
        conn.send(answers[min(conn.index, len(answers) - 1)])

    return behaviour


def verifying(public_key: str, private_key: str, session_no: str = "sn-verified") -> Behaviour:
    """Check the Signature like the real API: accept with ``session_no``, or RetCode 171/172."""
    from usms_cli.core.signing import verify

    def behaviour(conn: Conn) -> None:
        form = conn.request.form if conn.request is not None else {}
        if form.get("PublicKey") != public_key:
            conn.send(usms_json({"RetCode": 172, "Message": "user does not exist"}))
        elif not verify(form, private_key):
            conn.send(usms_json({"RetCode": 171, "Message": "Signature VerifyAC Error"}))
        else:
            conn.send(accepted(session_no))

    return behaviour
