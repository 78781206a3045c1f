"""A USMS endpoint on pytest-httpserver that verifies every Signature like the real service.

A test scripts its answers with werkzeug Responses (one responder per request, in order; the
last one repeats) and then reads what arrived: every form, the accepted numbers, arrival times
and how many requests were in flight at once. The server is threaded, so concurrency is real.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from werkzeug import Request, Response

from usms_cli.core.signing import verify

Responder = Callable[[dict[str, str]], Response]


@dataclass
class FakeUSMS:
    """What one test's fake received. ``answer(*responders)`` scripts the answers."""

    url: str
    public_key: str
    private_key: str
    requests: list[dict[str, str]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    sent: list[list[str]] = field(default_factory=list)  # numbers of each accepted request
    script: list[Responder] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    times: list[float] = field(default_factory=list)  # arrival, time.monotonic()
    in_flight: int = 0
    max_in_flight: int = 0

    def answer(self, *responders: Responder) -> None:
        self.script = list(responders)

    def handle(self, request: Request) -> Response:
        with self.lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return self._answer(request)
        finally:
            with self.lock:
                self.in_flight -= 1

    def _answer(self, request: Request) -> Response:
        body = request.get_data(as_text=True)
        form = dict(urllib.parse.parse_qsl(body, keep_blank_values=True))
        with self.lock:
            self.requests.append(form)
            self.headers.append(dict(request.headers))
            self.times.append(time.monotonic())
            index = len(self.requests) - 1
        if form.get("PublicKey") != self.public_key:
            return api(172, "user does not exist")
        if not verify(form, self.private_key):
            return api(171, "Signature VerifyAC Error")
        responder = self.script[min(index, len(self.script) - 1)] if self.script else accept
        response = responder(form)
        try:
            payload = json.loads(response.get_data(as_text=True))
        except ValueError:
            payload = {}
        if response.status_code == 200 and isinstance(payload, dict):
            if str(payload.get("RetCode")) == "0":
                with self.lock:
                    self.sent.append(phones_of(form))
        return response

    @property
    def count(self) -> int:
        return len(self.requests)


def phones_of(form: dict[str, str]) -> list[str]:
    keys = sorted(
        (k for k in form if k.startswith("PhoneNumbers.")), key=lambda k: int(k.split(".")[1])
    )
    return [form[k] for k in keys]


def api(ret_code: int | str, message: str = "", **extra: Any) -> Response:
    """A USMS JSON answer with HTTP 200 and a request id."""
    payload = {"Action": "SendUSMSMessageResponse", "RetCode": ret_code, "Message": message}
    payload.update(extra)
    return Response(
        json.dumps(payload, ensure_ascii=False),
        status=200,
        headers={"X-UCLOUD-REQUEST-UUID": "req-0001"},
        content_type="application/json",
    )


def accept(form: dict[str, str]) -> Response:
    return api(0, "提交发送成功", SessionNo=f"sn-{abs(hash(tuple(phones_of(form)))) % 10**8}")


def serve_fake(httpserver: Any, public_key: str, private_key: str) -> FakeUSMS:
    """Attach a fresh FakeUSMS to a (cleared) pytest-httpserver instance."""
    fake = FakeUSMS(httpserver.url_for("/"), public_key, private_key)
    httpserver.expect_request("/", method="POST").respond_with_handler(fake.handle)
    return fake
