"""Shared fixtures: an isolated environment, a CLI runner, and a signature-checking USMS fake."""

from __future__ import annotations

import json
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from typer.testing import CliRunner
from werkzeug import Request, Response

from usms_cli.cli import app
from usms_cli.core.signing import verify
from usms_cli.engine import client as client_module

PUBLIC_KEY = "test-public-key-7f3a"
PRIVATE_KEY = "TEST-PRIVATE-KEY-5ec7e7a1b2c3d4"  # scanned for in every output

ALL_OUTPUTS: list[str] = []


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """No real credentials, no ./.env from the developer's tree, no real home, no retry waits."""
    import os

    for name in list(os.environ):
        if name.startswith(("UCLOUD_", "USMS_")) or name in {"NO_COLOR", "GITHUB_ACTIONS"}:
            monkeypatch.delenv(name, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setattr(client_module, "BASE_DELAY", 0.0)
    # 10:00 China time: inside the marketing window, so no send makes the extra look-up
    # (child processes get it too: USMS_NOW is passed on by the tests that start them).
    monkeypatch.setenv("USMS_NOW", "2026-11-24T10:00:00+08:00")


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def json(self) -> Any:
        return json.loads(self.stdout)


def run_usms(
    *args: str, input: str | bytes | None = None, env: dict[str, str] | None = None
) -> Result:
    """Run ``usms ARGS`` in-process and collect stdout/stderr separately."""
    runner = CliRunner()
    result = runner.invoke(app, list(args), input=input, env=env, prog_name="usms")
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    out = Result(result.exit_code, result.stdout, result.stderr)
    ALL_OUTPUTS.extend([out.stdout, out.stderr])
    return out


@pytest.fixture
def usms() -> Callable[..., Result]:
    return run_usms


def creds() -> dict[str, str]:
    return {"UCLOUD_PUBLIC_KEY": PUBLIC_KEY, "UCLOUD_PRIVATE_KEY": PRIVATE_KEY}


@dataclass
class FakeUSMS:
    """A USMS endpoint on 127.0.0.1 that verifies every Signature like the real service.

    ``script`` is a list of callables (one per request, in order; the last one repeats) that
    return a werkzeug Response for the parsed form. Accepted sends are recorded in ``sent``.
    """

    url: str
    requests: list[dict[str, str]] = field(default_factory=list)
    sent: list[list[str]] = field(default_factory=list)
    script: list[Callable[[dict[str, str]], Response]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    times: list[float] = field(default_factory=list)  # arrival, time.monotonic()
    in_flight: int = 0
    max_in_flight: int = 0

    def answer(self, *responders: Callable[[dict[str, str]], Response]) -> None:
        self.script = list(responders)

    def handle(self, request: Request) -> Response:
        body = request.get_data(as_text=True)
        form = dict(urllib.parse.parse_qsl(body, keep_blank_values=True))
        with self.lock:
            self.requests.append(form)
            self.times.append(time.monotonic())
            index = len(self.requests) - 1
        if form.get("PublicKey") != PUBLIC_KEY:
            return api(172, "user does not exist")
        if not verify(form, PRIVATE_KEY):
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


def serve_fake(httpserver: Any) -> FakeUSMS:
    """Attach a FakeUSMS to a pytest-httpserver instance."""
    server = FakeUSMS(url=httpserver.url_for("/"))

    def handler(request: Request) -> Response:
        with server.lock:
            server.in_flight += 1
            server.max_in_flight = max(server.max_in_flight, server.in_flight)
        try:
            return answer(request)
        finally:
            with server.lock:
                server.in_flight -= 1

    def answer(request: Request) -> Response:
        return server.handle(request)

    httpserver.expect_request("/", method="POST").respond_with_handler(handler)
    return server


@pytest.fixture
def fake(httpserver: Any) -> FakeUSMS:
    return serve_fake(httpserver)


@pytest.fixture
def threaded_fake() -> Iterator[FakeUSMS]:
    """A FakeUSMS whose server answers requests concurrently."""
    from pytest_httpserver import HTTPServer

    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    try:
        yield serve_fake(server)
    finally:
        server.clear()
        server.stop()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    leaked = [text for text in ALL_OUTPUTS if PRIVATE_KEY in text]
    if leaked:  # pragma: no cover - a failure of the whole suite, on purpose
        session.exitstatus = 1
        print(f"\nSECRET LEAK: the test private key appeared in {len(leaked)} outputs")
