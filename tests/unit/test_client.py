"""The HTTP client's classification (usms_cli.engine.client.Client), against real servers on
127.0.0.1 that write exactly the bytes each case needs (tests/servers/raw.py).

The rule under test: a send is repeated only when the request provably never left (nothing
was connected) or the API said it throttled (HTTP 429, RetCode 153). After the request was
written, anything else is *unknown* and asked exactly once.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import closed_port
from tests.servers.raw import (
    Behaviour,
    Conn,
    RawServer,
    constant,
    http_response,
    scripted,
    usms_json,
)
from tests.unit.conftest import FakeTime
from usms_cli.core.results import ApiResult
from usms_cli.engine.client import Client, RetryPolicy
from usms_cli.engine.pacing import Pacer

FORM = {
    "Action": "SendUSMSMessage",
    "PhoneNumbers.0": "13800000000",
    "TemplateId": "UT1",
    "PublicKey": "pk",
    "Signature": "0" * 40,
}
ACCEPTED = usms_json(
    {"RetCode": 0, "Message": "提交发送成功", "SessionNo": "sn-1"},
    headers={"X-UCLOUD-REQUEST-UUID": "req-42"},
)
THROTTLED_429 = http_response(429, b"slow down", headers={"Retry-After": "0"}, content_type=None)
THROTTLED_153 = usms_json({"RetCode": 153, "Message": "request throttled"})


class Calls:
    """A client for one server, with the retry waits recorded instead of slept."""

    def __init__(self, url: str, timeout: float = 5.0, pacer: Pacer | None = None) -> None:
        self.waits: list[float] = []
        retry = RetryPolicy(base_delay=0.0, sleep=self.waits.append)
        self.client = Client(url, timeout, retry=retry, pacer=pacer)

    def send(self) -> ApiResult:
        return self.client.call(FORM, idempotent=False)

    def query(self) -> ApiResult:
        return self.client.call({**FORM, "Action": "GetUSMSSendReceipt"}, idempotent=True)


@pytest.fixture
def serve() -> Iterator[list[RawServer]]:
    started: list[RawServer] = []
    yield started
    for server in started:
        server.stop()


def server_for(started: list[RawServer], behaviour: Behaviour) -> RawServer:
    server = RawServer(behaviour).start()
    started.append(server)
    return server


# ---- answers ---------------------------------------------------------------------------------


def test_an_accepted_send_is_posted_once_as_a_form_and_read_back(
    serve: list[RawServer],
) -> None:
    server = server_for(serve, constant(ACCEPTED))
    calls = Calls(server.url)
    result = calls.send()
    assert (result.status, result.ret_code, result.message) == ("accepted", 0, "提交发送成功")
    assert result.body is not None and result.body["SessionNo"] == "sn-1"
    assert (result.request_id, result.http_status, result.attempts) == ("req-42", 200, 1)
    assert server.count == 1
    request = server.requests[0]
    assert request.method == "POST" and request.form == FORM
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.headers["user-agent"].startswith("usms-cli/")


@pytest.mark.parametrize("ret_code", [171, 18017, "18014"])
def test_a_refusal_is_rejected_with_its_retcode_and_not_retried(
    serve: list[RawServer], ret_code: int | str
) -> None:
    server = server_for(serve, constant(usms_json({"RetCode": ret_code, "Message": "no"})))
    calls = Calls(server.url)
    result = calls.send()
    assert (result.status, result.ret_code, result.message) == ("rejected", int(ret_code), "no")
    assert server.count == 1 and result.attempts == 1 and calls.waits == []


# ---- throttling: the only answers after which a send is repeated ----------------------------


@pytest.mark.parametrize("throttle", [THROTTLED_429, THROTTLED_153], ids=["429", "RetCode 153"])
def test_a_throttled_send_is_sent_again_and_then_accepted(
    serve: list[RawServer], throttle: bytes
) -> None:
    server = server_for(serve, scripted(throttle, ACCEPTED))
    calls = Calls(server.url)
    result = calls.send()
    assert result.status == "accepted" and result.attempts == 2
    assert server.count == 2 and len(calls.waits) == 1


@pytest.mark.parametrize("throttle", [THROTTLED_429, THROTTLED_153], ids=["429", "RetCode 153"])
def test_throttled_forever_gives_up_after_four_attempts_as_not_sent(
    serve: list[RawServer], throttle: bytes
) -> None:
    server = server_for(serve, constant(throttle))
    calls = Calls(server.url)
    result = calls.send()
    assert result.status == "not_sent" and result.throttled
    assert result.attempts == 4 and server.count == 4 and len(calls.waits) == 3


def test_a_throttled_answer_brakes_the_shared_pacer_instead_of_one_worker(
    serve: list[RawServer],
) -> None:
    """With a pacer the Retry-After wait goes to the pacer, which every worker waits on."""
    late = http_response(429, b"", headers={"Retry-After": "1"}, content_type=None)
    server = server_for(serve, scripted(late, ACCEPTED))
    fake = FakeTime()
    pacer = Pacer(clock=fake.clock, sleep=fake.sleep)
    calls = Calls(server.url, pacer=pacer)
    assert calls.send().status == "accepted"
    assert pacer.throttle_events == 1
    assert fake.sleeps == [1.0]  # the retry waited its turn at the pacer: Retry-After 1 s
    assert calls.waits == []  # not a private sleep in this worker


# ---- nothing connected: provably not sent, so retried ----------------------------------------


def test_connection_refused_is_not_sent_and_retried_a_bounded_number_of_times() -> None:
    calls = Calls(f"http://127.0.0.1:{closed_port()}/")
    result = calls.send()
    assert result.status == "not_sent" and not result.throttled
    assert result.error == "connection refused by the API host"
    assert result.attempts == 4 and len(calls.waits) == 3


# ---- written, then no usable answer: unknown, asked once -------------------------------------


def hang(conn: Conn) -> None:
    conn.hang(10)


def reset(conn: Conn) -> None:
    conn.reset()


def hang_up(conn: Conn) -> None:
    conn.sock.close()


HTML = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
UNKNOWN = {
    "read timeout": (hang, "read timeout"),
    "connection reset": (reset, "dropped"),
    "connection closed": (hang_up, "dropped"),
    "502 HTML page": (constant(http_response(502, HTML, content_type="text/html")), "HTTP 502"),
    "200 not JSON": (constant(http_response(200, b"OK")), "not USMS JSON"),
    "RetCode 0 with 500": (constant(usms_json({"RetCode": 0}, status=500)), "contradictory"),
    "no RetCode": (constant(usms_json({"SessionNo": "sn-1"})), "without a RetCode"),
    "redirect": (
        constant(http_response(307, b"", headers={"Location": "http://127.0.0.1:1/"})),
        "not followed",
    ),
}


@pytest.mark.parametrize(("behaviour", "words"), list(UNKNOWN.values()), ids=list(UNKNOWN))
def test_no_usable_answer_after_the_request_was_written_is_unknown_and_never_resent(
    serve: list[RawServer], behaviour: Behaviour, words: str
) -> None:
    server = server_for(serve, behaviour)
    calls = Calls(server.url, timeout=0.5 if behaviour is hang else 5.0)
    result = calls.send()
    assert result.status == "unknown", result
    assert words in (result.error or ""), result.error
    assert result.attempts == 1 and calls.waits == []
    assert server.count == 1


def test_a_read_only_query_may_be_asked_again_after_a_5xx_but_a_send_never_is(
    serve: list[RawServer],
) -> None:
    page = constant(http_response(502, HTML, content_type="text/html"))
    server = server_for(serve, page)
    result = Calls(server.url).query()
    assert result.status == "unknown" and result.attempts == 4 and server.count == 4
    server = server_for(serve, page)
    assert Calls(server.url).send().attempts == 1 and server.count == 1


def test_a_redirect_is_not_followed_even_for_a_read_only_query(serve: list[RawServer]) -> None:
    elsewhere = server_for(serve, constant(ACCEPTED))
    redirect = http_response(302, b"", headers={"Location": elsewhere.url})
    server = server_for(serve, constant(redirect))
    result = Calls(server.url).query()
    assert result.status == "unknown" and result.attempts == 1
    assert elsewhere.connections == 0
