"""The sandbox's pushes, as UCloud makes them (usms-api.md Part 3 §3.1): status reports
``{"MsgType":2,"Data":[…]}`` POSTed to ``--push-to`` as they become ready (several per POST),
and simulated replies ``{"MsgType":0,"Data":[…]}`` (``usms sandbox reply``). An answer other
than ``{"code":0,…}``, or a failed connection, is retried 3 times, 1 s apart; then the push
is dropped, with a line on stderr. Also the queue PullUSMSReport reads (``--pull``): every
report, kept until pulled.

Standard library only (urllib): the sandbox does not use the client's HTTP stack.
"""

from __future__ import annotations

import json
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from usms_cli.i18n import tr, tr_n

RETRIES = 3  # UCloud: "retries every 1 s, 3 times, then gives up"
RETRY_DELAY = 1.0
BATCH = 100  # reports per POST (about 25 KiB; usms listen accepts 64 KiB)
TIMEOUT = 5.0


@dataclass
class PushOutcome:
    """How one POST went: delivered (answered ``{"code":0}``), after how many attempts."""

    ok: bool
    attempts: int
    error: str = ""


def _stderr(message: str) -> None:
    print(f"usms sandbox: {message}", file=sys.stderr, flush=True)


class Pusher:
    """POSTs pushes to one URL from a background thread (reports) or at once (replies)."""

    def __init__(
        self,
        url: str,
        *,
        retry_delay: float = RETRY_DELAY,
        log: Callable[[str], None] = _stderr,
    ) -> None:
        self.url = url
        self.retry_delay = retry_delay
        self.log = log
        self.delivered = 0  # reports and replies answered {"code":0}
        self.dropped = 0
        self.posts = 0  # POSTs made (attempts included)
        self._pending: list[tuple[float, dict[str, Any]]] = []  # (ready at, Data item)
        self._wake = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="usms-sandbox-push", daemon=True)
        self._thread.start()

    def add_reports(self, ready_at: float, items: Sequence[dict[str, Any]]) -> None:
        """Queue status reports to push once ``time.monotonic()`` reaches ``ready_at``."""
        with self._wake:
            self._pending.extend((ready_at, item) for item in items)
            self._wake.notify()

    def push_reply(self, item: Mapping[str, Any]) -> PushOutcome:
        """Push one reply now (with retries) and say how it went."""
        outcome = self.post({"MsgType": 0, "Data": [dict(item)]})
        self._count(outcome, 1)
        return outcome

    def post(self, payload: Mapping[str, Any]) -> PushOutcome:
        """POST ``payload``, retrying as UCloud does; never raises."""
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        error = ""
        for attempt in range(1, RETRIES + 2):
            if attempt > 1:
                time.sleep(self.retry_delay)
            self.posts += 1
            error = self._post_once(body)
            if not error:
                return PushOutcome(True, attempt)
        return PushOutcome(False, RETRIES + 1, error)

    def _post_once(self, body: bytes) -> str:
        request = urllib.request.Request(
            self.url, data=body, method="POST", headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:  # noqa: S310
                raw = answer.read(65536)
        except urllib.error.HTTPError as exc:
            return f"HTTP {exc.code}"
        except (OSError, ValueError) as exc:
            return tr("no answer ({problem})", problem=exc)
        try:
            document = json.loads(raw)
        except ValueError:
            return tr("the answer is not JSON")
        if isinstance(document, dict) and document.get("code") == 0:
            return ""
        return tr("answered {text}", text=raw[:80].decode("utf-8", "replace"))

    def _count(self, outcome: PushOutcome, items: int) -> None:
        if outcome.ok:
            self.delivered += items
        else:
            self.dropped += items
            self.log(
                tr_n(
                    "push of {n} item to {url} dropped after {attempts} attempts: {error}",
                    "push of {n} items to {url} dropped after {attempts} attempts: {error}",
                    items,
                    n=items,
                    url=self.url,
                    attempts=outcome.attempts,
                    error=outcome.error,
                )
            )

    def _take_ready(self) -> list[dict[str, Any]] | None:
        """Wait for ready reports (up to BATCH); None once closed and drained."""
        with self._wake:
            while True:
                now = time.monotonic()
                ready = [item for at, item in self._pending if at <= now][:BATCH]
                if ready:
                    taken = {id(item) for item in ready}
                    self._pending = [p for p in self._pending if id(p[1]) not in taken]
                    return ready
                if self._closed:
                    return None
                soonest = min((at for at, _ in self._pending), default=now + 3600)
                self._wake.wait(timeout=max(0.01, min(soonest - now, 1.0)))

    def _run(self) -> None:
        while True:
            ready = self._take_ready()
            if ready is None:
                return
            time.sleep(0.05)  # let reports ready at about the same moment share a POST
            with self._wake:
                now = time.monotonic()
                more = [item for at, item in self._pending if at <= now][: BATCH - len(ready)]
                taken = {id(item) for item in more}
                self._pending = [p for p in self._pending if id(p[1]) not in taken]
            ready.extend(more)
            self._count(self.post({"MsgType": 2, "Data": ready}), len(ready))

    def close(self) -> None:
        """Stop: reports not ready yet are dropped; a POST in progress finishes."""
        with self._wake:
            self._closed = True
            self._pending = [p for p in self._pending if p[0] <= time.monotonic()]
            self._wake.notify()
        self._thread.join(timeout=RETRIES * self.retry_delay + TIMEOUT * (RETRIES + 1) + 1)


class PullQueue:
    """Reports waiting for PullUSMSReport: each is returned once, when ready, then deleted."""

    def __init__(self) -> None:
        self._pending: list[tuple[float, dict[str, Any]]] = []
        self._lock = threading.Lock()

    def add(self, ready_at: float, items: Sequence[dict[str, Any]]) -> None:
        with self._lock:
            self._pending.extend((ready_at, item) for item in items)

    def take(self, limit: int) -> list[dict[str, Any]]:
        now = time.monotonic()
        with self._lock:
            ready = [(at, item) for at, item in self._pending if at <= now][:limit]
            taken = {id(item) for _, item in ready}
            self._pending = [p for p in self._pending if id(p[1]) not in taken]
        return [item for _, item in ready]


# --------------------------------------------------------------------------------------------
# Wiring into the backend: its ``pushes`` attribute holds a PushState once needed.

CONTROL_REPLY = "/_sandbox/reply"
"""POST ``{"phone": …, "text": …}`` here to make a recipient reply (``usms sandbox reply``)."""
MAX_PULL = 200


class PushState:
    """A backend's pusher (with ``push_to``) and pull queue (with ``pull_enabled``)."""

    def __init__(self, push_to: str | None, retry_delay: float) -> None:
        self.pusher = Pusher(push_to, retry_delay=retry_delay) if push_to else None
        self.pull = PullQueue()


def _state(backend: Any) -> PushState:
    with backend.lock:
        if backend.pushes is None:
            config = backend.config
            backend.pushes = PushState(config.push_to, config.push_retry_delay)
        state: PushState = backend.pushes
        return state


def queue_reports(
    backend: Any, session_no: str, messages: Sequence[dict[str, Any]], outcomes: Sequence[Any]
) -> None:
    """A session's status reports, ready ``receipt_delay`` after now: pushed and/or pulled."""
    from usms_cli.sandbox.backend import RECEIPT_WORDS
    from usms_cli.sandbox.ledger import _receipt

    config = backend.config
    if not config.push_to and not config.pull_enabled:
        return
    words = RECEIPT_WORDS[config.receipt_language]
    now = time.time()
    at = int(now + config.receipt_delay)
    items = [
        {"SessionNo": session_no, **_receipt(item, outcome, words, at)}
        for item, outcome in zip(messages, outcomes, strict=True)
    ]
    ready_at = time.monotonic() + config.receipt_delay
    state = _state(backend)
    if state.pusher is not None:
        state.pusher.add_reports(ready_at, items)
    if config.pull_enabled:
        state.pull.add(ready_at, items)


def pull_reports(
    backend: Any, params: Mapping[str, str], reply: Callable[..., dict[str, Any]]
) -> dict[str, Any]:
    """PullUSMSReport: up to ``Limit`` (default 100, at most 200) ready reports, each given
    once. Refused unless the sandbox runs with ``--pull`` (the real one is off until support
    enables it; the sandbox's RetCode 161 and message stand for that refusal)."""
    if not backend.config.pull_enabled:
        return reply(161, "PullUSMSReport is not enabled for this account (ask UCloud support)")
    raw = params.get("Limit", "100").strip() or "100"
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PULL:
        return reply(18002, f"Limit must be between 1 and {MAX_PULL}, got {raw[:20]!r}")
    return reply(0, "Success", ReqUuid=str(_uuid()), ReportSet=_state(backend).pull.take(int(raw)))


def _uuid() -> str:
    import uuid

    return str(uuid.uuid4())


def control_reply(backend: Any, body: bytes) -> tuple[int, dict[str, Any]]:
    """``usms sandbox reply``: push a reply from the last number sent ``phone`` (MsgType 0,
    with that message's ExtendCode and UserId); (HTTP status, answer)."""
    try:
        document = json.loads(body or b"{}")
        phone, text = str(document["phone"]), str(document["text"])
    except (ValueError, KeyError, TypeError):
        return 400, {"ok": False, "error": 'send {"phone": "…", "text": "…"}'}
    state = _state(backend)
    if state.pusher is None:
        return 409, {"ok": False, "error": "this sandbox has no --push-to URL to push replies to"}
    wanted = _digits_tail(phone)
    with backend.lock:
        sent = [m for m in backend.messages if _digits_tail(m["phone"]) == wanted]
    if not sent:
        return 404, {"ok": False, "error": f"this sandbox sent nothing to {phone}"}
    last = sent[-1]
    item = {
        "ExtendCode": last.get("extend_code", ""),
        "UserId": last.get("user_id", ""),
        "Phone": last["phone"],
        "ReplyContent": text,
        "ReplyTime": int(time.time()),
    }
    outcome = state.pusher.push_reply(item)
    answer = {"ok": outcome.ok, "attempts": outcome.attempts, "reply": item}
    if not outcome.ok:
        answer["error"] = outcome.error
    return (200 if outcome.ok else 502), answer


def _digits_tail(phone: str) -> str:
    """The last 11 digits of a number (enough to tell numbers apart in the sandbox)."""
    return "".join(ch for ch in phone.split(")")[-1] if ch.isdigit())[-11:]


def close(backend: Any) -> None:
    state = backend.pushes
    if state is not None and state.pusher is not None:
        state.pusher.close()
