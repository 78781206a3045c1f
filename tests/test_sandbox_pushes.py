"""The sandbox pushes receipts and replies as UCloud does (``--push-to``, ``usms sandbox
reply``), and ``usms receipt --pull`` (PullUSMSReport) pages through what is waiting, against
the sandbox and pytest-httpserver."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.conftest import env_for, run_unchecked, run_usms
from usms_cli.core.pushes import parse_push
from usms_cli.sandbox import SandboxConfig, SandboxServer, start_sandbox

OK = json.dumps({"code": 0, "message": "ok"})


class Hook:
    """A push URL on pytest-httpserver that records each body and answers as told."""

    def __init__(self, httpserver: Any, answers: list[tuple[int, str]] | None = None) -> None:
        from werkzeug import Request, Response

        self.bodies: list[dict[str, Any]] = []
        self.answers = list(answers or [])

        def handler(request: Request) -> Response:
            self.bodies.append(json.loads(request.get_data()))
            status, text = self.answers.pop(0) if self.answers else (200, OK)
            return Response(text, status=status, content_type="application/json")

        httpserver.expect_request("/push", method="POST").respond_with_handler(handler)
        self.url = httpserver.url_for("/push")

    def wait(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.bodies) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.bodies


def send(sandbox: SandboxServer, *phones: str, **env: str) -> Any:
    return run_usms("send", "-p", "123456", *phones, "--json", env={**env_for(sandbox), **env}).json


@pytest.fixture
def pushing(sandbox: SandboxServer, httpserver: Any) -> tuple[SandboxServer, Hook]:
    hook = Hook(httpserver)
    sandbox.config.push_to = hook.url
    sandbox.config.push_retry_delay = 0.05
    return sandbox, hook


def test_receipts_are_pushed_in_ucloud_format_several_per_post(pushing: Any) -> None:
    sandbox, hook = pushing
    phones = [f"1380000{i:04d}" for i in range(5)]
    session_no = send(sandbox, *phones)["session_nos"][0]
    body = hook.wait(1)[0]
    assert body["MsgType"] == 2 and len(body["Data"]) == 5  # one POST for the five
    item = body["Data"][0]
    assert set(item) == {
        "SessionNo", "Phone", "CostCount", "ReceiptTime", "ReceiptResult", "ReceiptCode",
        "ReceiptDesc", "UserId",
    }  # fmt: skip
    assert item["SessionNo"] == session_no and item["ReceiptResult"] == "Success"
    events = parse_push(json.dumps(body).encode())  # what usms listen reads
    assert {e.phone for e in events} == set(phones) and {e.result for e in events} == {"delivered"}


def test_a_failed_push_is_retried_3_times_then_dropped(sandbox: SandboxServer, httpserver: Any):
    hook = Hook(httpserver, [(500, "oops"), (200, '{"code":1}'), (200, "not json"), (200, OK)])
    sandbox.config.push_to = hook.url
    sandbox.config.push_retry_delay = 0.05
    send(sandbox, "13800000001")
    bodies = hook.wait(4)
    assert len(bodies) == 4 and bodies[0] == bodies[3]  # the 4th try was answered {"code":0}
    time.sleep(0.3)
    assert len(hook.bodies) == 4  # and not pushed again

    hook.answers = [(503, "busy")] * 4
    send(sandbox, "13800000002")
    assert len(hook.wait(8)) == 8
    time.sleep(0.3)
    assert len(hook.bodies) == 8  # 1 try + 3 retries, then it gives up


def test_an_unreachable_push_url_does_not_disturb_sending(sandbox: SandboxServer) -> None:
    from tests.conftest import closed_port

    sandbox.config.push_to = f"http://127.0.0.1:{closed_port()}/push"
    sandbox.config.push_retry_delay = 0.01
    sent = send(sandbox, "13800000001")
    assert sent["ok"]
    wait = ("--wait", "--wait-interval", "0.1")
    run_usms("receipt", sent["session_nos"][0], *wait, env=env_for(sandbox))  # still answered


def test_a_reply_is_pushed_with_the_last_messages_extend_code_and_user_id(pushing: Any) -> None:
    sandbox, hook = pushing
    run_usms(
        "send", "-p", "123456", "--extend-code", "123", "--user-id", "order-7", "13800000001",
        env=env_for(sandbox),
    )  # fmt: skip
    hook.wait(1)
    result = run_usms("sandbox", "reply", "+8613800000001", "TD", "--url", sandbox.base_url)
    assert "Reply from 138****0001 pushed." in result.stdout
    reply = hook.wait(2)[-1]
    assert reply["MsgType"] == 0 and len(reply["Data"]) == 1
    item = reply["Data"][0]
    assert item["ExtendCode"] == "123" and item["UserId"] == "order-7"
    assert item["Phone"] == "13800000001" and item["ReplyContent"] == "TD"
    assert isinstance(item["ReplyTime"], int)
    event = parse_push(json.dumps(reply).encode())[0]
    assert event.opt_out
    as_json = run_usms(
        "sandbox", "reply", "13800000001", "谢谢", "--json", "--url", sandbox.base_url
    )
    assert as_json.json["ok"] and as_json.json["reply"]["Phone"] == "13800000001"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (("12345", "TD"), "wrong length"),
        (("13800000001", " "), "TEXT is empty"),
        (("13900000000", "TD"), "sent nothing to 139****0000"),
    ],
)
def test_reply_refuses_bad_input_with_exit_2(pushing: Any, args: tuple[str, str], says: str):
    sandbox, _ = pushing
    send(sandbox, "13800000001")
    result = run_unchecked("sandbox", "reply", *args, "--url", sandbox.base_url)
    assert result.exit_code == 2 and says in result.stderr


def test_reply_needs_a_sandbox_with_push_to(sandbox: SandboxServer) -> None:
    send(sandbox, "13800000001")
    result = run_unchecked("sandbox", "reply", "13800000001", "TD", "--url", sandbox.base_url)
    assert result.exit_code == 2 and "--push-to" in result.stderr
    from tests.conftest import closed_port

    nobody = f"http://127.0.0.1:{closed_port()}"
    gone = run_unchecked("sandbox", "reply", "13800000001", "TD", "--url", nobody, "--json")
    assert gone.exit_code == 2 and "no sandbox answered" in gone.json["error"]


def test_reply_exits_4_when_the_push_url_keeps_refusing(sandbox: SandboxServer, httpserver: Any):
    hook = Hook(httpserver, [(200, OK)] + [(500, "down")] * 4)
    sandbox.config.push_to = hook.url
    sandbox.config.push_retry_delay = 0.01
    send(sandbox, "13800000001")
    hook.wait(1)
    result = run_unchecked("sandbox", "reply", "13800000001", "T", "--url", sandbox.base_url)
    assert result.exit_code == 4 and "HTTP 500" in result.stderr


def test_sandbox_push_to_must_be_a_url() -> None:
    result = run_unchecked("sandbox", "--port", "0", "--push-to", "localhost:8041")
    assert result.exit_code == 2 and "--push-to" in result.stderr


# --------------------------------------------------------------------------------------------
# usms receipt --pull


@pytest.fixture
def pulling() -> Any:
    config = SandboxConfig(receipt_delay=0.0, pull_enabled=True)
    with start_sandbox(config) as server:
        yield server


def test_pull_pages_200_at_a_time_until_empty_and_stores_in_history(
    pulling: SandboxServer, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("USMS_HISTORY", str(tmp_path / "h.sqlite3"))
    phones = [f"1390000{i:04d}" for i in range(450)]
    send(pulling, *phones)
    result = run_usms("receipt", "--pull", "--json", env=env_for(pulling)).json
    assert result["pulled"] == 450 and result["calls"] == 4  # 200 + 200 + 50 + empty
    assert result["counts"]["delivered"] == 450 and result["ok"] and not result["more_waiting"]
    assert pulling.request_counts["PullUSMSReport"] == 4
    history = run_usms("history", "--phone", phones[-1], "--json").json["sends"]
    assert history[0]["receipt"] == "delivered"
    again = run_usms("receipt", "--pull", env=env_for(pulling))  # each report is given once
    assert "no receipts yet" in again.stdout and "Pulled 0 reports in 1 call" in again.stderr


def test_pull_shows_reports_like_receipts_masked(pulling: SandboxServer) -> None:
    send(pulling, "13800000001")
    result = run_usms("receipt", "--pull", env=env_for(pulling))
    assert "138****0001" in result.stdout and "13800000001" not in result.stdout
    assert "Receipts: 1 delivered." in result.stdout


def test_pull_when_not_enabled_explains_in_one_sentence(sandbox: SandboxServer) -> None:
    result = run_unchecked("receipt", "--pull", env=env_for(sandbox))
    assert result.exit_code == 1
    assert "PullUSMSReport is off unless UCloud support enables it" in result.stderr
    as_json = run_unchecked("receipt", "--pull", "--json", env=env_for(sandbox))
    assert as_json.json["ok"] is False and "support enables it" in as_json.json["hint"]


def test_pull_takes_no_session_numbers(sandbox: SandboxServer) -> None:
    result = run_unchecked("receipt", "--pull", "--last", env=env_for(sandbox))
    assert result.exit_code == 2 and sandbox.request_counts["PullUSMSReport"] == 0


def test_pull_stops_after_50_calls_and_says_more_may_wait(httpserver: Any) -> None:
    from werkzeug import Request, Response

    from tests.conftest import creds

    calls: list[str] = []

    def handler(request: Request) -> Response:
        form = request.form if request.form else request.args
        calls.append(form.get("Limit", ""))
        n = len(calls)
        item = {
            "SessionNo": f"aa-{n}", "Phone": "13800000001", "CostCount": 1,
            "ReceiptTime": 1700000000, "ReceiptResult": "Success", "ReceiptCode": "DELIVRD",
            "ReceiptDesc": "ok", "UserId": "",
        }  # fmt: skip
        body = {"Action": "PullUSMSReportResponse", "RetCode": 0, "ReportSet": [item]}
        return Response(json.dumps(body), content_type="application/json")

    httpserver.expect_request("/").respond_with_handler(handler)
    env = {**creds(), "UCLOUD_API_BASE_URL": httpserver.url_for("/").rstrip("/")}
    result = run_unchecked("receipt", "--pull", "--json", env=env)
    assert len(calls) == 50 and set(calls) == {"200"}
    assert result.json["more_waiting"] is True and result.json["pulled"] == 50
    human = run_unchecked("receipt", "--pull", env=env)
    assert "stopped after 50 calls" in human.stderr


def test_reports_already_pulled_are_kept_when_a_later_call_fails(httpserver: Any) -> None:
    from werkzeug import Request, Response

    from tests.conftest import creds

    calls: list[int] = []

    def handler(request: Request) -> Response:
        calls.append(1)
        if len(calls) > 1:
            return Response("down", status=502)
        item = {"SessionNo": "aa-1", "Phone": "13800000001", "ReceiptResult": "Success"}
        body = {"Action": "PullUSMSReportResponse", "RetCode": 0, "ReportSet": [item]}
        return Response(json.dumps(body), content_type="application/json")

    httpserver.expect_request("/").respond_with_handler(handler)
    env = {**creds(), "UCLOUD_API_BASE_URL": httpserver.url_for("/").rstrip("/")}
    result = run_unchecked("receipt", "--pull", "--json", env=env)
    assert result.exit_code == 5 and result.json["pulled"] == 1 and result.json["error"]
    assert result.json["receipts"][0]["Phone"] == "13800000001"


def test_pull_from_an_unreachable_api_exits_4() -> None:
    from tests.conftest import closed_port, creds

    env = {**creds(), "UCLOUD_API_BASE_URL": f"http://127.0.0.1:{closed_port()}"}
    result = run_unchecked("receipt", "--pull", "--json", env=env)
    assert result.exit_code == 4 and result.json["ok"] is False
