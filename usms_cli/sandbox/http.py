"""The sandbox's HTTP/1.1 side, hardened against broken and hostile clients: framing
(Content-Length, chunked, oversized and truncated bodies), form and JSON parameter decoding,
JSON answers, and a threading server that stops at once and drops its open connections."""

from __future__ import annotations

import json
import re
import selectors
import socket
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import TCPServer
from typing import Any
from urllib.parse import unquote_to_bytes, urlsplit

from usms_cli.core import signing
from usms_cli.sandbox import pushes
from usms_cli.sandbox.backend import Backend, reply_for

MAX_BODY_BYTES = 1024 * 1024
"""Largest request body accepted; larger ones get HTTP 413."""

# Oversized bodies up to this size are read and thrown away so that the client gets to read
# the 413 answer (closing a socket with unread data makes the kernel reset the connection).
# Anything larger is answered at once and the connection closed.
_DISCARD_LIMIT = 16 * 1024 * 1024
_READ_CHUNK = 64 * 1024
_SOCKET_TIMEOUT = 60.0

_BAD_PERCENT = re.compile(rb"%(?![0-9A-Fa-f]{2})")
_PLAIN_COMPONENT = re.compile(rb"[A-Za-z0-9._~-]*")


# --------------------------------------------------------------------------------------------
# Request parsing


class _Malformed(Exception):
    """The request body or query string cannot be decoded (RetCode 18000)."""


class _BadFraming(Exception):
    """The HTTP framing is broken (bad Content-Length or chunk): answer 400 and close."""


class _ClientGone(Exception):
    """The client went away in the middle of a request: close without answering."""


class _TooLarge(Exception):
    """The body is over MAX_BODY_BYTES: answer 413 and close."""


def _decode_component(raw: bytes) -> str:
    if raw.isalnum() or _PLAIN_COMPONENT.fullmatch(raw):  # nothing to unquote: the hot path
        return raw.decode("ascii")
    raw = raw.replace(b"+", b" ")
    if _BAD_PERCENT.search(raw):
        raise _Malformed("invalid percent-encoding")
    try:
        return unquote_to_bytes(raw).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Malformed("parameter is not valid UTF-8") from exc


def _parse_form(raw: bytes) -> dict[str, str]:
    if raw.isascii():  # the usual body: decode once, unquote only what needs it
        text = raw.decode("ascii")
        fast: dict[str, str] = {}
        for item in text.split("&"):
            if not item:
                continue
            name, _, text_value = item.partition("=")
            if "%" in name or "+" in name:
                name = _decode_component(name.encode("ascii"))
            if "%" in text_value or "+" in text_value:
                text_value = _decode_component(text_value.encode("ascii"))
            fast[name] = text_value
        return fast
    params: dict[str, str] = {}
    for pair in raw.split(b"&"):
        if not pair:
            continue
        key, _, value = pair.partition(b"=")
        params[_decode_component(key)] = _decode_component(value)
    return params


def _parse_json(raw: bytes) -> dict[str, str]:
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise _Malformed(f"invalid JSON body ({type(exc).__name__})") from exc
    if not isinstance(document, dict):
        raise _Malformed("the JSON body must be an object")
    try:
        return signing.flatten(document)
    except RecursionError as exc:
        raise _Malformed("the JSON body is nested too deeply") from exc


# --------------------------------------------------------------------------------------------
# The server


class SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    timeout = 0.0  # for handle_request(), called only when the socket is readable
    request_queue_size = 128  # socketserver's 5 makes parallel clients wait for SYN retries

    def __init__(self, address: tuple[str, int], backend: Backend) -> None:
        self.backend = backend
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self._stopping = False
        self._wake_reader, self._wake_writer = socket.socketpair()
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # http.server.HTTPServer.server_bind would call socket.getfqdn(), which can stall on DNS.
        TCPServer.server_bind(self)
        self.server_name = str(self.server_address[0])
        self.server_port = int(self.server_address[1])

    def process_request(
        self, request: socket.socket | tuple[bytes, socket.socket], client_address: Any
    ) -> None:
        if isinstance(request, socket.socket):
            with self._connections_lock:
                self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: socket.socket | tuple[bytes, socket.socket]) -> None:
        if isinstance(request, socket.socket):
            with self._connections_lock:
                self._connections.discard(request)
        super().shutdown_request(request)

    def serve_until_stopped(self) -> None:
        """Like serve_forever, but woken at once by :meth:`stop` instead of polling."""
        with selectors.DefaultSelector() as selector:
            selector.register(self, selectors.EVENT_READ)
            selector.register(self._wake_reader, selectors.EVENT_READ)
            while not self._stopping:
                for key, _ in selector.select():
                    if key.fileobj is self._wake_reader:
                        return
                    self.handle_request()  # ready: with timeout 0 it never blocks
                self.service_actions()

    def stop(self) -> None:
        self._stopping = True
        try:
            self._wake_writer.send(b"x")
        except OSError:
            pass

    def server_close(self) -> None:
        super().server_close()
        self._wake_reader.close()
        self._wake_writer.close()

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], OSError):
            return  # the client went away: nothing worth a traceback
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "usms-sandbox"
    sys_version = ""
    timeout = _SOCKET_TIMEOUT
    # Headers and body are two writes; without TCP_NODELAY the body waits for the client's
    # delayed ACK (~40 ms per request on a keep-alive connection).
    disable_nagle_algorithm = True

    @property
    def _backend(self) -> Backend:
        server = self.server
        assert isinstance(server, SandboxHTTPServer)
        return server.backend

    def log_message(self, format: str, *args: Any) -> None:
        """Access logs are silenced."""

    def version_string(self) -> str:
        return self.server_version

    # -- answers

    def _send_json(self, status: int, payload: Mapping[str, Any], *, close: bool = False) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        latency = self._backend.config.latency_ms
        if latency > 0:
            time.sleep(latency / 1000)
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-UCLOUD-REQUEST-UUID", str(uuid.uuid4()))
        if close:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()

    def _action_hint(self) -> str:
        """The Action from the query string, if it can be read (for error answers)."""
        try:
            return _parse_form(urlsplit(self.path).query.encode("latin-1")).get("Action", "")
        except (_Malformed, UnicodeEncodeError, ValueError, AttributeError):
            return ""

    def _send_error_json(self, status: int, code: int, message: str) -> None:
        action = self._action_hint()
        self._backend.count(action)
        payload = reply_for(action)(code, message)
        self._send_json(status, payload, close=True)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Errors found by http.server itself (bad request line, unknown method…) as JSON."""
        self.close_connection = True
        if getattr(self, "request_version", "HTTP/0.9") == "HTTP/0.9":
            self.request_version = self.protocol_version  # always write a status line
        if code == 501:  # an HTTP method http.server has no do_* for
            self._method_not_allowed()
            return
        self._backend.count("")
        answer = reply_for("")(18000, f"Bad request: {message or 'unreadable request'}")
        try:
            self._send_json(code, answer, close=True)
        except OSError:
            pass

    def handle_expect_100(self) -> bool:
        try:
            length = self._content_length()
        except _BadFraming:
            length = None  # do_POST answers it
        if length is not None and length > MAX_BODY_BYTES:
            self._send_error_json(413, 18002, self._too_large_message())
            return False
        return super().handle_expect_100()

    # -- body

    def _content_length(self) -> int | None:
        raw = self.headers.get("Content-Length")
        if raw is None:
            return None
        raw = raw.strip()
        if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
            raise _BadFraming(f"invalid Content-Length {raw!r}")
        return int(raw)

    def _read_exact(self, size: int) -> bytes:
        data = self.rfile.read(size)
        if len(data) != size:
            raise _ClientGone
        return data

    def _discard(self, size: int) -> None:
        while size > 0:
            chunk = self.rfile.read(min(size, _READ_CHUNK))
            if not chunk:
                raise _ClientGone
            size -= len(chunk)

    def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024)
            if not line:
                raise _ClientGone
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError as exc:
                raise _BadFraming("invalid chunk size") from exc
            if size < 0:
                raise _BadFraming("invalid chunk size")
            if size == 0:
                while self.rfile.readline(8192) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                break
            total += size
            if total > _DISCARD_LIMIT:
                raise _TooLarge
            data = self._read_exact(size)
            self.rfile.readline(8)  # the CRLF after the chunk
            if total <= MAX_BODY_BYTES:
                parts.append(data)
        if total > MAX_BODY_BYTES:
            raise _TooLarge
        return b"".join(parts)

    def _read_body(self) -> bytes:
        encoding = self.headers.get("Transfer-Encoding", "").strip().lower()
        if encoding and encoding != "identity":
            if encoding.endswith("chunked"):
                return self._read_chunked()
            raise _BadFraming(f"unsupported Transfer-Encoding {encoding!r}")
        length = self._content_length()
        if not length:
            return b""
        if length > MAX_BODY_BYTES:
            if length <= _DISCARD_LIMIT:
                self._discard(length)
                raise _TooLarge
            raise _TooLarge
        return self._read_exact(length)

    def _drain_for_error(self) -> None:
        """Read a body we will not use, so the error answer reaches the client."""
        try:
            self._read_body()
        except (_BadFraming, _TooLarge, ValueError):
            pass

    def _too_large_message(self) -> str:
        return f"Request body too large (limit {MAX_BODY_BYTES} bytes)"

    # -- methods

    def _method_not_allowed(self) -> None:
        try:
            self._drain_for_error()
        except (_ClientGone, OSError):
            self.close_connection = True
            return
        message = f"HTTP method {self.command} not allowed: use POST or GET"
        self._send_error_json(405, 18002, message)

    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        self._serve_api()

    def do_POST(self) -> None:  # noqa: N802
        self._serve_api()

    def do_PUT(self) -> None:  # noqa: N802
        self._method_not_allowed()

    def do_DELETE(self) -> None:  # noqa: N802
        self._method_not_allowed()

    def do_PATCH(self) -> None:  # noqa: N802
        self._method_not_allowed()

    def do_OPTIONS(self) -> None:  # noqa: N802
        self._method_not_allowed()

    def do_HEAD(self) -> None:  # noqa: N802
        self._method_not_allowed()

    def do_TRACE(self) -> None:  # noqa: N802
        self._method_not_allowed()

    def do_CONNECT(self) -> None:  # noqa: N802
        self._method_not_allowed()

    def _serve_api(self) -> None:
        try:
            body = self._read_body()
        except _ClientGone:
            self.close_connection = True
            return
        except _BadFraming as exc:
            self._send_error_json(400, 18000, f"Bad request: {exc}")
            return
        except _TooLarge:
            self._send_error_json(413, 18002, self._too_large_message())
            return

        if urlsplit(self.path).path == pushes.CONTROL_REPLY and self.command == "POST":
            self._send_json(*pushes.control_reply(self._backend, body))
            return
        try:
            # http.server decoded the request line as latin-1: encoding gives the raw bytes.
            params = _parse_form(urlsplit(self.path).query.encode("latin-1"))
            if body:
                if self.headers.get_content_type().endswith("json"):
                    params.update(_parse_json(body))
                else:
                    params.update(_parse_form(body))
        except _Malformed as exc:
            action = self._action_hint()
            self._backend.count(action)
            answer = reply_for(action)(18000, f"Request parse error: {exc}")
            self._send_json(200, answer)
            return

        try:
            answer = self._backend.handle(params)
        except Exception:  # a bug in the sandbox, not the client's fault: say so, keep serving
            traceback.print_exc()
            answer = reply_for(params.get("Action", ""))(
                150, "Sandbox internal error (traceback on the sandbox's stderr)"
            )
            self._send_json(500, answer, close=True)
            return
        self._send_json(200, answer)

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except (_ClientGone, ConnectionError, TimeoutError):
            self.close_connection = True
