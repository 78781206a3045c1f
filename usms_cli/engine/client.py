"""The one place that speaks HTTP to the USMS API.

Delivery rule (SMS is not idempotent): a send is retried only when the request provably did not
reach the server (connection refused, DNS failure, connect timeout, a proxy that never opened
its tunnel: no byte of the request was written) or the API said it throttled (HTTP 429, RetCode
153). After the request was written, anything else (no whole answer within the timeout, dropped
connection, 5xx, an answer that is not USMS JSON) is *unknown*: reported, never resent.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from usms_cli import __version__
from usms_cli.core.api import encode_form
from usms_cli.core.results import ApiResult
from usms_cli.core.shapes import is_loopback_host, is_vpc_endpoint
from usms_cli.core.text import printable
from usms_cli.engine import answers
from usms_cli.engine.phrases import Phrase
from usms_cli.i18n import N_, tr

if TYPE_CHECKING:
    import requests

    from usms_cli.engine.deadline import Attempt
    from usms_cli.engine.pacing import Pacer


USER_AGENT = f"usms-cli/{__version__}"
MAX_BODY = 4 * 1024 * 1024  # an API answer larger than this is not a USMS answer
BASE_DELAY = 0.5  # seconds; the first retry waits up to this long (full jitter), doubling after


@dataclass
class RetryPolicy:
    attempts: int = 4  # first try + 3 retries
    base_delay: float = field(default_factory=lambda: BASE_DELAY)
    max_delay: float = 20.0
    sleep: Callable[[float], None] = field(default=time.sleep)

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Full-jitter exponential backoff; ``Retry-After`` is honoured as a floor."""
        backoff: float = random.uniform(0, min(self.max_delay, self.base_delay * 2**attempt))
        if retry_after is not None:
            return min(max(retry_after, backoff), 120.0)
        return backoff


class Client:
    """A keep-alive session to one base URL. Not thread-safe for ``verbose`` ordering only."""

    def __init__(
        self,
        base_url: str,
        timeout: float,
        *,
        retry: RetryPolicy | None = None,
        log: Callable[[str], None] | None = None,
        pacer: Pacer | None = None,
        pool_size: int = 4,
        mask_pii: bool = True,
    ) -> None:
        self.base_url = base_url
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self.log = log
        self.pacer = pacer
        self.pool_size = pool_size
        self.mask_pii = mask_pii  # the -v log masks phone numbers and params (not --show-pii)
        self._session: requests.Session | None = None
        self._session_lock = threading.Lock()
        self._tag = threading.local()

    @property
    def session(self) -> requests.Session:
        with self._session_lock:
            if self._session is None:
                import requests

                from usms_cli.engine.deadline import adapter

                session = requests.Session()
                if self.base_url.startswith("http://") and not _loopback_proxy(self.base_url):
                    # Plain http goes to loopback or the VPC endpoint only: never hand the signed
                    # request, unencrypted, to a proxy from the environment on another host.
                    session.trust_env = False
                if self.log and _is_vpc_url(self.base_url):
                    self.log(
                        tr(
                            "note: {url} is UCloud's VPC endpoint, HTTP only: requests travel "
                            "unencrypted inside the VPC",
                            url=self.base_url,
                        )
                    )
                session.headers["User-Agent"] = USER_AGENT
                session.headers["Accept"] = "application/json"
                # One keep-alive pool shared by all workers; each attempt gets a deadline for
                # its whole answer (usms_cli.engine.deadline).
                watched = adapter(self.pool_size)
                session.mount("https://", watched)
                session.mount("http://", watched)
                self._session = session
            return self._session

    def close(self) -> None:
        if self._session is not None:
            self._session.close()

    def _say(self, *lines: str) -> None:
        """-v lines, as one block prefixed with the request's tag (``[3/12]``), so that the
        lines of concurrent requests do not interleave."""
        if self.log is None:
            return
        tag = getattr(self._tag, "value", "")
        self.log("\n".join(f"{tag} {line}" if tag else line for line in lines))

    def call(
        self, form: Mapping[str, str], *, idempotent: bool | None = None, tag: str = ""
    ) -> ApiResult:
        """POST one signed form. Retries only what is safe: by default what the action table
        (core/actions.py) says of the form's Action; ``idempotent`` overrides it.

        Throttling (429, RetCode 153) pauses every caller sharing this client's pacer.
        """
        self._tag.value = tag
        if idempotent is None:
            from usms_cli.core.actions import may_retry

            idempotent = may_retry(str(form.get("Action", "")))
        body = encode_form(dict(form))
        attempt = 0
        while True:
            attempt += 1
            if self.pacer is not None:
                self.pacer.wait_turn()
            result, retry_after, retryable = self._once(form, body, idempotent=idempotent)
            result.attempts = attempt
            if result.ok and self.pacer is not None:
                self.pacer.succeeded()
            if not retryable or attempt >= self.retry.attempts:
                return result
            wait = self.retry.delay(attempt - 1, retry_after)
            why = result.error or result.message
            self._say(tr("retrying in {wait:.1f}s ({why})", wait=wait, why=why))
            if result.throttled and self.pacer is not None:
                self.pacer.throttled(wait)
            else:
                self.retry.sleep(wait)

    def _once(
        self, form: Mapping[str, str], body: bytes, *, idempotent: bool
    ) -> tuple[ApiResult, float | None, bool]:
        """One attempt. ``--timeout`` bounds all of it: connect, proxy tunnel, TLS, head, body."""
        from usms_cli.engine.deadline import Attempt

        action = form.get("Action", "?")
        if self.log:
            self._say(
                f"> POST {self.base_url}  Action={action}", *answers.form_lines(form, self.mask_pii)
            )
        with Attempt(self.timeout) as attempt:
            try:
                response = self.session.post(
                    self.base_url,
                    data=body,
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                    timeout=(min(self.timeout, 10.0), self.timeout),
                    allow_redirects=False,
                    stream=True,
                )
            except Exception as exc:  # noqa: BLE001 - classified below; the rest re-raised
                return self._failure(exc, attempt, idempotent=idempotent)
            if not attempt.seen:  # a connection class without our hooks (a SOCKS proxy)
                attempt.on_expiry(lambda: _shutdown(response))
            try:
                return self._classify(response, attempt, idempotent=idempotent)
            finally:
                response.close()

    def _failure(
        self, exc: Exception, attempt: Attempt, *, idempotent: bool
    ) -> tuple[ApiResult, float | None, bool]:
        """What an exception from the transport means. Nothing reached the API when the attempt
        failed before a byte of the request was written (connect, proxy tunnel, TLS)."""
        import requests
        from urllib3.exceptions import LocationValueError

        errors = requests.exceptions
        refusal = _refusal(exc)
        if refusal is not None:
            return ApiResult("not_sent", error=refusal), None, False
        if isinstance(exc, errors.SSLError) and not attempt.written:
            error = Phrase(N_("TLS handshake with the API failed (certificate?)"))
            return ApiResult("not_sent", error=error), None, False
        if isinstance(
            exc, (errors.InvalidURL, errors.MissingSchema, errors.InvalidSchema, LocationValueError)
        ):  # the URL did not parse: nothing was connected
            if isinstance(exc, LocationValueError):
                error = Phrase(N_("the base URL cannot be used"))
            else:
                kind = type(exc).__name__
                error = Phrase(N_("the base URL cannot be used ({kind})"), kind=kind)
            return ApiResult("not_sent", error=error), None, False
        if isinstance(exc, OSError) and not isinstance(exc, errors.RequestException):
            if "CA certificate bundle" in str(exc):  # requests checks the path before connecting
                error = Phrase(
                    N_("the TLS CA bundle (REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE) cannot be read")
                )
                return ApiResult("not_sent", error=error), None, False
        elif not isinstance(exc, errors.RequestException):
            raise exc
        timed_out = isinstance(exc, errors.Timeout) or attempt.expired
        if isinstance(exc, errors.ConnectTimeout) or (attempt.nothing_sent and timed_out):
            if attempt.proxied:
                error = Phrase(N_("timed out connecting to the API through the proxy"))
            else:
                error = Phrase(N_("timed out connecting to the API"))
            return ApiResult("not_sent", error=error), None, True
        if isinstance(exc, errors.ProxyError) and not attempt.written:
            error = Phrase(N_("could not connect through the proxy"))
            return ApiResult("not_sent", error=error), None, True
        if attempt.nothing_sent or (
            isinstance(exc, errors.ConnectionError) and _never_connected(exc)
        ):
            error = _connect_reason(exc, attempt.proxied)
            return ApiResult("not_sent", error=error), None, True
        # A byte of the request may have reached the API: the outcome is unknown. A stalled
        # answer is not asked for again, not even by a read-only call: --timeout bounds the run.
        if attempt.expired or isinstance(exc, errors.ReadTimeout):
            error = Phrase(N_("no answer within {seconds:g}s (read timeout)"), seconds=self.timeout)
            return ApiResult("unknown", error=error), None, False
        if isinstance(exc, errors.ConnectionError):
            error = Phrase(N_("the connection dropped before the API answered"))
            return ApiResult("unknown", error=error), None, idempotent
        if isinstance(exc, errors.RequestException):
            error = Phrase(N_("HTTP error: {kind}"), kind=type(exc).__name__)
            return ApiResult("unknown", error=error), None, idempotent
        # not provably before the write
        error = Phrase(N_("connection error ({kind})"), kind=type(exc).__name__)
        return ApiResult("unknown", error=error), None, idempotent

    def _classify(
        self, response: requests.Response, attempt: Attempt, *, idempotent: bool
    ) -> tuple[ApiResult, float | None, bool]:
        import requests

        request_id = printable(response.headers.get("X-UCLOUD-REQUEST-UUID"), 100) or None
        status = response.status_code
        try:
            raw = _read_capped(response, attempt)
        except AnswerTooSlow:
            result = ApiResult(
                "unknown",
                error=Phrase(
                    N_("the answer did not finish within {seconds:g}s"), seconds=self.timeout
                ),
                request_id=request_id,
                http_status=status,
            )
            return result, None, False
        except requests.exceptions.RequestException:
            result = ApiResult(
                "unknown",
                error=Phrase(
                    N_("the connection dropped while reading the answer (HTTP {status})"),
                    status=status,
                ),
                request_id=request_id,
                http_status=status,
            )
            return result, None, idempotent
        if self.log:
            preview = (
                printable(raw[:2000].decode("utf-8", "replace"), 2000)
                if raw is not None
                else "<too large>"
            )
            self._say(
                f"< HTTP {status}  X-UCLOUD-REQUEST-UUID={request_id or '-'}",
                f"< {answers.masked_preview(preview) if self.mask_pii else preview}",
            )

        return answers.judge(response, raw, request_id, idempotent=idempotent)


class AnswerTooSlow(Exception):
    """The body kept trickling in past the deadline."""


def _read_capped(response: requests.Response, attempt: Attempt) -> bytes | None:
    """The body, or None when it is over MAX_BODY. At the attempt's deadline the connection is
    shut down, which ends the read (requests' read timeout is per socket read, so a server
    dripping bytes could otherwise hold us for ever)."""
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_content(64 * 1024):
            size += len(chunk)
            if size > MAX_BODY:
                return None
            chunks.append(chunk)
    except Exception:
        if attempt.expired:
            raise AnswerTooSlow() from None
        raise
    if attempt.expired:  # a body without a length ends "normally" when the socket is shut
        raise AnswerTooSlow()
    return b"".join(chunks)


def _loopback_proxy(url: str) -> bool:
    """True when the environment's proxy for ``url`` (if any) is itself on loopback."""
    from urllib.parse import urlsplit

    from requests.utils import get_environ_proxies

    proxies = get_environ_proxies(url)
    proxy = proxies.get("http") or proxies.get("all")
    if not proxy:
        return True
    try:
        host = urlsplit(proxy if "://" in proxy else f"http://{proxy}").hostname or ""
    except ValueError:
        return False
    return is_loopback_host(host)


def _is_vpc_url(url: str) -> bool:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        return is_vpc_endpoint(parts.scheme, parts.hostname or "", parts.port)
    except ValueError:
        return False


def _refusal(exc: BaseException) -> Phrase | None:
    """The reason a plain-http destination was refused (usms_cli.engine.deadline), if it was."""
    for cause in _causes(exc):
        refusal = getattr(cause, "usms_refusal", None)
        if isinstance(refusal, Phrase):
            return refusal
        if isinstance(refusal, str):
            return Phrase(refusal)
    return None


def _shutdown(response: requests.Response) -> None:
    """Wake a read blocked in another thread: shut the socket down, then close."""
    import socket

    connection = getattr(response.raw, "_connection", None) or getattr(
        response.raw, "connection", None
    )
    sock = getattr(connection, "sock", None)
    if sock is None:  # "Connection: close": http.client handed the socket to the response
        fp = getattr(getattr(response.raw, "_fp", None), "fp", None)
        sock = getattr(getattr(fp, "raw", None), "_sock", None)
    if isinstance(sock, socket.socket):
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    response.close()


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and what it wraps: ``reason``, exception arguments, causes and contexts."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException):
            current = reason
            continue
        args = getattr(current, "args", ())
        nested = next((a for a in args if isinstance(a, BaseException)), None)
        current = nested or current.__cause__ or current.__context__


def _never_connected(exc: BaseException) -> bool:
    """True when the error happened while establishing the connection (nothing was written)."""
    from urllib3.exceptions import NewConnectionError

    return any(isinstance(cause, NewConnectionError) for cause in _causes(exc))


def _connect_reason(exc: BaseException, proxied: bool) -> Phrase:
    from urllib3.exceptions import NameResolutionError

    text = repr(exc)
    if "NameResolutionError" in text or isinstance(
        getattr(exc, "__cause__", None), NameResolutionError
    ):
        if proxied:
            return Phrase(N_("could not resolve the API host name (DNS) through the proxy"))
        return Phrase(N_("could not resolve the API host name (DNS)"))
    if "Connection refused" in text or "ECONNREFUSED" in text or "Errno 111" in text:
        if proxied:
            return Phrase(N_("connection refused by the API host through the proxy"))
        return Phrase(N_("connection refused by the API host"))
    if proxied:
        return Phrase(N_("could not connect to the API host through the proxy"))
    return Phrase(N_("could not connect to the API host"))
