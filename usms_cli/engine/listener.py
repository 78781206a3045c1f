"""The HTTP side of ``usms listen``: a small asyncio HTTP/1.1 server taking POSTs on one path.

It owns the wire only: request heads, bodies (Content-Length or chunked), limits, timeouts,
keep-alive and a graceful stop. What a body means is the handler's business.

Safety against floods and slow clients: one event loop holds every connection (no thread per
client), at most ``max_connections`` are open at once (the rest are closed at once), a request
must arrive whole within ``request_timeout`` seconds of its first byte being awaited, an idle
keep-alive connection is closed after ``idle_timeout``, heads are capped at ``max_head`` bytes
and bodies at ``max_body``. Wrong paths get 404, other methods 405, oversized bodies 413,
malformed requests 400; such requests never reach the handler.
"""

from __future__ import annotations

import asyncio
import hmac
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from usms_cli.core.pushes import MAX_PUSH_BYTES
from usms_cli.i18n import tr


@dataclass(frozen=True)
class Reply:
    """What to answer: an HTTP status and a JSON object."""

    status: int
    payload: Mapping[str, Any]


Handler = Callable[[bytes], Awaitable[Reply]]


@dataclass(frozen=True)
class Limits:
    max_body: int = MAX_PUSH_BYTES
    max_head: int = 16 * 1024
    max_connections: int = 256
    request_timeout: float = 10.0
    idle_timeout: float = 15.0
    backlog: int = 512


class BadRequest(Exception):
    """A request that is refused before the handler sees it."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = dict(headers or {})


@dataclass
class _Head:
    method: str
    target: str
    version: str
    headers: dict[str, str]


def error_payload(status: int, message: str) -> dict[str, Any]:
    """The answer body for a refusal: a non-zero ``code`` (UCloud retries on any such answer)."""
    return {"code": status, "message": message}


class PushServer:
    """Serve ``handler`` for POSTs to ``path`` on ``host:port`` until :meth:`stop`."""

    def __init__(
        self,
        handler: Handler,
        *,
        host: str,
        port: int,
        path: str,
        limits: Limits | None = None,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.handler = handler
        self.host = host
        self.port = port
        self.path = path
        self.limits = limits or Limits()
        self.log = log or (lambda message: None)
        self.refused = 0  # requests answered with an error before the handler
        self._server: asyncio.Server | None = None
        self._connections: dict[asyncio.Task[Any], str] = {}  # task -> "wait" | "busy"
        self._stopping = False

    async def start(self) -> None:
        """Bind and listen; ``self.port`` is the bound port afterwards (useful with port 0)."""
        self._server = await asyncio.start_server(
            self._connection,
            self.host,
            self.port,
            limit=self.limits.max_head,
            backlog=self.limits.backlog,
            reuse_address=True,
        )
        self.port = int(self._server.sockets[0].getsockname()[1])

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}{self.path}"

    async def stop(self, grace: float) -> int:
        """Stop accepting, let requests being handled finish (up to ``grace`` seconds), drop
        connections that are idle or still sending; return how many were cut short."""
        self._stopping = True
        if self._server is not None:
            self._server.close()
        for task, state in list(self._connections.items()):
            if state != "busy":
                task.cancel()
        busy = [task for task, state in self._connections.items() if state == "busy"]
        cut = 0
        if busy:
            _, pending = await asyncio.wait(busy, timeout=grace)
            for task in pending:
                task.cancel()
            cut = len(pending)
        remaining = list(self._connections)
        if remaining:
            await asyncio.wait(remaining, timeout=1.0)
        return cut

    # -- one connection ----------------------------------------------------------------------
    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if self._stopping or task is None or len(self._connections) >= self.limits.max_connections:
            writer.transport.abort()
            return
        self._connections[task] = "wait"
        try:
            first = True
            while not self._stopping:
                keep_alive = await self._one_request(reader, writer, task, first=first)
                first = False
                if not keep_alive:
                    break
        except (ConnectionError, TimeoutError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            pass
        finally:
            self._connections.pop(task, None)
            writer.close()

    async def _one_request(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        task: asyncio.Task[Any],
        *,
        first: bool,
    ) -> bool:
        """Read, handle and answer one request; return whether to keep the connection."""
        self._connections[task] = "wait"
        limits = self.limits
        wait = limits.request_timeout if first else limits.idle_timeout
        try:
            async with asyncio.timeout(wait):
                head_bytes = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError as exc:
            if exc.partial.strip():
                await self._refuse(reader, writer, BadRequest(400, "incomplete request"))
            return False
        except asyncio.LimitOverrunError:
            await self._refuse(reader, writer, BadRequest(431, "request head too large"))
            return False
        try:
            head = _parse_head(head_bytes)
            self._check(head)
            if head.headers.get("expect", "").lower() == "100-continue":
                writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            async with asyncio.timeout(limits.request_timeout):
                body = await self._read_body(reader, head)
        except BadRequest as exc:
            await self._refuse(reader, writer, exc)
            return False
        self._connections[task] = "busy"
        try:
            reply = await self.handler(body)
        except Exception as exc:  # a bug in the handler: answer 500, keep serving
            self.log(tr("internal error while handling a push ({kind})", kind=type(exc).__name__))
            reply = Reply(500, error_payload(500, "internal error"))
        keep = _keep_alive(head) and not self._stopping and reply.status < 400
        await self._send(writer, reply.status, reply.payload, keep_alive=keep)
        return keep

    def _check(self, head: _Head) -> None:
        path = head.target.split("?", 1)[0]
        if not hmac.compare_digest(path.encode("latin-1"), self.path.encode("latin-1")):
            raise BadRequest(404, "not found")
        if head.method != "POST":
            raise BadRequest(405, "use POST", {"Allow": "POST"})

    async def _read_body(self, reader: asyncio.StreamReader, head: _Head) -> bytes:
        headers = head.headers
        encoding = headers.get("transfer-encoding")
        if encoding is not None:
            if "content-length" in headers:
                raise BadRequest(400, "both Content-Length and Transfer-Encoding")
            if encoding.strip().lower() != "chunked":
                raise BadRequest(400, "unsupported Transfer-Encoding")
            return await self._read_chunked(reader)
        length_text = headers.get("content-length")
        if length_text is None:
            raise BadRequest(411, "Content-Length required")
        if not length_text.strip().isascii() or not length_text.strip().isdigit():
            raise BadRequest(400, "bad Content-Length")
        length = int(length_text)
        if length > self.limits.max_body:
            raise BadRequest(413, f"body over {self.limits.max_body} bytes")
        return await reader.readexactly(length)

    async def _read_chunked(self, reader: asyncio.StreamReader) -> bytes:
        parts: list[bytes] = []
        total = 0
        while True:
            try:
                size_line = await reader.readuntil(b"\r\n")
            except asyncio.LimitOverrunError:
                raise BadRequest(400, "bad chunk") from None
            size_text = size_line.split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise BadRequest(400, "bad chunk size") from None
            if size < 0 or total + size > self.limits.max_body:
                raise BadRequest(413, f"body over {self.limits.max_body} bytes")
            if size == 0:
                break
            parts.append(await reader.readexactly(size))
            total += size
            if await reader.readexactly(2) != b"\r\n":
                raise BadRequest(400, "bad chunk")
        while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers, ignored
            pass
        return b"".join(parts)

    async def _refuse(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, error: BadRequest
    ) -> None:
        """Answer an error and close gently: the client may still be sending a body we did not
        read, and closing with unread data would reset the connection before it reads ours."""
        self.refused += 1
        await self._send(
            writer,
            error.status,
            error_payload(error.status, error.message),
            keep_alive=False,
            headers=error.headers,
        )
        if writer.can_write_eof():
            writer.write_eof()
        try:
            async with asyncio.timeout(1.0):
                drained = 0
                while drained < 4 * self.limits.max_body:
                    chunk = await reader.read(65536)
                    if not chunk:
                        break
                    drained += len(chunk)
        except (TimeoutError, ConnectionError):
            pass

    async def _send(
        self,
        writer: asyncio.StreamWriter,
        status: int,
        payload: Mapping[str, Any],
        *,
        keep_alive: bool,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        # Compact, exactly as UCloud's docs spell the answer: {"code":0,"message":"ok"}
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        lines = [
            f"HTTP/1.1 {status} {_phrase(status)}",
            "Content-Type: application/json; charset=utf-8",
            f"Content-Length: {len(body)}",
            "Connection: " + ("keep-alive" if keep_alive else "close"),
            *(f"{name}: {value}" for name, value in (headers or {}).items()),
        ]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        async with asyncio.timeout(self.limits.request_timeout):
            await writer.drain()


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _parse_head(data: bytes) -> _Head:
    """Request line and headers (names lower-cased); raises BadRequest(400) when malformed."""
    try:
        text = data.decode("latin-1")
        request_line, *header_lines = text[:-4].split("\r\n")
        method, target, version = request_line.split(" ")
    except ValueError:
        raise BadRequest(400, "malformed request line") from None
    if not version.startswith("HTTP/1.") or not target.startswith("/") or not method.isalpha():
        raise BadRequest(400, "malformed request line")
    headers: dict[str, str] = {}
    for line in header_lines:
        name, sep, value = line.partition(":")
        name = name.lower()
        if not sep or not name or name != name.strip() or " " in name:
            raise BadRequest(400, "malformed header")
        value = value.strip()
        if name in headers and name in ("content-length", "transfer-encoding", "host"):
            if headers[name] != value:
                raise BadRequest(400, f"conflicting {name} headers")
        headers[name] = value
    return _Head(method, target, version, headers)


def _keep_alive(head: _Head) -> bool:
    connection = head.headers.get("connection", "").lower()
    if head.version == "HTTP/1.0":
        return "keep-alive" in connection
    return "close" not in connection
