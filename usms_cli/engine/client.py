"""The one place that speaks HTTP to the USMS API.

Delivery rule (SMS is not idempotent): a send is retried only when the request provably did not
reach the server (connection refused, DNS failure, connect timeout) or the API said it throttled
(HTTP 429, RetCode 153). After the request was written, anything else (read timeout, dropped
connection, 5xx, an answer that is not USMS JSON) is *unknown*: reported, never resent.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from usms_cli import __version__
from usms_cli.core.api import encode_form, redact
from usms_cli.core.codes import THROTTLED_RETCODE
from usms_cli.core.privacy import mask_answer, mask_digits
from usms_cli.core.results import ApiResult, Status
from usms_cli.core.text import printable

if TYPE_CHECKING:
    import requests

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


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return max(0.0, seconds)


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

    @property
    def session(self) -> requests.Session:
        with self._session_lock:
            if self._session is None:
                import requests
                from requests.adapters import HTTPAdapter

                session = requests.Session()
                if self.base_url.startswith("http://") and not _loopback_proxy(self.base_url):
                    # Plain http is allowed only to loopback: never hand the signed request,
                    # unencrypted, to a proxy from the environment on another host.
                    session.trust_env = False
                session.headers["User-Agent"] = USER_AGENT
                session.headers["Accept"] = "application/json"
                # One keep-alive pool shared by all workers; no urllib3 retries (max_retries=0):
                # what may be retried is decided here, never by the transport.
                adapter = HTTPAdapter(
                    pool_connections=1, pool_maxsize=max(1, self.pool_size), max_retries=0
                )
                session.mount("https://", adapter)
                session.mount("http://", adapter)
                self._session = session
            return self._session

    def close(self) -> None:
        if self._session is not None:
            self._session.close()

    def call(self, form: Mapping[str, str], *, idempotent: bool | None = None) -> ApiResult:
        """POST one signed form. Retries only what is safe: by default what the action table
        (core/actions.py) says of the form's Action; ``idempotent`` overrides it.

        Throttling (429, RetCode 153) pauses every caller sharing this client's pacer.
        """
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
            if self.log:
                self.log(f"retrying in {wait:.1f}s ({result.error or result.message})")
            if result.throttled and self.pacer is not None:
                self.pacer.throttled(wait)
            else:
                self.retry.sleep(wait)

    def _once(
        self, form: Mapping[str, str], body: bytes, *, idempotent: bool
    ) -> tuple[ApiResult, float | None, bool]:
        import requests
        from urllib3.exceptions import LocationValueError

        action = form.get("Action", "?")
        if self.log:
            self.log(f"> POST {self.base_url}  Action={action}")
            for key, value in redact(dict(form), mask_pii=self.mask_pii).items():
                self.log(f">   {key}={value}")
        try:
            response = self.session.post(
                self.base_url,
                data=body,
                headers={"Content-Type": "application/x-www-form-urlencoded"},
                timeout=(min(self.timeout, 10.0), self.timeout),
                allow_redirects=False,
                stream=True,
            )
        except requests.exceptions.ConnectTimeout:
            return ApiResult("not_sent", error="timed out connecting to the API"), None, True
        except requests.exceptions.SSLError:
            return (
                ApiResult("not_sent", error="TLS handshake with the API failed (certificate?)"),
                None,
                False,
            )
        except requests.exceptions.ProxyError:
            return ApiResult("not_sent", error="could not connect through the proxy"), None, True
        except requests.exceptions.ConnectionError as exc:
            if _never_connected(exc):
                return ApiResult("not_sent", error=_connect_reason(exc)), None, True
            return (
                ApiResult("unknown", error="the connection dropped before the API answered"),
                None,
                idempotent,
            )
        except requests.exceptions.ReadTimeout:
            return (
                ApiResult("unknown", error=f"no answer within {self.timeout:g}s (read timeout)"),
                None,
                idempotent,
            )
        except (
            requests.exceptions.InvalidURL,
            requests.exceptions.MissingSchema,
            requests.exceptions.InvalidSchema,
        ) as exc:
            error = f"the base URL cannot be used ({type(exc).__name__})"
            return ApiResult("not_sent", error=error), None, False
        except requests.exceptions.RequestException as exc:
            return ApiResult("unknown", error=f"HTTP error: {type(exc).__name__}"), None, idempotent
        except OSError as exc:
            if "CA certificate bundle" in str(exc):  # requests checks the path before connecting
                error = "the TLS CA bundle (REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE) cannot be read"
                return ApiResult("not_sent", error=error), None, False
            error = f"connection error ({type(exc).__name__})"  # not provably before the write
            return ApiResult("unknown", error=error), None, idempotent
        except LocationValueError:  # the URL did not parse: nothing was connected
            return ApiResult("not_sent", error="the base URL cannot be used"), None, False
        try:
            return self._classify(response, idempotent=idempotent)
        finally:
            response.close()

    def _classify(
        self, response: requests.Response, *, idempotent: bool
    ) -> tuple[ApiResult, float | None, bool]:
        import requests

        request_id = printable(response.headers.get("X-UCLOUD-REQUEST-UUID"), 100) or None
        status = response.status_code
        try:
            raw = _read_capped(response, self.timeout)
        except AnswerTooSlow:
            result = ApiResult(
                "unknown",
                error=f"the answer did not finish within {self.timeout:g}s",
                request_id=request_id,
                http_status=status,
            )
            return result, None, idempotent
        except requests.exceptions.RequestException:
            result = ApiResult(
                "unknown",
                error=f"the connection dropped while reading the answer (HTTP {status})",
                request_id=request_id,
                http_status=status,
            )
            return result, None, idempotent
        if self.log:
            self.log(f"< HTTP {status}  X-UCLOUD-REQUEST-UUID={request_id or '-'}")
            preview = (
                printable(raw[:2000].decode("utf-8", "replace"), 2000)
                if raw is not None
                else "<too large>"
            )
            self.log(f"< {_masked_preview(preview) if self.mask_pii else preview}")

        def made(
            kind: Status,
            ret_code: int | None = None,
            message: str | None = None,
            body: dict[str, Any] | None = None,
            error: str | None = None,
        ) -> ApiResult:
            return ApiResult(
                kind,
                ret_code,
                message,
                body,
                request_id=request_id,
                http_status=status,
                error=error,
            )

        if status == 429:
            result = made("not_sent", error="throttled by the API (HTTP 429)")
            result.throttled = True
            return result, _retry_after(response.headers.get("Retry-After")), True
        if 300 <= status < 400:
            where = printable(response.headers.get("Location", "?"), 200)
            error = f"the API answered with a redirect (HTTP {status} to {where}); not followed"
            return made("unknown", error=error), None, False
        if raw is None:
            return made("unknown", error="the answer was larger than 4 MiB"), None, idempotent
        body = _parse_body(raw)
        if body is None:
            what = "an empty answer" if not raw.strip() else "an answer that is not USMS JSON"
            return made("unknown", error=f"HTTP {status} with {what}"), None, idempotent
        ret_code = _ret_code(body.get("RetCode"))
        text = body.get("Message")
        message = text if isinstance(text, str) else None
        if ret_code is None:
            error = f"HTTP {status}: answer without a RetCode"
            return made("unknown", body=body, error=error), None, idempotent
        if ret_code == 0:
            if 200 <= status < 300:
                return made("accepted", ret_code, message, body), None, False
            error = f"HTTP {status} with RetCode 0: contradictory answer"
            return made("unknown", ret_code, message, body, error=error), None, idempotent
        if ret_code == THROTTLED_RETCODE:
            result = made("not_sent", ret_code, message, body, error="throttled (RetCode 153)")
            result.throttled = True
            return result, _retry_after(response.headers.get("Retry-After")), True
        return made("rejected", ret_code, message, body), None, False


class AnswerTooSlow(Exception):
    """The body kept trickling in past the deadline."""


def _read_capped(response: requests.Response, timeout: float) -> bytes | None:
    """The body, or None when it is over MAX_BODY. The whole read must end within ``timeout``
    (requests' read timeout is per socket read, so a server dripping bytes could hold us for
    ever): a watchdog closes the response at the deadline."""
    expired = threading.Event()

    def expire() -> None:
        expired.set()
        _shutdown(response)

    watchdog = threading.Timer(timeout, expire)
    watchdog.daemon = True
    watchdog.start()
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_content(64 * 1024):
            size += len(chunk)
            if size > MAX_BODY:
                return None
            chunks.append(chunk)
    except Exception:
        if expired.is_set():
            raise AnswerTooSlow() from None
        raise
    finally:
        watchdog.cancel()
    if expired.is_set():
        raise AnswerTooSlow()
    return b"".join(chunks)


def _loopback_proxy(url: str) -> bool:
    """True when the environment's proxy for ``url`` (if any) is itself on loopback."""
    from urllib.parse import urlsplit

    from requests.utils import get_environ_proxies

    from usms_cli.engine.settings import is_loopback

    proxies = get_environ_proxies(url)
    proxy = proxies.get("http") or proxies.get("all")
    if not proxy:
        return True
    try:
        host = urlsplit(proxy if "://" in proxy else f"http://{proxy}").hostname or ""
    except ValueError:
        return False
    return is_loopback(host)


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


def _masked_preview(text: str) -> str:
    """An answer as the -v log shows it: phone numbers and params masked."""
    try:
        document = json.loads(text)
    except ValueError:
        return mask_digits(text)
    return json.dumps(mask_answer(document), ensure_ascii=False)


def _parse_body(raw: bytes) -> dict[str, Any] | None:
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    return body if isinstance(body, dict) else None


def _ret_code(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def _never_connected(exc: BaseException) -> bool:
    """True when the error happened while establishing the connection (nothing was written)."""
    from urllib3.exceptions import NewConnectionError

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, NewConnectionError):
            return True
        reason = getattr(current, "reason", None)
        if isinstance(reason, BaseException):
            current = reason
            continue
        args = getattr(current, "args", ())
        nested = next((a for a in args if isinstance(a, BaseException)), None)
        current = nested or current.__cause__ or current.__context__
    return False


def _connect_reason(exc: BaseException) -> str:
    from urllib3.exceptions import NameResolutionError

    text = repr(exc)
    if "NameResolutionError" in text or isinstance(
        getattr(exc, "__cause__", None), NameResolutionError
    ):
        return "could not resolve the API host name (DNS)"
    if "Connection refused" in text or "ECONNREFUSED" in text or "Errno 111" in text:
        return "connection refused by the API host"
    return "could not connect to the API host"
