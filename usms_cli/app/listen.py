"""The ``usms listen`` use case: receive UCloud's pushes, record each event once, pass it on.

A push is answered ``{"code":0,"message":"ok"}`` only once its events are in ``--out`` (written
and synced); a push that cannot be recorded gets HTTP 500 and a non-zero code, so UCloud sends
it again. Each new event is then, away from the answer path and in order: shown (masked) or
printed as JSON on stdout, handed to the ``on_event`` hooks, run through ``--exec`` and POSTed
to ``--forward-to``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import re
import secrets
import signal
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from usms_cli.core.errors import ConfigError, ExitCode, InputError
from usms_cli.core.pushes import (
    DEFAULT_OPT_OUT,
    PushEvent,
    PushRejected,
    describe,
    opt_out_words,
    parse_push,
)
from usms_cli.engine.eventlog import REMEMBER, EventLog
from usms_cli.engine.listener import Limits, PushServer, Reply, error_payload
from usms_cli.engine.relay import Forwarder, Worker, run_command
from usms_cli.i18n import tr, tr_n
from usms_cli.output.console import Output

DEFAULT_PORT = 8041
DEFAULT_PATH = "/usms"
OK = {"code": 0, "message": "ok"}

EventHook = Callable[[PushEvent], None]
"""Called once per new event, in order, in a background thread, after it is in ``--out``.
An exception is logged and does not change the answer to UCloud (the lead's history and
suppression list plug in here)."""

_PATH = re.compile(r"/[A-Za-z0-9._~!$&'()*+,;=:@%/-]{0,255}")


@dataclass
class ListenConfig:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    path: str = DEFAULT_PATH
    out: Path = field(default_factory=lambda: Path("events.jsonl"))
    public: bool = False
    exec_command: str | None = None
    exec_timeout: float = 10.0  # also the timeout of each --forward-to POST
    forward_to: str | None = None
    opt_out_words: Sequence[str] | None = None  # None: DEFAULT_OPT_OUT_WORDS
    attempts: int = 3  # --exec / --forward-to tries per event
    backoff: float = 1.0  # seconds before the 2nd try, doubled each time
    grace: float = 10.0  # seconds to finish requests in hand when stopping
    remember: int = REMEMBER
    limits: Limits = field(default_factory=Limits)
    notes: Sequence[str] = ()  # more lines for the banner (where the hooks write)


def random_path() -> str:
    """A path nobody can guess (192 random bits), to use as a shared secret with UCloud."""
    return "/usms-" + secrets.token_urlsafe(24)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_config(config: ListenConfig, output: Output) -> None:
    """Refuse bad options before anything is opened (exit 2); warn about risky ones."""
    if not _is_loopback(config.host) and not config.public:
        raise InputError(
            tr("--host {host} would accept pushes from other machines", host=config.host),
            hint=tr(
                "pushes carry no signature: add --public to mean it, with a long random "
                "--path (usms listen --random-path) and TLS in front if you can"
            ),
        )
    if not _PATH.fullmatch(config.path):
        raise InputError(
            tr(
                "--path {path!r}: start it with / and use only URL path characters",
                path=config.path,
            ),
            hint=tr("usms listen --random-path prints a good one"),
        )
    if not 0 < config.exec_timeout <= 3600:
        raise InputError(tr("--exec-timeout must be between 0 and 3600 seconds"))
    if config.exec_command is not None and not config.exec_command.strip():
        raise InputError(tr("--exec needs a command"))
    if config.forward_to is not None:
        parts = urlsplit(config.forward_to)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InputError(
                tr("--forward-to {url!r}: give an http(s):// URL", url=config.forward_to)
            )
        if parts.scheme == "http" and not _is_loopback(parts.hostname):
            output.warn(
                tr(
                    "--forward-to uses plain http: phone numbers and replies cross the network "
                    "unencrypted"
                )
            )


class Listener:
    """One ``usms listen`` service: the event log, the HTTP server and the workers."""

    def __init__(
        self, config: ListenConfig, output: Output, on_event: Sequence[EventHook] = ()
    ) -> None:
        self.config = config
        self.output = output
        self.on_event = list(on_event)
        words = config.opt_out_words
        self.opt_out = DEFAULT_OPT_OUT if words is None else opt_out_words(words)
        self.log = EventLog(config.out, remember=config.remember)
        self.server = PushServer(
            self._handle,
            host=config.host,
            port=config.port,
            path=config.path,
            limits=config.limits,
            log=self._warn,
        )
        self.recorded = 0
        self.repeats = 0
        self.rejected = 0
        self.write_failures = 0
        self.loaded = 0  # keys found in --out at start-up
        self._log_lock = threading.Lock()
        self._last_warning: dict[str, float] = {}
        self._display: Worker[tuple[PushEvent, bytes]] = Worker(
            "output", self._show, log=self._warn, describe=lambda item: _name(item[0])
        )
        self._exec: Worker[tuple[PushEvent, bytes]] | None = None
        self._forward: Worker[tuple[PushEvent, bytes]] | None = None
        self._forwarder: Forwarder | None = None
        if config.exec_command:
            self._exec = Worker(
                "--exec",
                self._run_exec,
                log=self._warn,
                describe=lambda item: _name(item[0]),
                attempts=config.attempts,
                backoff=config.backoff,
            )
        if config.forward_to:
            self._forwarder = Forwarder(config.forward_to, timeout=config.exec_timeout)
            forwarder = self._forwarder
            self._forward = Worker(
                "--forward-to",
                lambda item: forwarder((item[0].key, item[1])),
                log=self._warn,
                describe=lambda item: _name(item[0]),
                attempts=config.attempts,
                backoff=config.backoff,
            )

    # -- lifecycle ---------------------------------------------------------------------------
    def open(self) -> None:
        """Open ``--out`` and start the workers; ConfigError (exit 2) if it cannot be written."""
        out = self.config.out
        try:
            loaded = self.log.open()
        except OSError as exc:
            raise ConfigError(
                tr("cannot write --out {path}: {problem}", path=out, problem=exc.strerror or exc),
                hint=tr("pick a file in a directory you can write to"),
            ) from None
        if self.log.mode is not None and self.log.mode & 0o077:
            self._warn(
                tr(
                    "{path} can be read by other users (mode {mode:o}) and holds phone "
                    "numbers: chmod 600 {path}",
                    path=out,
                    mode=self.log.mode,
                )
            )
        if self.log.repaired:
            self._warn(
                tr(
                    "{path} ended in a cut line (an earlier crash?); new events start below it",
                    path=out,
                )
            )
        self.loaded = loaded
        for worker in (self._display, self._exec, self._forward):
            if worker is not None:
                worker.start()

    async def serve(self, stop: asyncio.Event, ready: Callable[[], None] | None = None) -> None:
        """Listen until ``stop`` is set, then finish the requests in hand."""
        try:
            await self.server.start()
        except OSError as exc:
            raise ConfigError(
                tr(
                    "cannot listen on {host}:{port} ({problem})",
                    host=self.config.host,
                    port=self.config.port,
                    problem=exc.strerror or exc,
                ),
                hint=tr("pick another --port, or --port 0 for a free one"),
            ) from None
        self._banner()
        if ready is not None:
            ready()
        await stop.wait()
        cut = await self.server.stop(self.config.grace)
        if cut:
            self._warn(
                tr_n(
                    "{n:,} push still being written when time ran out",
                    "{n:,} pushes still being written when time ran out",
                    cut,
                    n=cut,
                )
            )

    def close(self) -> None:
        """Close ``--out``, let the workers finish what is queued (--exec and --forward-to for
        up to ``grace`` seconds, then only the event in hand) and print the summary."""
        self.log.close()
        for worker in (self._exec, self._forward):
            if worker is not None:
                left = worker.stop(self.config.grace, self.config.exec_timeout + 1)
                if left:
                    self._warn(
                        tr_n(
                            "{worker} did not run for {n:,} event (they are in {path})",
                            "{worker} did not run for {n:,} events (they are in {path})",
                            left,
                            worker=worker.name,
                            n=left,
                            path=self.config.out,
                        )
                    )
        self._display.stop(30.0, 1.0)
        if self._forwarder is not None:
            self._forwarder.close()
        self._say(self.summary())

    def _banner(self) -> None:
        config = self.config
        shown = config.path if len(config.path) <= 12 else config.path[:10] + "…"
        url = self.server.url.replace(config.path, shown) if shown != config.path else None
        self._say(tr("usms listen: receiving UCloud pushes at {url}", url=url or self.server.url))
        if self.loaded:
            self._say(
                tr_n(
                    "  events are appended to {path} ({n:,} earlier event remembered)",
                    "  events are appended to {path} ({n:,} earlier events remembered)",
                    self.loaded,
                    path=config.out,
                    n=self.loaded,
                )
            )
        else:
            self._say(tr("  events are appended to {path}", path=config.out))
        for note in config.notes:
            self._say(note)
        if not _is_loopback(config.host):
            self._warn(
                tr(
                    "listening on {host}: pushes are not authenticated; anyone who can "
                    "reach this port and knows the path can add events",
                    host=config.host,
                )
            )
        self._say(tr("  Ctrl-C or SIGTERM stops it."))

    def summary(self) -> str:
        n = self.recorded
        text = tr_n(
            "usms listen: stopped; {n:,} event recorded",
            "usms listen: stopped; {n:,} events recorded",
            n,
            n=n,
        )
        extras = []
        if self.repeats:
            n = self.repeats
            extras.append(tr_n("{n:,} repeat ignored", "{n:,} repeats ignored", n, n=n))
        refused = self.rejected + self.server.refused
        if refused:
            extras.append(
                tr_n("{n:,} request refused", "{n:,} requests refused", refused, n=refused)
            )
        if self.write_failures:
            n = self.write_failures
            extras.append(tr_n("{n:,} write failed", "{n:,} writes failed", n, n=n))
        if extras:
            return tr("{summary} ({extras}).", summary=text, extras=tr(", ").join(extras))
        return tr("{summary}.", summary=text)

    # -- one push (event loop) ---------------------------------------------------------------
    async def _handle(self, body: bytes) -> Reply:
        try:
            events = parse_push(body, self.opt_out)
        except PushRejected as exc:
            self.rejected += 1
            self._warn(tr("refused a push: {problem}", problem=exc), throttle="rejected")
            return Reply(400, error_payload(400, str(exc)))
        stamp = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        lines = [_line(stamp, event) for event in events]
        try:
            entries = [(e.key, line) for e, line in zip(events, lines, strict=True)]
            fresh = await self.log.record(entries)
        except OSError as exc:
            self.write_failures += 1
            self._warn(
                tr(
                    "could not write {path} ({problem}); answered 500 so UCloud sends it again",
                    path=self.config.out,
                    problem=exc.strerror or exc,
                ),
                throttle="write",
            )
            return Reply(500, error_payload(500, "could not record the event"))
        for event, line, new in zip(events, lines, fresh, strict=True):
            if not new:
                self.repeats += 1
                continue
            self.recorded += 1
            self._display.submit((event, line))
            if self._exec is not None:
                self._exec.submit((event, line))
            if self._forward is not None:
                self._forward.submit((event, line))
        return Reply(200, OK)

    # -- workers -----------------------------------------------------------------------------
    def _show(self, item: tuple[PushEvent, bytes]) -> None:
        event, line = item
        output = self.output
        if output.json_mode:
            output.out.write(line.decode())
        elif not output.quiet:
            output.out.line(output.safe(describe(event, output.masker)))
        for hook in self.on_event:
            try:
                hook(event)
            except Exception as exc:
                name = getattr(hook, "__name__", hook)
                self._warn(tr("event hook {name!s} failed: {problem!r}", name=name, problem=exc))

    def _run_exec(self, item: tuple[PushEvent, bytes]) -> None:
        event, line = item
        assert self.config.exec_command is not None
        run_command(
            self.config.exec_command,
            line,
            timeout=self.config.exec_timeout,
            env={"USMS_EVENT_TYPE": event.kind, "USMS_EVENT_KEY": event.key},
        )

    # -- stderr ------------------------------------------------------------------------------
    def _say(self, message: str) -> None:
        with self._log_lock:
            self.output.err.line(message)

    def _warn(self, message: str, throttle: str | None = None) -> None:
        """A warning on stderr; with ``throttle``, at most one of that kind every 5 s."""
        if throttle is not None:
            now = time.monotonic()
            if now - self._last_warning.get(throttle, -1e9) < 5.0:
                return
            self._last_warning[throttle] = now
        with self._log_lock:
            self.output.warn(message)


def _name(event: PushEvent) -> str:
    return f"{event.kind} {event.key[:12]}"


def _line(stamp: str, event: PushEvent) -> bytes:
    record: dict[str, Any] = {"received_at": stamp, **event.as_json()}
    return (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


# --------------------------------------------------------------------------------------------
# Running it


def run_listen(
    output: Output, config: ListenConfig, on_event: Sequence[EventHook] = ()
) -> ExitCode:
    """Serve in the foreground until Ctrl-C or SIGTERM, like ``usms sandbox``: exit 0.

    A second Ctrl-C while stopping stops at once (exit 130).
    """
    check_config(config, output)
    listener = Listener(config, output, on_event)
    listener.open()
    try:
        asyncio.run(_foreground(listener))
    finally:
        listener.close()
    return ExitCode.OK


async def _foreground(listener: Listener) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    signals = (signal.SIGINT, signal.SIGTERM)

    def first_signal() -> None:
        stop.set()
        for signum in signals:  # a second one acts at once (default handlers)
            loop.remove_signal_handler(signum)

    in_main = threading.current_thread() is threading.main_thread()
    if in_main:
        for signum in signals:
            loop.add_signal_handler(signum, first_signal)
    try:
        await listener.serve(stop)
    finally:
        if in_main:
            for signum in signals:
                loop.remove_signal_handler(signum)


class BackgroundListener:
    """A listener serving in a thread (tests, benchmarks); :meth:`close` stops it."""

    def __init__(
        self, config: ListenConfig, output: Output, on_event: Sequence[EventHook] = ()
    ) -> None:
        check_config(config, output)
        self.listener = Listener(config, output, on_event)
        self.listener.open()
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._main, name="usms-listen", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._error is not None:
            self.listener.close()
            raise self._error

    @property
    def url(self) -> str:
        return self.listener.server.url

    def _main(self) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            await self.listener.serve(self._stop, ready=self._ready.set)

        try:
            asyncio.run(main())
        except BaseException as exc:
            self._error = exc
            self._ready.set()

    def close(self) -> None:
        """Stop serving (finishing requests in hand), stop the workers, close ``--out``."""
        if self._loop is not None and self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join()
        self.listener.close()

    def __enter__(self) -> BackgroundListener:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
