"""``usms listen``: UCloud's pushes received over real HTTP on 127.0.0.1, recorded once each."""

from __future__ import annotations

import http.client
import io
import json
import os
import re
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import heard
from tests.conftest import run_unchecked as run_usms  # they check exit codes themselves
from usms_cli.app.listen import BackgroundListener, ListenConfig
from usms_cli.core.privacy import Masker
from usms_cli.core.pushes import (
    MAX_PUSH_BYTES,
    PushEvent,
    PushRejected,
    is_opt_out,
    parse_pull_report,
    parse_push,
)
from usms_cli.engine.listener import Limits
from usms_cli.output.console import Output

OK = b'{"code":0,"message":"ok"}'


def receipt(n: int = 0, phone: str = "13800008000", **extra: Any) -> dict[str, Any]:
    item = {
        "SessionNo": f"d0f7-0fc3-{n:06d}",
        "Phone": phone,
        "CostCount": 2,
        "ReceiptTime": 1563867000 + n,
        "ReceiptResult": "发送成功",
        "ReceiptCode": "Delivrd",
        "ReceiptDesc": "用户接收成功",
        "UserId": "order-42",
    }
    item.update(extra)
    return item


def status_push(*items: dict[str, Any]) -> bytes:
    return json.dumps({"MsgType": 2, "Data": list(items)}, ensure_ascii=False).encode()


def reply_push(text: str, phone: str = "13900001111", at: int = 1573552778) -> bytes:
    item = {"ExtendCode": "12345", "UserId": "u", "Phone": phone, "ReplyContent": text}
    item["ReplyTime"] = at
    return json.dumps({"MsgType": 0, "Data": [item]}, ensure_ascii=False).encode()


class Captured:
    """An Output writing to memory, safe to read while the listener's threads write."""

    def __init__(self, **kwargs: Any) -> None:
        self.stdout = io.StringIO()
        self.stderr = io.StringIO()
        self.output = Output(stdout=self.stdout, stderr=self.stderr, **kwargs)

    def wait_for(self, text: str, stream: str = "stderr", timeout: float = 10.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = getattr(self, stream).getvalue()
            if text in value:
                return str(value)
            time.sleep(0.02)
        raise AssertionError(f"{text!r} not in {stream}: {getattr(self, stream).getvalue()!r}")


@pytest.fixture
def start(tmp_path: Path) -> Iterator[Callable[..., tuple[BackgroundListener, Captured]]]:
    started: list[BackgroundListener] = []

    def start_listener(
        captured: Captured | None = None, on_event: Any = (), **options: Any
    ) -> tuple[BackgroundListener, Captured]:
        captured = captured or Captured()
        options.setdefault("out", tmp_path / "events.jsonl")
        options.setdefault("port", 0)
        options.setdefault("backoff", 0.05)
        listener = BackgroundListener(ListenConfig(**options), captured.output, on_event)
        started.append(listener)
        return listener, captured

    yield start_listener
    for listener in started:
        listener.close()


def post(
    url: str, body: bytes, *, method: str = "POST", headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.request(method, parts.path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# --------------------------------------------------------------------------------------------
# The two push formats


def test_status_reports_are_answered_ok_and_appended_as_json_lines(start: Any, tmp_path: Path):
    listener, captured = start()
    failed = receipt(1, "13900001111", ReceiptResult="发送失败", ReceiptCode="MSBLACK")
    status, body = post(listener.url, status_push(receipt(0), failed))
    assert (status, body) == (200, OK)
    out = tmp_path / "events.jsonl"
    events = lines(out)
    assert [e["type"] for e in events] == ["receipt", "receipt"]
    assert [e["result"] for e in events] == ["delivered", "failed"]
    assert events[0]["Phone"] == "13800008000" and events[0]["SessionNo"] == "d0f7-0fc3-000000"
    assert events[1]["ReceiptCode"] == "MSBLACK" and events[0]["CostCount"] == 2
    assert events[0]["received_at"].endswith("Z") and len(events[0]["key"]) == 32
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    shown = captured.wait_for("139****1111", "stdout")
    assert "13800008000" not in shown and "delivered" in shown and "failed" in shown


def test_replies_are_recorded_with_their_text_masked_on_screen(start: Any, tmp_path: Path):
    listener, captured = start()
    assert post(listener.url, reply_push("好的，可以了"))[0] == 200
    assert post(listener.url, reply_push(" Ｔ。", at=1573552800))[0] == 200
    events = lines(tmp_path / "events.jsonl")
    assert [e["ReplyContent"] for e in events] == ["好的，可以了", " Ｔ。"]
    assert [e["opt_out"] for e in events] == [False, True]
    assert events[0]["ExtendCode"] == "12345" and events[0]["ReplyTime"] == 1573552778
    shown = captured.wait_for("opt-out", "stdout")
    assert "好的" not in shown and "13900001111" not in shown and "139****1111" in shown


def test_show_pii_and_json_print_the_full_event(start: Any):
    listener, captured = start(Captured(masker=Masker(show_pii=True)))
    post(listener.url, reply_push("收到，谢谢"))
    assert "13900001111" in captured.wait_for("收到，谢谢", "stdout")
    listener_json, as_json = start(Captured(json_mode=True), out=Path("other.jsonl"))
    post(listener_json.url, status_push(receipt(3)))
    printed = json.loads(as_json.wait_for("\n", "stdout"))
    assert printed["Phone"] == "13800008000" and printed["type"] == "receipt"
    assert printed == lines(Path("other.jsonl"))[0]  # the very line written to --out


def test_keep_alive_chunked_and_expect_continue_all_work(start: Any, tmp_path: Path):
    listener, _ = start()
    parts = urlsplit(listener.url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    for n in range(3):  # one connection, three pushes
        connection.request("POST", parts.path, body=status_push(receipt(n)))
        response = connection.getresponse()
        assert (response.status, response.read()) == (200, OK)
    connection.request("POST", parts.path, body=iter([status_push(receipt(7))]))  # chunked
    response = connection.getresponse()
    assert (response.status, response.read()) == (200, OK)
    connection.close()
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        body = status_push(receipt(8))
        head = f"POST {parts.path} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n"
        sock.sendall((head + "Expect: 100-continue\r\n\r\n").encode())
        assert sock.recv(100).startswith(b"HTTP/1.1 100 Continue")
        sock.sendall(body)
        assert sock.recv(1000).endswith(OK)
    assert len(lines(tmp_path / "events.jsonl")) == 5


# --------------------------------------------------------------------------------------------
# Recorded once


def test_a_push_repeated_by_ucloud_is_recorded_once_even_across_restarts(
    start: Any, tmp_path: Path
):
    listener, captured = start()
    push = status_push(receipt(0), receipt(1), receipt(0))  # the same report twice inside too
    for _ in range(4):  # the first try and UCloud's three retries
        assert post(listener.url, push) == (200, OK)
    assert len(lines(tmp_path / "events.jsonl")) == 2
    listener.close()
    assert "2 events recorded (10 repeats ignored)" in captured.stderr.getvalue()
    again, captured = start()
    assert "2 earlier events remembered" in captured.stderr.getvalue()
    assert post(again.url, push) == (200, OK)
    assert post(again.url, status_push(receipt(2))) == (200, OK)
    assert len(lines(tmp_path / "events.jsonl")) == 3


def test_a_file_cut_by_a_crash_gets_the_next_event_on_a_line_of_its_own(start: Any, tmp_path: Path):
    out = tmp_path / "events.jsonl"
    out.write_text('{"key":"a","type":"receipt"}\n{"key":"b","ty', encoding="utf-8")
    out.chmod(0o600)
    listener, captured = start()
    assert "cut line" in captured.stderr.getvalue()
    post(listener.url, status_push(receipt(0)))
    text = out.read_text(encoding="utf-8").splitlines()
    assert text[1] == '{"key":"b","ty' and json.loads(text[2])["type"] == "receipt"


def test_1000_concurrent_pushes_from_20_threads_are_all_recorded_exactly_once(
    start: Any, tmp_path: Path
):
    listener, _ = start(Captured(quiet=True))
    pushes = [status_push(receipt(n)) for n in range(1000)]
    # Every tenth push arrives twice, as UCloud's retry would.
    work = pushes + pushes[::10]
    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(lambda body: post(listener.url, body), work))
    assert all(answer == (200, OK) for answer in answers)
    events = lines(tmp_path / "events.jsonl")
    assert len(events) == 1000
    assert sorted(e["SessionNo"] for e in events) == sorted(
        f"d0f7-0fc3-{n:06d}" for n in range(1000)
    )


def test_concurrent_pushes_share_one_fsync_so_a_slow_disk_keeps_up(
    start: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    syncs: list[int] = []
    real = os.fdatasync

    def slow_disk(fd: int) -> None:  # 20 ms per sync, as on a busy spinning disk
        time.sleep(0.02)
        syncs.append(fd)
        real(fd)

    monkeypatch.setattr(os, "fdatasync", slow_disk)
    listener, _ = start(Captured(quiet=True))
    began = time.monotonic()
    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(lambda n: post(listener.url, status_push(receipt(n))), range(200)))
    elapsed = time.monotonic() - began
    assert all(answer == (200, OK) for answer in answers)
    assert len(lines(tmp_path / "events.jsonl")) == 200
    assert len(syncs) < 50 and elapsed < 2.0  # one sync each would take 4 s


def test_text_from_the_network_cannot_drive_the_terminal(start: Any):
    listener, captured = start()
    post(listener.url, status_push(receipt(0, ReceiptDesc="\x1b[2J\x1b]0;pwned\x07")))
    shown = captured.wait_for("delivered", "stdout")
    assert "\x1b" not in shown and "\\x1b[2J" in shown


# --------------------------------------------------------------------------------------------
# When --out cannot be written


def test_a_full_disk_answers_an_error_so_ucloud_retries(start: Any):
    listener, captured = start(out=Path("/dev/full"))
    status, body = post(listener.url, status_push(receipt(0)))
    assert status == 500 and json.loads(body)["code"] != 0
    assert "could not write /dev/full" in captured.wait_for("could not write")
    assert post(listener.url, status_push(receipt(0)))[0] == 500  # not "seen": tried again


def test_an_out_file_in_a_read_only_directory_stops_before_listening(tmp_path: Path):
    if os.geteuid() == 0:  # root writes anywhere, except where no file can be created
        result = run_usms("listen", "--port", "0", "--out", "/sys/events.jsonl")
    else:
        locked = tmp_path / "locked"
        locked.mkdir()
        locked.chmod(0o500)
        result = run_usms("listen", "--port", "0", "--out", str(locked / "events.jsonl"))
    assert result.exit_code == 2
    assert "cannot write --out" in result.stderr and "Traceback" not in result.stderr


# --------------------------------------------------------------------------------------------
# Refused requests are never recorded


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"MsgType=2&Data=x", "not JSON"),
        (b"\xff\xfe{}", "not UTF-8"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"MsgType": 3, "Data": []}', "MsgType 3"),
        (b'{"MsgType": 2, "Data": {"Phone": "1"}}', "Data is not a list"),
        (b'{"MsgType": 2, "Data": [{"Phone": "13800008000"}]}', "no SessionNo"),
        (b'{"MsgType": 0, "Data": [{"ReplyContent": "T"}]}', "no Phone"),
        (b'{"MsgType": 2, "Data": [{"SessionNo": "s", "Phone": "1", "CostCount": "x"}]}', "whole"),
        (b'{"MsgType": 2, "Data": [{"SessionNo": "s", "Phone": NaN}]}', "not JSON"),
    ],
)
def test_malformed_pushes_get_400_and_are_not_recorded(
    start: Any, tmp_path: Path, body: bytes, reason: str
):
    listener, captured = start()
    status, answer = post(listener.url, body)
    assert status == 400
    assert json.loads(answer)["code"] != 0 and reason in json.loads(answer)["message"]
    assert lines(tmp_path / "events.jsonl") == []
    assert "refused a push" in captured.stderr.getvalue()


def test_wrong_paths_methods_and_oversized_bodies_are_refused(start: Any, tmp_path: Path):
    listener, _ = start(path="/usms-secret")
    base = listener.url.rsplit("/", 1)[0]
    push = status_push(receipt(0))
    assert post(base + "/usms", push)[0] == 404
    assert post(listener.url + "/", push)[0] == 404
    assert post(listener.url, b"", method="GET")[0] == 405
    assert post(listener.url, push, method="PUT")[0] == 405
    padding = "x" * (MAX_PUSH_BYTES + 1)
    big = status_push(receipt(0, UserId=padding))
    status, answer = post(listener.url, big)
    assert status == 413 and json.loads(answer)["code"] == 413
    status, _ = post(listener.url, iter([big[:40000], big[40000:]]))  # chunked, same limit
    assert status == 413
    assert lines(tmp_path / "events.jsonl") == []
    assert post(listener.url, push) == (200, OK)


def test_slow_and_idle_connections_are_cut_and_pushes_still_get_through(start: Any, tmp_path: Path):
    limits = Limits(request_timeout=0.5, idle_timeout=0.5, max_connections=64)
    listener, _ = start(limits=limits)
    parts = urlsplit(listener.url)
    idle = [socket.create_connection((parts.hostname, parts.port)) for _ in range(40)]
    slow = socket.create_connection((parts.hostname, parts.port))
    threads_before = threading.active_count()
    started = time.monotonic()
    slow.settimeout(5)
    closed_after = None
    try:
        for char in b"POST /usms HTTP/1.1\r\nHost: x\r\n":  # one byte every 0.1 s
            slow.sendall(bytes([char]))
            time.sleep(0.1)
    except OSError:
        closed_after = time.monotonic() - started
    if closed_after is None:
        assert slow.recv(100) == b""  # the server has closed it
        closed_after = time.monotonic() - started
    assert closed_after < 4
    assert post(listener.url, status_push(receipt(0))) == (200, OK)
    assert all(sock.recv(10) == b"" for sock in idle)  # idle ones were closed too
    assert threading.active_count() <= threads_before
    for sock in [*idle, slow]:
        sock.close()
    assert len(lines(tmp_path / "events.jsonl")) == 1


def test_a_flood_of_connections_is_shed_and_service_resumes(start: Any, tmp_path: Path):
    limits = Limits(request_timeout=0.5, idle_timeout=0.5, max_connections=16)
    listener, captured = start(limits=limits)
    parts = urlsplit(listener.url)
    threads_before = threading.active_count()
    flood = [socket.create_connection((parts.hostname, parts.port)) for _ in range(200)]
    time.sleep(1.0)  # the 16 it kept time out; the rest were closed at once
    assert threading.active_count() <= threads_before
    assert post(listener.url, status_push(receipt(0))) == (200, OK)
    for sock in flood:
        sock.close()
    assert len(lines(tmp_path / "events.jsonl")) == 1
    assert "Traceback" not in captured.stderr.getvalue()


# --------------------------------------------------------------------------------------------
# --exec, --forward-to and hooks


def test_exec_gets_each_event_in_order_on_stdin(start: Any, tmp_path: Path):
    seen = tmp_path / "seen.jsonl"
    listener, captured = start(exec_command=f"cat >> {seen}; echo >> {seen}")
    for n in range(5):
        post(listener.url, status_push(receipt(n)))
    listener.close()
    got = [json.loads(line) for line in seen.read_text().splitlines() if line.strip()]
    assert [e["SessionNo"] for e in got] == [f"d0f7-0fc3-{n:06d}" for n in range(5)]
    assert "failed" not in captured.stderr.getvalue()


def test_a_slow_or_failing_exec_never_delays_the_answer_and_is_logged(start: Any):
    listener, captured = start(exec_command="sleep 5", exec_timeout=0.3, attempts=2)
    for n in range(3):
        began = time.monotonic()
        assert post(listener.url, status_push(receipt(n))) == (200, OK)
        assert time.monotonic() - began < 0.25
    log = captured.wait_for("giving up")
    assert "timed out after 0.3 s" in log and "attempt 1/2; retrying" in log
    failing, captured = start(exec_command="exit 3", out=Path("failing.jsonl"))
    assert post(failing.url, status_push(receipt(0))) == (200, OK)
    log = captured.wait_for("attempt 3/3; giving up")
    assert "exit status 3" in log and "13800008000" not in log


def test_forward_to_posts_each_event_and_retries_a_failure(start: Any, httpserver: Any):
    from werkzeug import Request, Response

    received: list[tuple[str, dict[str, Any]]] = []

    def handler(request: Request) -> Response:
        received.append((request.headers["X-Usms-Event-Key"], request.get_json()))
        return Response("busy", status=503 if len(received) == 1 else 200)

    httpserver.expect_request("/hook", method="POST").respond_with_handler(handler)
    listener, captured = start(forward_to=httpserver.url_for("/hook"))
    assert post(listener.url, reply_push("T")) == (200, OK)
    captured.wait_for("HTTP 503")
    deadline = time.monotonic() + 5
    while len(received) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(received) == 2 and received[0] == received[1]
    key, event = received[1]
    assert event["opt_out"] is True and event["key"] == key


def test_on_event_hooks_see_each_new_event_once_and_a_failing_hook_is_only_logged(
    start: Any,
):
    got: list[PushEvent] = []

    def broken(event: PushEvent) -> None:
        raise RuntimeError("history is locked")

    listener, captured = start(on_event=[broken, got.append])
    for _ in range(2):
        assert post(listener.url, reply_push("退订")) == (200, OK)
    listener.close()
    assert [(e.kind, e.opt_out) for e in got] == [("reply", True)]
    assert "history is locked" in captured.stderr.getvalue()


# --------------------------------------------------------------------------------------------
# The command


def test_listen_refuses_a_public_address_unless_asked(tmp_path: Path):
    result = run_usms("listen", "--host", "0.0.0.0", "--port", "0")
    assert result.exit_code == 2 and "--public" in result.stderr
    result = run_usms("listen", "--path", "no-slash")
    assert result.exit_code == 2 and "--random-path" in result.stderr


def test_random_path_prints_a_long_unguessable_path():
    first, second = run_usms("listen", "--random-path"), run_usms("listen", "--random-path")
    assert first.exit_code == 0
    assert re.fullmatch(r"/usms-[A-Za-z0-9_-]{32}\n", first.stdout)
    assert first.stdout != second.stdout


def _start_process(out: Path, *args: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "usms_cli", "listen", "--port", "0", "--out", str(out), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    line = proc.stderr.readline()
    match = re.search(r"http://127\.0\.0\.1:\d+/\S*", line)
    assert match, line + (proc.stderr.read() if proc.poll() is not None else "")
    return proc, match.group(0)


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_while_serving_stops_cleanly_with_every_answered_push_in_the_file(
    tmp_path: Path, stop_signal: int
):
    out = tmp_path / "events.jsonl"
    proc, url = _start_process(out, "-q")
    answered: list[str] = []
    stop = threading.Event()

    def pusher(worker: int) -> None:
        n = 0
        while not stop.is_set():
            session = f"w{worker}-{n}"
            try:
                if post(url, status_push(receipt(0, SessionNo=session))) == (200, OK):
                    answered.append(session)
            except OSError:
                return
            n += 1

    threads = [threading.Thread(target=pusher, args=(w,)) for w in range(4)]
    try:
        for thread in threads:
            thread.start()
        while len(answered) < 50:
            time.sleep(0.01)
        proc.send_signal(stop_signal)
        assert proc.wait(timeout=15) == 0
    finally:
        stop.set()
        for thread in threads:
            thread.join()
        if proc.poll() is None:
            proc.kill()
        _, err = proc.communicate(timeout=10)
    events = lines(out)  # every line is whole JSON
    recorded = {e["SessionNo"] for e in events}
    assert set(answered) <= recorded
    assert len(events) == len(recorded)
    assert "stopped;" in heard(err) and "Traceback" not in err


# --------------------------------------------------------------------------------------------
# The parser


@pytest.mark.parametrize(
    "text",
    ["T", "t", " TD ", "Ｔ", "【退订】", "退订。", "回T", "r!", "N", "取消", "Stop", "T\u200b"],
)
def test_opt_out_keywords_are_recognised(text: str) -> None:
    assert is_opt_out(text)


@pytest.mark.parametrize("text", ["", "好的", "请别退订", "TT", "Thanks", "t d x", "123"])
def test_other_replies_are_not_opt_outs(text: str) -> None:
    assert not is_opt_out(text)


def test_the_opt_out_list_can_be_replaced(start: Any, tmp_path: Path) -> None:
    listener, _ = start(opt_out_words=["BYE", "不要"])
    post(listener.url, reply_push("T"))
    post(listener.url, reply_push("bye!", at=5))
    assert [e["opt_out"] for e in lines(tmp_path / "events.jsonl")] == [False, True]


def test_pulled_reports_parse_like_pushed_ones_with_the_same_keys() -> None:
    items = [receipt(0), receipt(1, ReceiptResult="Fail")]
    pulled = parse_pull_report({"RetCode": 0, "ReqUuid": "r", "ReportSet": items})
    pushed = parse_push(status_push(*items))
    assert pulled == pushed
    assert [e.result for e in pulled] == ["delivered", "failed"]
    assert parse_pull_report({"RetCode": 0}) == []


def test_numbers_sent_as_numbers_and_unknown_fields_are_kept() -> None:
    (event,) = parse_push(status_push(receipt(0, Phone=13800008000, CostCount="3", Carrier="CMCC")))
    assert event.phone == "13800008000" and event.cost_count == 3
    assert event.as_json()["extra"] == {"Carrier": "CMCC"}


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=6)
    ),
    max_leaves=30,
)
field_names = st.sampled_from(
    ["SessionNo", "Phone", "CostCount", "ReceiptTime", "ReceiptResult", "ReplyContent", "x"]
)
pushes = st.fixed_dictionaries(
    {
        "MsgType": st.sampled_from([0, 2, "2", 1, None, 2.0, True]),
        "Data": st.lists(st.dictionaries(field_names, json_values, max_size=7), max_size=4)
        | json_values,
    }
)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=300) | pushes.map(lambda p: json.dumps(p).encode()))
def test_any_body_either_parses_or_is_rejected_cleanly(body: bytes) -> None:
    try:
        events = parse_push(body)
    except PushRejected as exc:
        assert str(exc)
        return
    for event in events:
        assert event.kind in ("receipt", "reply") and event.phone and len(event.key) == 32
        json.dumps(event.as_json())
        assert parse_push(body) == events  # the same body, the same keys


def test_deeply_nested_json_is_rejected_not_crashing() -> None:
    with pytest.raises(PushRejected):
        parse_push(b"[" * 30000 + b"]" * 30000)
