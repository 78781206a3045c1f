"""The concurrent sender (usms_cli.engine.sender.send), driven directly.

The client is a stub of our own Client's one method the sender uses, ``call(form,
idempotent=)``: it checks the signature, records what it was asked, and answers (or blocks)
as each test scripts it. No HTTP here: the Client's own behaviour is in test_client.py.
"""

from __future__ import annotations

import json
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pytest

from usms_cli.core.actions import may_retry
from usms_cli.core.api import Message, build_send
from usms_cli.core.errors import ExitCode
from usms_cli.core.phones import Recipients
from usms_cli.core.results import ApiResult
from usms_cli.core.signing import verify
from usms_cli.engine.journal import Writer
from usms_cli.engine.sender import STOP_BATCH, Control, RequestPlan, SendReport, send

PUBLIC, PRIVATE = "unit-public", "unit-private"
MESSAGE = Message("UT1", "Acme", ("1",))


def accepted(first: str) -> ApiResult:
    return ApiResult("accepted", 0, "ok", {"RetCode": 0, "SessionNo": f"sn-{first}"})


class StubClient:
    """Answers ``answer(numbers)`` for each request; counts calls and calls in flight."""

    def __init__(self, answer: Callable[[list[str]], ApiResult] | None = None) -> None:
        self.answer = answer or (lambda numbers: accepted(numbers[0]))
        self.calls: list[list[str]] = []  # in the order the calls started
        self.finished: list[str] = []  # first number of each request, in the order answered
        self.in_flight = 0
        self.max_in_flight = 0
        self.lock = threading.Lock()

    def call(
        self, form: Mapping[str, str], *, idempotent: bool | None = None, tag: str = ""
    ) -> ApiResult:
        # the client derives the retry policy from the action table: a send is never retried
        assert idempotent is not True and not may_retry(form["Action"])
        assert verify(dict(form), PRIVATE), "the sender signs every request"
        numbers = [form[k] for k in sorted(form, key=_index) if k.startswith("PhoneNumbers.")]
        with self.lock:
            self.calls.append(numbers)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return self.answer(numbers)
        finally:
            with self.lock:
                self.in_flight -= 1
                self.finished.append(numbers[0])

    def started(self) -> int:
        with self.lock:
            return len(self.calls)


def _index(key: str) -> int:
    return int(key.split(".")[1]) if key.startswith("PhoneNumbers.") else -1


def phones(count: int) -> list[str]:
    return [f"139{i:08d}" for i in range(count)]


def run(
    client: StubClient,
    numbers: Sequence[str],
    *,
    per_request: int = 1,
    concurrency: int = 1,
    control: Control | None = None,
    journal: Writer | None = None,
    progress: Callable[..., None] | None = None,
) -> SendReport:
    """Send ``numbers`` in requests of ``per_request`` (the API allows 1000; fewer keeps the
    tests small)."""
    plan = RequestPlan(
        items=list(numbers),
        size=per_request,
        build=lambda chunk: build_send(MESSAGE, chunk),
        phones=lambda chunk: chunk,
    )
    return send(
        client,  # type: ignore[arg-type]
        MESSAGE,
        Recipients(numbers=list(numbers)),
        PUBLIC,
        PRIVATE,
        concurrency=concurrency,
        control=control,
        journal=journal,
        progress=progress,
        plan=plan,
    )


def statuses(report: SendReport) -> list[str]:
    return [outcome.status for outcome in report.requests]


def wait_until(condition: Callable[[], bool], limit: float = 5.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


# ---- order -----------------------------------------------------------------------------------


def test_results_keep_the_input_order_when_answers_come_back_out_of_order(
    tmp_path: Path,
) -> None:
    values = phones(10)

    def answer(numbers: list[str]) -> ApiResult:
        if numbers[0] == values[0]:  # the first request answers last
            wait_until(lambda: len(client.finished) == 9)
        else:
            wait_until(lambda: client.started() >= 4)  # four at once, no more
        return accepted(numbers[0])

    client = StubClient(answer)
    journal = Writer(tmp_path / "run.jsonl", MESSAGE)
    journal.run("test")
    shown: list[int] = []
    report = run(
        client,
        values,
        concurrency=4,
        journal=journal,
        progress=lambda outcome, total: shown.append(outcome.index),
    )
    journal.close()

    assert client.finished[-1] == values[0], "the test did not reorder the answers"
    assert client.max_in_flight == 4
    assert [o.index for o in report.requests] == list(range(1, 11))
    assert [n for o in report.requests for n in o.numbers] == values
    assert report.session_nos == [f"sn-{n}" for n in values]
    assert shown == list(range(1, 11))  # progress too
    records = [json.loads(line) for line in (tmp_path / "run.jsonl").read_text().splitlines()]
    results = [r for r in records if r.get("status") not in (None, "sending")]
    assert [r["index"] for r in results] == list(range(1, 11))  # and the journal
    assert report.exit_code() is ExitCode.OK


def test_each_request_is_journalled_as_sending_before_it_is_sent(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    seen: list[bool] = []

    def answer(numbers: list[str]) -> ApiResult:
        lines = [json.loads(line) for line in path.read_text().splitlines()]
        seen.append(any(r.get("status") == "sending" and r["numbers"] == numbers for r in lines))
        return accepted(numbers[0])

    journal = Writer(path, MESSAGE)
    journal.run("test")
    run(StubClient(answer), phones(3), concurrency=2, journal=journal)
    journal.close()
    assert seen == [True, True, True]


# ---- stop rules ------------------------------------------------------------------------------


@pytest.mark.parametrize("ret_code", sorted({171, 172, 18016, 18017} & STOP_BATCH))
def test_a_refusal_that_would_repeat_stops_dispatching(ret_code: int) -> None:
    values = phones(5)

    def answer(numbers: list[str]) -> ApiResult:
        if numbers[0] == values[1]:
            return ApiResult("rejected", ret_code, "refused")
        return accepted(numbers[0])

    client = StubClient(answer)
    report = run(client, values)
    assert client.calls == [[values[0]], [values[1]]]
    assert statuses(report) == ["accepted", "rejected", "not_sent", "not_sent", "not_sent"]
    skipped = report.requests[2:]
    assert all(o.result is not None and o.result.skipped for o in skipped)
    assert all(f"RetCode {ret_code}" in (o.result.error or "") for o in skipped if o.result)
    assert report.exit_code() is ExitCode.PARTIAL


def test_a_refusal_of_one_request_only_does_not_stop_the_rest() -> None:
    values = phones(4)

    def answer(numbers: list[str]) -> ApiResult:
        if numbers[0] == values[1]:
            return ApiResult("rejected", 18014, "some numbers invalid")
        return accepted(numbers[0])

    client = StubClient(answer)
    report = run(client, values)
    assert len(client.calls) == 4
    assert statuses(report) == ["accepted", "rejected", "accepted", "accepted"]
    assert report.exit_code() is ExitCode.PARTIAL


def test_an_unreachable_api_stops_dispatching_and_exits_4() -> None:
    client = StubClient(lambda numbers: ApiResult("not_sent", error="connection refused"))
    report = run(client, phones(3))
    assert len(client.calls) == 1
    assert statuses(report) == ["not_sent"] * 3
    assert "connection refused" in (report.requests[1].result.error or "")  # type: ignore[union-attr]
    assert report.exit_code() is ExitCode.UNREACHABLE


def test_requests_already_in_flight_when_the_batch_stops_keep_their_real_outcome() -> None:
    values = phones(5)

    def answer(numbers: list[str]) -> ApiResult:
        if numbers[0] == values[0]:
            wait_until(lambda: client.started() == 3)  # 2 and 3 are on their way too
            return ApiResult("rejected", 171, "Signature VerifyAC Error")
        wait_until(lambda: values[0] in client.finished)
        return accepted(numbers[0])

    client = StubClient(answer)
    report = run(client, values, concurrency=3)
    assert len(client.calls) == 3
    assert statuses(report) == ["rejected", "accepted", "accepted", "not_sent", "not_sent"]


# ---- interruption ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("signum", "code"),
    [(signal.SIGINT, ExitCode.INTERRUPTED), (signal.SIGTERM, ExitCode.TERMINATED)],
)
def test_a_first_signal_stops_dispatching_and_waits_for_the_requests_in_flight(
    signum: int, code: ExitCode
) -> None:
    values = phones(6)
    control = Control()
    both_started = threading.Barrier(2, timeout=5)

    def answer(numbers: list[str]) -> ApiResult:
        if numbers[0] == values[1]:
            control.stop_signal = signum  # Ctrl-C while requests 1 and 2 are in flight
        both_started.wait()
        time.sleep(0.05)
        return accepted(numbers[0])

    client = StubClient(answer)
    report = run(client, values, concurrency=2, control=control)
    assert len(client.calls) == 2
    assert statuses(report) == ["accepted", "accepted"] + ["not_sent"] * 4
    assert report.requests[2].result is not None
    assert report.requests[2].result.error == "not sent: interrupted"
    assert report.interrupted_by == signum
    assert report.exit_code() is code


def test_a_second_signal_returns_at_once_and_marks_the_requests_in_flight_unknown() -> None:
    values = phones(6)
    control = Control()
    release = threading.Event()

    def answer(numbers: list[str]) -> ApiResult:
        if numbers[0] == values[1]:
            control.stop_signal = signal.SIGINT
            control.abort = True
        assert release.wait(10)  # an API that takes its time
        return accepted(numbers[0])

    client = StubClient(answer)
    started = time.monotonic()
    report = run(client, values, concurrency=2, control=control)
    assert time.monotonic() - started < 2, "waited for the answers"
    assert statuses(report) == ["unknown", "unknown"] + ["not_sent"] * 4
    assert "aborted" in (report.requests[0].result.error or "")  # type: ignore[union-attr]
    assert report.exit_code() is ExitCode.INTERRUPTED
    release.set()  # the stuck answers arrive late: nothing is sent again
    wait_until(lambda: len(client.finished) == 2)
    time.sleep(0.2)
    assert len(client.calls) == 2


# ---- never twice -----------------------------------------------------------------------------


def test_an_unknown_outcome_is_reported_and_never_sent_again() -> None:
    values = phones(4)

    def answer(numbers: list[str]) -> ApiResult:
        if numbers[0] == values[1]:
            return ApiResult("unknown", error="no answer within 30s (read timeout)")
        return accepted(numbers[0])

    client = StubClient(answer)
    report = run(client, values, concurrency=2)
    assert Counter(n for call in client.calls for n in call) == Counter(values)  # once each
    assert statuses(report) == ["accepted", "unknown", "accepted", "accepted"]
    assert report.counts() == {"accepted": 3, "rejected": 0, "unknown": 1, "not_sent": 0}
    assert report.exit_code() is ExitCode.UNKNOWN


def test_a_crash_inside_the_client_is_an_unknown_outcome_not_a_lost_one() -> None:
    values = phones(3)

    def answer(numbers: list[str]) -> ApiResult:
        if numbers[0] == values[0]:
            raise RuntimeError("bug")
        return accepted(numbers[0])

    client = StubClient(answer)
    report = run(client, values)
    assert len(client.calls) == 3
    assert statuses(report) == ["unknown", "accepted", "accepted"]
    assert report.requests[0].result is not None
    assert report.requests[0].result.error == "internal error (RuntimeError)"
    assert report.exit_code() is ExitCode.UNKNOWN


def test_numbers_are_split_into_requests_of_at_most_1000_by_default() -> None:
    values = phones(2001)
    client = StubClient()
    report = send(
        client,  # type: ignore[arg-type]
        MESSAGE,
        Recipients(numbers=values),
        PUBLIC,
        PRIVATE,
        concurrency=3,
    )
    assert sorted(len(call) for call in client.calls) == [1, 1000, 1000]
    assert [len(o.numbers) for o in report.requests] == [1000, 1000, 1]
    assert report.counts()["accepted"] == 2001
