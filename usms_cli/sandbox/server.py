"""Running sandboxes: :class:`SandboxServer` in a background thread (tests, ``send --sandbox``),
:func:`serve_forever` in the foreground with its banner (``usms sandbox``)."""

from __future__ import annotations

import collections
import shlex
import signal
import sys
import threading
import time
from types import FrameType, TracebackType
from typing import Any, TextIO

from usms_cli.i18n import tr
from usms_cli.sandbox import pushes
from usms_cli.sandbox.backend import Backend
from usms_cli.sandbox.config import (
    DEFAULT_PORT,
    DEFAULT_SIGNATURE,
    DEFAULT_TEMPLATE_ID,
    SandboxConfig,
    check_config,
    check_loopback,
)
from usms_cli.sandbox.http import SandboxHTTPServer


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


class SandboxServer:
    """A running sandbox; serves in a daemon thread until :meth:`close`."""

    def __init__(
        self, config: SandboxConfig | None = None, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        check_loopback(host)
        self.config = config if config is not None else SandboxConfig()
        check_config(self.config)
        self._backend = Backend(self.config)
        self.messages: list[dict[str, Any]] = self._backend.messages
        self.request_counts: collections.Counter[str] = self._backend.request_counts
        self._httpd = SandboxHTTPServer((host, port), self._backend)
        bound_host, bound_port = self._httpd.server_address[:2]
        self.host = str(bound_host)
        self.port = int(bound_port)
        self.base_url = f"http://{_url_host(self.host)}:{self.port}"
        self._closed = False
        self._close_lock = threading.Lock()
        self._thread = threading.Thread(
            target=self._httpd.serve_until_stopped,
            name=f"usms-sandbox-{self.port}",
            daemon=True,
        )
        self._thread.start()

    def close(self) -> None:
        """Stop serving, drop open connections and join the thread; safe to call twice."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        self._httpd.stop()
        self._thread.join()
        pushes.close(self._backend)
        self._httpd.server_close()
        self._httpd.close_connections()

    def __enter__(self) -> SandboxServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "serving"
        return f"<SandboxServer {self.base_url} {state}, {len(self.messages)} messages>"


def start_sandbox(
    config: SandboxConfig | None = None, host: str = "127.0.0.1", port: int = 0
) -> SandboxServer:
    """Start a sandbox in a background thread; it is listening when this returns.

    ``port=0`` picks a free port (see ``server.base_url``). Raises ``ValueError`` for a
    non-loopback host or an invalid config, ``OSError`` when the port cannot be bound.
    """
    return SandboxServer(config, host, port)


class _Terminate(Exception):
    """Raised by the SIGTERM handler to leave the wait loop of serve_forever."""


def _raise_terminate(signum: int, frame: FrameType | None) -> None:
    raise _Terminate


def _banner(server: SandboxServer) -> list[str]:
    config = server.config
    exports = [
        ("UCLOUD_API_BASE_URL", server.base_url),
        ("UCLOUD_PUBLIC_KEY", config.public_key),
        ("UCLOUD_PRIVATE_KEY", config.private_key),
        ("UCLOUD_PROJECT_ID", config.project_id),
        ("USMS_TEMPLATE_ID", DEFAULT_TEMPLATE_ID),
        ("USMS_SIG_CONTENT", DEFAULT_SIGNATURE),
    ]
    lines = [
        "# " + tr("USMS sandbox listening on {url} (Ctrl-C to stop)", url=server.base_url),
        "# "
        + tr(
            "{templates} template(s), {signatures} signature(s); receipts after {delay:g} s",
            templates=len(config.templates),
            signatures=len(config.signatures),
            delay=config.receipt_delay,
        ),
        "# " + tr("Point usms at it:"),
    ]
    if config.push_to:
        lines.insert(2, f"# receipts are pushed to {config.push_to}; usms sandbox reply N TEXT")
    if config.pull_enabled:
        lines.insert(2, "# PullUSMSReport is enabled (usms receipt --pull)")
    lines.extend(f"export {name}={shlex.quote(value)}" for name, value in exports)
    return lines


def serve_forever(
    config: SandboxConfig | None = None,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    out: TextIO | None = None,
) -> int:
    """Run a sandbox in the foreground (``usms sandbox``) until Ctrl-C or SIGTERM; return 0.

    The banner (base URL, then ``export`` lines for the shell, other lines commented with
    ``#``) goes to ``out`` (default stdout). Raises like :func:`start_sandbox` before serving.
    """
    stream = out if out is not None else sys.stdout
    server = start_sandbox(config, host, port)
    previous: Any = None
    in_main_thread = threading.current_thread() is threading.main_thread()
    try:
        if in_main_thread:
            previous = signal.signal(signal.SIGTERM, _raise_terminate)
        for line in _banner(server):
            print(line, file=stream)
        stream.flush()
        while True:
            time.sleep(3600)
    except (KeyboardInterrupt, _Terminate):
        pass
    finally:
        server.close()
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)
    try:
        stopped = tr(
            "USMS sandbox stopped ({count} message(s) accepted)", count=len(server.messages)
        )
        print("# " + stopped, file=stream)
        stream.flush()
    except (OSError, ValueError):
        pass
    return 0
