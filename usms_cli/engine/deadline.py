"""The transport under the client: one deadline for each whole HTTP attempt, a record of how far
the attempt got, and where plain http may connect.

requests' timeout bounds each socket read, not the answer, so a server or proxy that sends one
byte a second could hold a call for ever. Each attempt therefore runs inside an
:class:`Attempt`. The urllib3 connections built here hand their sockets to the attempt of the
calling thread, and at the deadline a timer shuts those sockets down: that wakes any read
blocked on them, whether in the proxy's CONNECT answer, the TLS handshake, the head or the body.

The same hooks note whether a byte of the request may have been written. A failure before that
(connect, proxy tunnel, TLS handshake) provably sent nothing, so it is "not sent", not
"unknown".

Plain http connections go only to a literal loopback address, to ``localhost`` once it has
been resolved and every address found is loopback (the connection is then made to those very
addresses), or to UCloud's VPC endpoint.
"""

from __future__ import annotations

import functools
import os
import socket
import threading
from collections.abc import Callable
from typing import Any

from usms_cli.core.shapes import VPC_HOST, is_loopback_address
from usms_cli.engine.phrases import Phrase
from usms_cli.i18n import N_

_local = threading.local()


class Attempt:
    """One HTTP attempt on this thread: its deadline, its sockets and how far it got."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.seen = False  # a connection built here served this attempt
        self.proxied = False  # ... through a proxy
        self.written = False  # a byte of the request may have been written
        self.expired = False
        self._over = False
        self._lock = threading.Lock()
        self._socks: list[socket.socket] = []  # duplicates we own, closed when the attempt ends
        self._callbacks: list[Callable[[], None]] = []
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    @property
    def nothing_sent(self) -> bool:
        """True when the request provably never began to be written."""
        return self.seen and not self.written

    def __enter__(self) -> Attempt:
        _local.attempt = self
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        with self._lock:
            self._over = True
            socks, self._socks = self._socks, []
            self._callbacks.clear()
        _local.attempt = None
        for sock in socks:
            sock.close()

    def watch(self, sock: socket.socket) -> None:
        """Shut this connection down at the deadline. A duplicate descriptor is kept: it still
        reaches the connection while TLS takes the original socket over, and it can never
        point at another connection once the original is closed."""
        try:
            fd = os.dup(sock.fileno())
        except OSError:
            return
        try:
            dup = socket.socket(fileno=fd)
        except OSError:
            os.close(fd)
            return
        with self._lock:
            if self._over:
                dup.close()
                return
            self._socks.append(dup)
            late = self.expired
        if late:
            _shut(dup)

    def on_expiry(self, callback: Callable[[], None]) -> None:
        with self._lock:
            if not self._over:
                self._callbacks.append(callback)

    def _expire(self) -> None:
        with self._lock:
            if self._over:
                return
            self.expired = True
            socks = list(self._socks)
            callbacks = list(self._callbacks)
        for sock in socks:
            _shut(sock)
        for callback in callbacks:
            callback()


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass


def _current() -> Attempt | None:
    attempt: Attempt | None = getattr(_local, "attempt", None)
    return attempt


# ---- the hooks, called from the connection classes below ------------------------------------


def _on_request(conn: Any) -> None:
    """A request is about to be written on ``conn`` (a new or a kept-alive connection)."""
    attempt = _current()
    if attempt is None:
        return
    attempt.seen = True
    attempt.proxied = attempt.proxied or conn.proxy is not None
    if conn.sock is not None:
        attempt.watch(conn.sock)


def _on_new_socket(conn: Any, make: Callable[[], socket.socket]) -> socket.socket:
    attempt = _current()
    if attempt is not None:
        attempt.seen = True
        attempt.proxied = attempt.proxied or conn.proxy is not None
    sock = make()
    if attempt is not None:
        attempt.watch(sock)
    return sock


def _on_send(conn: Any) -> None:
    """Called before every write. Writes while connecting (a proxy's CONNECT request) are not
    the request; any other write may put the request on the wire."""
    if conn.sock is None and conn.auto_open:
        conn.connect()  # http.client would do it inside send(); here it counts as connecting
    if not conn.usms_connecting:
        attempt = _current()
        if attempt is not None:
            if attempt.expired:  # connected only after the deadline: do not start writing
                raise TimeoutError(f"no connection within {attempt.seconds:g}s")
            attempt.written = True


def _connecting(conn: Any, connect: Callable[[], None]) -> None:
    conn.usms_connecting = True
    try:
        connect()
    finally:
        conn.usms_connecting = False


def _plain_socket(
    conn: Any, make: Callable[[], socket.socket], refused: type[Any]
) -> socket.socket:
    """The socket of a plain-http connection, only to an allowed destination."""
    host = str(conn._dns_host).strip("[]")  # as given: urllib3's .host drops a trailing dot
    if is_loopback_address(host) or host.lower() == VPC_HOST:
        return make()
    if host.lower() != "localhost":
        why = Phrase(N_("refusing plain http:// to {host}: not a loopback address"), host=host[:40])
        raise refused(conn, why)
    from urllib3.exceptions import ConnectTimeoutError, NameResolutionError

    try:
        found = socket.getaddrinfo(host, conn.port, 0, socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise NameResolutionError(host, conn, exc) from exc
    addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
    remote = [address for address in addresses if not is_loopback_address(address)]
    if remote or not addresses:
        if remote:
            why = Phrase(
                N_(
                    "refusing plain http:// to localhost: it resolves to {address}, "
                    "not a loopback address"
                ),
                address=remote[0][:40],
            )
        else:
            why = Phrase(
                N_(
                    "refusing plain http:// to localhost: it resolves to no address, "
                    "not a loopback address"
                )
            )
        raise refused(conn, why)
    original = conn._dns_host
    last: Exception | None = None
    try:
        for address in addresses:  # connect to exactly the addresses that were checked
            conn._dns_host = address
            try:
                return make()
            except ConnectTimeoutError as exc:  # and its subclass NewConnectionError
                last = exc
    finally:
        conn._dns_host = original
    assert last is not None
    raise last


@functools.cache
def pool_classes() -> dict[str, type[Any]]:
    """urllib3 pool classes whose connections report to the thread's :class:`Attempt`."""
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
    from urllib3.exceptions import NewConnectionError

    class PlainHttpRefused(NewConnectionError):
        """The destination of a plain-http connection is not allowed: nothing was sent."""

        def __init__(self, conn: Any, message: str) -> None:
            super().__init__(conn, message)
            self.usms_refusal = message

    class WatchedHTTPConnection(HTTPConnection):
        usms_connecting = False

        def _new_conn(self) -> socket.socket:
            def make() -> socket.socket:
                return _plain_socket(
                    self, super(WatchedHTTPConnection, self)._new_conn, PlainHttpRefused
                )

            return _on_new_socket(self, make)

        def connect(self) -> None:
            _connecting(self, super().connect)

        def request(self, *args: Any, **kwargs: Any) -> None:
            _on_request(self)
            super().request(*args, **kwargs)

        def send(self, data: Any) -> None:
            _on_send(self)
            super().send(data)

    class WatchedHTTPSConnection(HTTPSConnection):
        usms_connecting = False

        def _new_conn(self) -> socket.socket:
            return _on_new_socket(self, super()._new_conn)

        def connect(self) -> None:
            _connecting(self, super().connect)

        def request(self, *args: Any, **kwargs: Any) -> None:
            _on_request(self)
            super().request(*args, **kwargs)

        def send(self, data: Any) -> None:
            _on_send(self)
            super().send(data)

    class WatchedHTTPPool(HTTPConnectionPool):
        ConnectionCls = WatchedHTTPConnection

    class WatchedHTTPSPool(HTTPSConnectionPool):
        ConnectionCls = WatchedHTTPSConnection

    return {"http": WatchedHTTPPool, "https": WatchedHTTPSPool}


def adapter(pool_size: int) -> Any:
    """A requests adapter (one keep-alive pool, no transport retries) built on the pools above,
    also behind http(s) proxies; SOCKS proxies keep urllib3's own classes."""
    from requests.adapters import HTTPAdapter

    pools = pool_classes()

    class WatchedAdapter(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = pools

        def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
            manager = super().proxy_manager_for(proxy, **kwargs)
            if not proxy.lower().startswith("socks"):
                manager.pool_classes_by_scheme = pools
            return manager

    # max_retries=0: what may be retried is decided by the client, never by the transport.
    return WatchedAdapter(pool_connections=1, pool_maxsize=max(1, pool_size), max_retries=0)
