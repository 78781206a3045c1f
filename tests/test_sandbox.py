"""The local USMS sandbox: a real server on 127.0.0.1, real HTTP, the official SDK; no mocks."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests

from usms_cli.core.signing import signed_params
from usms_cli.sandbox import (
    DEFAULT_PRIVATE_KEY,
    DEFAULT_PROJECT_ID,
    DEFAULT_PUBLIC_KEY,
    DEFAULT_SIG_ID,
    DEFAULT_SIGNATURE,
    DEFAULT_TEMPLATE_ID,
    SandboxConfig,
    SandboxServer,
    Signature,
    Template,
    load_config_file,
    serve_forever,
    start_sandbox,
)

REPO = Path(__file__).resolve().parents[1]
DELAY = 0.2  # receipts: as in the shared ``sandbox`` fixture (tests/conftest.py)


# ---- helpers ------------------------------------------------------------------------------


def signed(
    params: dict[str, Any],
    public_key: str = DEFAULT_PUBLIC_KEY,
    private_key: str = DEFAULT_PRIVATE_KEY,
) -> dict[str, str]:
    return signed_params(params, public_key, private_key)


def call(server: SandboxServer, params: dict[str, Any], **keys: str) -> dict[str, Any]:
    response = requests.post(server.base_url, data=signed(params, **keys), timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    assert len(response.headers["X-UCLOUD-REQUEST-UUID"]) == 36
    answer: dict[str, Any] = response.json()
    assert answer["Action"] == f"{params.get('Action', '')}Response"
    return answer


def send_params(**overrides: Any) -> dict[str, Any]:
    params: dict[str, Any] = {
        "Action": "SendUSMSMessage",
        "ProjectId": DEFAULT_PROJECT_ID,
        "PhoneNumbers": ["13800000000"],
        "TemplateId": DEFAULT_TEMPLATE_ID,
        "TemplateParams": ["123456"],
        "SigContent": DEFAULT_SIGNATURE,
    }
    params.update(overrides)
    return {key: value for key, value in params.items() if value is not None}


def receipts(server: SandboxServer, *session_nos: str) -> list[dict[str, Any]]:
    answer = call(server, {"Action": "GetUSMSSendReceipt", "SessionNoSet": list(session_nos)})
    assert answer["RetCode"] == 0, answer
    data: list[dict[str, Any]] = answer["Data"]
    return data


def still_serving(server: SandboxServer) -> None:
    answer = call(server, {"Action": "QueryUSMSTemplate", "TemplateId": DEFAULT_TEMPLATE_ID})
    assert answer["RetCode"] == 0


# ---- sending ------------------------------------------------------------------------------


def test_send_returns_a_session_no_and_records_the_rendered_message(
    sandbox: SandboxServer,
) -> None:
    answer = call(sandbox, send_params(UserId="order-42"))
    assert answer["RetCode"] == 0, answer
    assert answer["Message"] == "提交发送成功"
    assert answer["UserId"] == "order-42"
    session_no = answer["SessionNo"]
    assert len(session_no) == 36
    [message] = sandbox.messages
    assert message["session_no"] == session_no
    assert message["phone"] == "13800000000"
    assert message["sig"] == DEFAULT_SIGNATURE
    assert message["template_id"] == DEFAULT_TEMPLATE_ID
    assert list(message["params"]) == ["123456"]
    assert message["text"] == "【USMSSandbox】您的验证码是123456，5分钟内有效。"
    assert message["user_id"] == "order-42"
    assert message["extend_code"] == ""
    assert abs(message["time"] - time.time()) < 5
    assert sandbox.request_counts["SendUSMSMessage"] == 1


def test_user_id_is_not_echoed_when_not_sent(sandbox: SandboxServer) -> None:
    answer = call(sandbox, send_params())
    assert answer["RetCode"] == 0 and "UserId" not in answer


def test_international_numbers_get_square_brackets(sandbox: SandboxServer) -> None:
    numbers = ["(1)4155550100", "(86)13800000000", "(0086)13800000001", "8613800000002"]
    assert call(sandbox, send_params(PhoneNumbers=numbers))["RetCode"] == 0
    texts = [message["text"] for message in sandbox.messages]
    assert texts[0].startswith("[USMSSandbox]")
    assert all(text.startswith("【USMSSandbox】") for text in texts[1:])
    assert [message["phone"] for message in sandbox.messages] == numbers


def test_protocol_documentation_vectors_are_accepted() -> None:
    """The exact bodies and signatures from the API notes (§1.3), built without our signer."""
    config = SandboxConfig(
        public_key="pubkey",
        private_key="privkey",
        templates={"UTA1234": Template("UTA1234", "验证码{1}")},
        signatures={"UCloud": Signature("S1", "UCloud"), "优刻得": Signature("S2", "优刻得")},
    )
    ascii_body = (
        "Action=SendUSMSMessage&ProjectId=org-test&PhoneNumbers.0=18500000000"
        "&PhoneNumbers.1=%2886%2913800000000&SigContent=UCloud&TemplateId=UTA1234"
        "&TemplateParams.0=123456&PublicKey=pubkey"
        "&Signature=0d4a8be7be4bcd00f96ab63cdab13418d84dd168"
    )
    chinese_body = (
        "Action=SendUSMSMessage&ProjectId=org-test&PhoneNumbers.0=18500000000"
        f"&SigContent={quote('优刻得')}&TemplateId=UTA1234&TemplateParams.0={quote('验证码123')}"
        "&PublicKey=pubkey&Signature=ef026fafd520c79888165e581636b9e5bcefde7c"
    )
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    with start_sandbox(config) as server:
        for body in (ascii_body, chinese_body):
            response = requests.post(server.base_url, data=body, headers=headers, timeout=5)
            assert response.json()["RetCode"] == 0, response.json()
        assert server.messages[-1]["text"] == "【优刻得】验证码验证码123"


def test_chinese_signature_and_params_signed_with_our_signer() -> None:
    config = SandboxConfig(signatures={"优刻得": Signature("SIGUC", "优刻得")})
    with start_sandbox(config) as server:
        answer = call(server, send_params(SigContent="优刻得", TemplateParams=["验证码123"]))
        assert answer["RetCode"] == 0, answer
        assert server.messages[0]["text"] == "【优刻得】您的验证码是验证码123，5分钟内有效。"
        # Tampering with one character of a Chinese value breaks the signature.
        form = signed(send_params(SigContent="优刻得", TemplateParams=["验证码123"]))
        form["TemplateParams.0"] = "验证码124"
        tampered = requests.post(server.base_url, data=form, timeout=5).json()
        assert tampered["RetCode"] == 171


def test_wrong_private_key_is_171(sandbox: SandboxServer) -> None:
    answer = call(sandbox, send_params(), private_key="not-the-key")
    assert answer["RetCode"] == 171
    assert answer["Message"] == "Signature VerifyAC Error"
    assert sandbox.messages == []
    assert sandbox.request_counts["SendUSMSMessage"] == 1


def test_unknown_public_key_is_172(sandbox: SandboxServer) -> None:
    answer = call(sandbox, send_params(), public_key="someone-else")
    assert answer["RetCode"] == 172
    assert "not exist" in answer["Message"]


def test_gateway_checks_in_order(sandbox: SandboxServer) -> None:
    def post(form: dict[str, str]) -> dict[str, Any]:
        answer: dict[str, Any] = requests.post(sandbox.base_url, data=form, timeout=5).json()
        return answer

    assert post({})["RetCode"] == 160
    assert post({})["Message"] == "Missing Action"
    no_signature = signed(send_params())
    del no_signature["Signature"]
    assert post(no_signature)["RetCode"] == 170
    no_public_key = signed(send_params())
    del no_public_key["PublicKey"]
    assert post(no_public_key)["RetCode"] == 172
    unknown = post(signed({"Action": "DescribeUHostInstance"}))
    assert unknown == {
        "Action": "DescribeUHostInstanceResponse",
        "RetCode": 161,
        "Message": "Action does not exist",
    }
    # An unknown action with a bad signature is a signature error first.
    assert post(signed({"Action": "Nope"}, private_key="x"))["RetCode"] == 171


@pytest.mark.parametrize(
    ("overrides", "code", "needle"),
    [
        ({"TemplateId": None}, 18001, "TemplateId"),
        ({"PhoneNumbers": None}, 18001, "PhoneNumbers"),
        ({"PhoneNumbers": ["1380000000"]}, 18014, "1380000000"),
        ({"PhoneNumbers": ["13800000000", "+8613800000001"]}, 18014, "+8613800000001"),
        ({"PhoneNumbers": ["(86)12345"]}, 18014, "(86)12345"),
        ({"PhoneNumbers": ["(12345)4155550100"]}, 18014, "(12345)"),
        ({"TemplateParams": None}, 18018, "1 variable"),
        ({"TemplateParams": ["1", "2"]}, 18018, "2 TemplateParams"),
        ({"TemplateId": "UTNOPE"}, 18017, "UTNOPE"),
        ({"SigContent": None}, 18016, "SigContent"),
        ({"SigContent": "Unknown"}, 18016, "Unknown"),
        ({"UserId": "x" * 33}, 18002, "UserId"),
        ({"ExtendCode": "12a"}, 18002, "ExtendCode"),
    ],
)
def test_send_refusals(
    sandbox: SandboxServer, overrides: dict[str, Any], code: int, needle: str
) -> None:
    answer = call(sandbox, send_params(**overrides))
    assert answer["RetCode"] == code, answer
    assert needle in answer["Message"]
    assert "SessionNo" not in answer
    assert sandbox.messages == []


def test_absurd_indexes_are_ignored_not_fatal(sandbox: SandboxServer) -> None:
    params = send_params(PhoneNumbers=None)
    params["PhoneNumbers." + "1" * 5000] = "13800000000"
    answer = call(sandbox, params)
    assert answer["RetCode"] == 18001


def test_more_than_1000_numbers_is_18019_and_1000_is_fine(sandbox: SandboxServer) -> None:
    numbers = [f"138{index:08d}" for index in range(1001)]
    answer = call(sandbox, send_params(PhoneNumbers=numbers))
    assert answer["RetCode"] == 18019
    assert sandbox.messages == []
    assert call(sandbox, send_params(PhoneNumbers=numbers[:1000]))["RetCode"] == 0
    assert len(sandbox.messages) == 1000
    assert sandbox.messages[10]["phone"] == numbers[10]  # numeric index order, not "10" < "2"


def test_unapproved_template_and_signature_are_refused() -> None:
    config = SandboxConfig()
    config.templates["UTPEND"] = Template("UTPEND", "Hi {1}", status=1)
    config.signatures["Pending"] = Signature("SIGP", "Pending", status=3, err_desc="no proof")
    with start_sandbox(config) as server:
        assert call(server, send_params(TemplateId="UTPEND"))["RetCode"] == 18017
        answer = call(server, send_params(SigContent="Pending"))
        assert answer["RetCode"] == 18016 and "not approved" in answer["Message"]


def test_template_without_variables_and_repeated_variables() -> None:
    config = SandboxConfig(
        templates={
            "UTPLAIN": Template("UTPLAIN", "Service restored."),
            "UTTWICE": Template("UTTWICE", "{1} and {2}, again {1}"),
        }
    )
    with start_sandbox(config) as server:
        assert call(server, send_params(TemplateId="UTPLAIN", TemplateParams=None))["RetCode"] == 0
        assert call(server, send_params(TemplateId="UTPLAIN"))["RetCode"] == 18018
        answer = call(server, send_params(TemplateId="UTTWICE", TemplateParams=["a", "b"]))
        assert answer["RetCode"] == 0
        assert [m["text"] for m in server.messages] == [
            "【USMSSandbox】Service restored.",
            "【USMSSandbox】a and b, again a",
        ]


def test_fail_rate_one_refuses_everything_with_18004() -> None:
    with start_sandbox(SandboxConfig(fail_rate=1.0)) as server:
        answer = call(server, send_params())
        assert answer["RetCode"] == 18004
        assert "SessionNo" not in answer
        assert server.messages == []


def test_fail_rate_is_reproducible_with_a_seed() -> None:
    def outcomes() -> list[int]:
        with start_sandbox(SandboxConfig(fail_rate=0.5, seed=7)) as server:
            return [call(server, send_params())["RetCode"] for _ in range(12)]

    first = outcomes()
    assert first == outcomes()
    assert set(first) == {0, 18004}


def test_latency_is_applied() -> None:
    with start_sandbox(SandboxConfig(latency_ms=150)) as server:
        started = time.monotonic()
        call(server, send_params())
        assert time.monotonic() - started >= 0.15


# ---- receipts -----------------------------------------------------------------------------


def test_receipts_appear_after_the_delay_with_fail_numbers() -> None:
    config = SandboxConfig(receipt_delay=DELAY, fail_numbers={"13800000001", "(1)4155550199"})
    with start_sandbox(config) as server:
        numbers = ["13800000000", "(86)13800000001", "(1)4155550199"]
        answer = call(server, send_params(PhoneNumbers=numbers, UserId="u-1"))
        session_no = answer["SessionNo"]
        assert receipts(server, session_no) == [{"SessionNo": session_no, "ReceiptSet": []}]
        time.sleep(DELAY + 0.05)
        [session] = receipts(server, session_no, "unknown-session")[:1]
        by_phone = {receipt["Phone"]: receipt for receipt in session["ReceiptSet"]}
        assert list(by_phone) == numbers
        ok = by_phone["13800000000"]
        assert ok["ReceiptResult"] == "Success"
        assert ok["ReceiptCode"] == "DELIVRD"
        assert ok["ReceiptDesc"] == "用户接收成功"
        assert ok["CostCount"] == 1
        assert ok["UserId"] == "u-1"
        assert isinstance(ok["ReceiptTime"], int)
        assert abs(ok["ReceiptTime"] - time.time()) < 5
        for failed in ("(86)13800000001", "(1)4155550199"):
            assert by_phone[failed]["ReceiptResult"] == "Fail"
            assert by_phone[failed]["ReceiptCode"] == "UNDELIVRD"
            assert by_phone[failed]["ReceiptDesc"] == "用户接收失败"
        unknown = receipts(server, "unknown-session")
        assert unknown == [{"SessionNo": "unknown-session", "ReceiptSet": []}]


def test_cost_count_follows_segment_rules() -> None:
    config = SandboxConfig(receipt_delay=0, templates={"UTLONG": Template("UTLONG", "{1}")})
    with start_sandbox(config) as server:
        # "【USMSSandbox】" is 13 characters.
        lengths = {57: 1, 58: 2, 134 - 13: 2, 135 - 13: 3}
        expected = {}
        for body_length, cost in lengths.items():
            answer = call(
                server, send_params(TemplateId="UTLONG", TemplateParams=["x" * body_length])
            )
            expected[answer["SessionNo"]] = cost
        data = receipts(server, *expected)
        assert {item["SessionNo"]: item["ReceiptSet"][0]["CostCount"] for item in data} == expected


def test_receipt_request_limits(sandbox: SandboxServer) -> None:
    missing = call(sandbox, {"Action": "GetUSMSSendReceipt"})
    assert missing["RetCode"] == 18001 and "SessionNoSet" in missing["Message"]
    too_many = call(sandbox, {"Action": "GetUSMSSendReceipt", "SessionNoSet": ["s"] * 101})
    assert too_many["RetCode"] == 18002
    assert (
        call(sandbox, {"Action": "GetUSMSSendReceipt", "SessionNoSet": ["s"] * 100})["RetCode"] == 0
    )


# ---- queries and the config file ----------------------------------------------------------


def test_query_default_template_and_signature(sandbox: SandboxServer) -> None:
    template = call(sandbox, {"Action": "QueryUSMSTemplate", "TemplateId": DEFAULT_TEMPLATE_ID})
    assert template["RetCode"] == 0
    data = template["Data"]
    assert data["TemplateId"] == DEFAULT_TEMPLATE_ID
    assert data["Template"] == "您的验证码是{1}，5分钟内有效。"
    assert data["Purpose"] == 1 and data["Status"] == 2
    assert data["UnsubscribeInfo"] == "" and data["Instruction"] == ""
    assert isinstance(data["CreateTime"], int)
    assert set(data) >= {"TemplateName", "Remark", "ErrDesc"}

    by_content = call(sandbox, {"Action": "QueryUSMSSignature", "SigContent": DEFAULT_SIGNATURE})
    by_id = call(sandbox, {"Action": "QueryUSMSSignature", "SigId": DEFAULT_SIG_ID})
    expected = {
        "SigId": DEFAULT_SIG_ID,
        "SigContent": DEFAULT_SIGNATURE,
        "Status": 2,
        "ErrDesc": "",
    }
    assert by_content["Data"] == expected == by_id["Data"]

    assert call(sandbox, {"Action": "QueryUSMSTemplate"})["RetCode"] == 18001
    assert call(sandbox, {"Action": "QueryUSMSTemplate", "TemplateId": "UTX"})["RetCode"] == 18017
    assert call(sandbox, {"Action": "QueryUSMSSignature"})["RetCode"] == 18001
    assert call(sandbox, {"Action": "QueryUSMSSignature", "SigId": "NOPE"})["RetCode"] == 18016


def test_templates_and_signatures_from_a_toml_file(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.toml"
    path.write_text(
        """
[[template]]
id = "UTA001"
text = "Hello {1}, your order {2} has shipped"
purpose = 2
status = 2
name = "shipping"

[[template]]
id = "UTREJ"
text = "Buy now"
purpose = 3
status = 3
err_desc = "marketing needs an opt-out"

[[signature]]
content = "Acme"
id = "SIG001"

[[signature]]
content = "优刻得"
id = "SIG002"
status = 1
""",
        encoding="utf-8",
    )
    templates, signatures = load_config_file(path)
    assert set(templates) == {DEFAULT_TEMPLATE_ID, "UTA001", "UTREJ"}
    assert set(signatures) == {DEFAULT_SIGNATURE, "Acme", "优刻得"}
    config = SandboxConfig(templates=templates, signatures=signatures)
    with start_sandbox(config) as server:
        rejected = call(server, {"Action": "QueryUSMSTemplate", "TemplateId": "UTREJ"})["Data"]
        assert (rejected["Status"], rejected["Purpose"]) == (3, 3)
        assert rejected["ErrDesc"] == "marketing needs an opt-out"
        shipping = call(server, {"Action": "QueryUSMSTemplate", "TemplateId": "UTA001"})["Data"]
        assert shipping["TemplateName"] == "shipping"
        sig = call(server, {"Action": "QueryUSMSSignature", "SigContent": "优刻得"})["Data"]
        assert sig == {"SigId": "SIG002", "SigContent": "优刻得", "Status": 1, "ErrDesc": ""}
        answer = call(
            server,
            send_params(TemplateId="UTA001", TemplateParams=["Ann", "#9"], SigContent="Acme"),
        )
        assert answer["RetCode"] == 0
        assert server.messages[0]["text"] == "【Acme】Hello Ann, your order #9 has shipped"
        assert (
            call(server, send_params(TemplateId="UTREJ", TemplateParams=None))["RetCode"] == 18017
        )
        assert call(server, send_params(SigContent="优刻得"))["RetCode"] == 18016


def test_a_toml_file_can_override_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "override.toml"
    path.write_text(f'[[template]]\nid = "{DEFAULT_TEMPLATE_ID}"\ntext = "Code {{1}}"\n')
    templates, signatures = load_config_file(str(path))
    assert templates[DEFAULT_TEMPLATE_ID].text == "Code {1}"
    assert DEFAULT_SIGNATURE in signatures


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("[[template]\n", "not valid TOML"),
        ('[[template]]\ntext = "x"\n', "missing required key 'id'"),
        ('[[template]]\nid = "A"\ntext = "x"\nstatus = 9\n', "'status' must be one of"),
        ('[[template]]\nid = "A"\ntext = "x"\npurpose = true\n', "'purpose'"),
        ('[[template]]\nid = "A"\ntext = 5\n', "'text' must be a string"),
        ('[[template]]\nid = "A"\ntext = "x"\ncolour = "red"\n', "unknown key(s) colour"),
        ('[[signature]]\nid = "S"\n', "missing required key 'content'"),
        ('template = "x"\n', "array of tables"),
        ('[[templates]]\nid = "A"\n', "unknown key(s) templates"),
    ],
)
def test_bad_toml_files_raise_value_error_naming_the_file(
    tmp_path: Path, content: str, needle: str
) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError) as caught:
        load_config_file(path)
    assert str(path) in str(caught.value)
    assert needle in str(caught.value)


def test_missing_toml_file_raises_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="missing.toml"):
        load_config_file(tmp_path / "missing.toml")


# ---- transport ----------------------------------------------------------------------------


def test_get_with_a_query_string(sandbox: SandboxServer) -> None:
    response = requests.get(sandbox.base_url + "/any/path", params=signed(send_params()), timeout=5)
    assert response.status_code == 200
    assert response.json()["RetCode"] == 0
    assert len(sandbox.messages) == 1


def test_query_string_and_body_are_merged(sandbox: SandboxServer) -> None:
    form = signed(send_params())
    query = {"Action": form.pop("Action")}
    response = requests.post(sandbox.base_url, params=query, data=form, timeout=5)
    assert response.json()["RetCode"] == 0


def test_json_body(sandbox: SandboxServer) -> None:
    params = send_params(TemplateParams=["654321"])
    body = {**params, "PublicKey": DEFAULT_PUBLIC_KEY}
    body["Signature"] = signed(params)["Signature"]
    response = requests.post(sandbox.base_url, json=body, timeout=5)
    assert response.json()["RetCode"] == 0, response.json()
    assert list(sandbox.messages[0]["params"]) == ["654321"]


def test_chunked_body(sandbox: SandboxServer) -> None:
    body = "&".join(f"{key}={quote(value)}" for key, value in signed(send_params()).items())
    chunks = (body[index : index + 50].encode() for index in range(0, len(body), 50))
    response = requests.post(sandbox.base_url, data=chunks, timeout=5)
    assert response.json()["RetCode"] == 0


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"Action=SendUSMSMessage&PhoneNumbers.0=%zz", "application/x-www-form-urlencoded"),
        (b"Action=SendUSMSMessage&SigContent=%ff%fe", "application/x-www-form-urlencoded"),
        (b"Action=%E4%BC", "application/x-www-form-urlencoded"),
        (b'{"Action": "SendUSMSMessage",', "application/json"),
        (b"[1, 2, 3]", "application/json"),
        (b"\xff\xfe{}", "application/json"),
        (b"[" * 200_000, "application/json"),
    ],
)
def test_malformed_bodies_are_18000_and_the_server_keeps_serving(
    sandbox: SandboxServer, body: bytes, content_type: str, capfd: pytest.CaptureFixture[str]
) -> None:
    with requests.Session() as session:
        response = session.post(
            sandbox.base_url, data=body, headers={"Content-Type": content_type}, timeout=5
        )
        assert response.status_code == 200
        answer = response.json()
        assert answer["RetCode"] == 18000
        assert answer["Message"]
        # Same keep-alive connection, then a fresh one.
        assert (
            session.post(sandbox.base_url, data=signed(send_params()), timeout=5).json()["RetCode"]
            == 0
        )
    still_serving(sandbox)
    assert "Traceback" not in capfd.readouterr().err


def test_two_mib_body_is_413_and_the_server_keeps_serving(
    sandbox: SandboxServer, capfd: pytest.CaptureFixture[str]
) -> None:
    response = requests.post(sandbox.base_url, data=b"x" * (2 * 1024 * 1024), timeout=10)
    assert response.status_code == 413
    answer = response.json()
    assert answer["RetCode"] != 0 and "too large" in answer["Message"]
    assert response.headers["X-UCLOUD-REQUEST-UUID"]
    still_serving(sandbox)
    assert "Traceback" not in capfd.readouterr().err


def raw_exchange(server: SandboxServer, request: bytes) -> bytes:
    with socket.create_connection((server.host, server.port), timeout=5) as conn:
        conn.sendall(request)
        conn.shutdown(socket.SHUT_WR)  # nothing more will come
        chunks = []
        while chunk := conn.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_huge_declared_length_is_refused_without_waiting_for_the_body(
    sandbox: SandboxServer,
) -> None:
    answer = raw_exchange(
        sandbox, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 999999999999\r\n\r\n"
    )
    assert answer.startswith(b"HTTP/1.1 413")
    answer = raw_exchange(
        sandbox,
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000000\r\nExpect: 100-continue\r\n\r\n",
    )
    assert answer.startswith(b"HTTP/1.1 413")
    still_serving(sandbox)


def test_broken_framing_gets_an_answer_and_the_server_keeps_serving(
    sandbox: SandboxServer, capfd: pytest.CaptureFixture[str]
) -> None:
    bad_length = raw_exchange(sandbox, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n")
    assert bad_length.startswith(b"HTTP/1.1 400")
    assert b'"RetCode"' in bad_length
    garbage = raw_exchange(sandbox, b"\x16\x03\x01\x00garbage\r\n\r\n")
    assert garbage.startswith(b"HTTP/1.1 400")
    huge_length = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: " + b"9" * 5000 + b"\r\n\r\n"
    assert raw_exchange(sandbox, huge_length).startswith(b"HTTP/1.1 400")
    truncated = raw_exchange(sandbox, b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 50\r\n\r\nAc")
    assert truncated == b""  # it never arrived, so nothing is answered (the client went away)
    still_serving(sandbox)
    assert "Traceback" not in capfd.readouterr().err


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH", "OPTIONS", "BREW"])
def test_other_methods_are_405_and_the_server_keeps_serving(
    sandbox: SandboxServer, method: str
) -> None:
    response = requests.request(method, sandbox.base_url, data=b"Action=SendUSMSMessage", timeout=5)
    assert response.status_code == 405
    answer = response.json()
    assert answer["RetCode"] != 0 and method in answer["Message"]
    still_serving(sandbox)


def test_head_is_405_without_a_body(sandbox: SandboxServer) -> None:
    response = requests.head(sandbox.base_url, timeout=5)
    assert response.status_code == 405
    assert response.content == b""
    still_serving(sandbox)


def test_keep_alive_connections_are_reused_and_closed_on_close() -> None:
    server = start_sandbox()
    with requests.Session() as session:
        for _ in range(3):
            response = session.post(server.base_url, data=signed(send_params()), timeout=5)
            assert response.json()["RetCode"] == 0
        started = time.monotonic()
        server.close()
        server.close()  # idempotent
        assert time.monotonic() - started < 2
        with pytest.raises(requests.ConnectionError):
            session.post(server.base_url, data=signed(send_params()), timeout=2)
    assert len(server.messages) == 3


def test_concurrent_clients_and_a_stalled_one(sandbox: SandboxServer) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with socket.create_connection((sandbox.host, sandbox.port), timeout=5) as stalled:
        stalled.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Le")  # and then nothing
        with ThreadPoolExecutor(max_workers=10) as pool:
            numbers = [f"1390000{index:04d}" for index in range(30)]
            answers = list(
                pool.map(lambda n: call(sandbox, send_params(PhoneNumbers=[n])), numbers)
            )
    assert all(answer["RetCode"] == 0 for answer in answers)
    assert len({answer["SessionNo"] for answer in answers}) == 30
    assert sorted(message["phone"] for message in sandbox.messages) == numbers
    assert sandbox.request_counts["SendUSMSMessage"] == 30


def test_ipv6_loopback() -> None:
    try:
        server = start_sandbox(host="::1")
    except OSError:
        pytest.skip("no IPv6 loopback here")
    with server:
        assert server.base_url == f"http://[::1]:{server.port}"
        still_serving(server)


# ---- side outputs -------------------------------------------------------------------------


def test_record_path_gets_one_json_line_per_accepted_message(tmp_path: Path) -> None:
    record = tmp_path / "sent.jsonl"
    config = SandboxConfig(record_path=str(record))
    config.signatures["优刻得"] = Signature("SIGUC", "优刻得")
    with start_sandbox(config) as server:
        first = call(server, send_params(PhoneNumbers=["13800000000", "13800000001"]))
        call(server, send_params(PhoneNumbers=["bad"]))
        second = call(server, send_params(SigContent="优刻得", ExtendCode="12", UserId="u"))
        lines = record.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 3
    assert "优刻得" in lines[2]  # ensure_ascii=False
    rows = [json.loads(line) for line in lines]
    assert [row["session_no"] for row in rows] == [first["SessionNo"]] * 2 + [second["SessionNo"]]
    assert [row["phone"] for row in rows] == ["13800000000", "13800000001", "13800000000"]
    assert rows[2]["text"] == "【优刻得】您的验证码是123456，5分钟内有效。"
    assert (rows[2]["extend_code"], rows[2]["user_id"]) == ("12", "u")
    assert rows == json.loads(json.dumps(server.messages, ensure_ascii=False))


def test_unwritable_record_path_is_refused_at_start(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="record"):
        start_sandbox(SandboxConfig(record_path=str(tmp_path / "no" / "such" / "dir.jsonl")))


def test_display_prints_accepted_messages_without_markup(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with start_sandbox(SandboxConfig(display=True)) as server:
        answer = call(server, send_params(TemplateParams=["[bold]42[/bold]"]))
        call(server, send_params(PhoneNumbers=["12"]))
    err = capsys.readouterr().err
    assert "→ 13800000000" in err
    assert "【USMSSandbox】您的验证码是[bold]42[/bold]，5分钟内有效。" in err
    assert f"(session {answer['SessionNo'][:8]}…)" in err
    assert "18014" in err


# ---- starting and stopping ----------------------------------------------------------------


@pytest.mark.parametrize("host", ["0.0.0.0", "", "192.168.1.10", "::", "example.com"])
def test_non_loopback_hosts_are_refused(host: str) -> None:
    with pytest.raises(ValueError, match="loopback"):
        start_sandbox(host=host)
    with pytest.raises(ValueError, match="loopback"):
        serve_forever(host=host, port=0, out=sys.stdout)


@pytest.mark.parametrize("host", ["localhost", "127.0.0.2"])
def test_other_loopback_spellings_work(host: str) -> None:
    with start_sandbox(host=host) as server:
        assert server.base_url.startswith("http://127.0.0.")
        still_serving(server)


def test_bad_config_values_are_refused() -> None:
    with pytest.raises(ValueError, match="fail_rate"):
        start_sandbox(SandboxConfig(fail_rate=1.5))
    with pytest.raises(ValueError, match="latency_ms"):
        start_sandbox(SandboxConfig(latency_ms=-1))


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_serve_forever_prints_exports_and_stops_cleanly(
    tmp_path: Path, stop_signal: signal.Signals
) -> None:
    code = (
        "import sys\n"
        "from usms_cli.sandbox import serve_forever\n"
        "sys.exit(serve_forever(None, '127.0.0.1', 0, sys.stdout))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    try:
        assert process.stdout is not None
        banner: list[str] = []
        while len(banner) < 20:
            line = process.stdout.readline()
            assert line, "the sandbox exited before printing its banner"
            banner.append(line.rstrip("\n"))
            if line.startswith("export USMS_SIG_CONTENT="):
                break
        exports = dict(
            line.removeprefix("export ").split("=", 1)
            for line in banner
            if line.startswith("export ")
        )
        assert list(exports) == [
            "UCLOUD_API_BASE_URL",
            "UCLOUD_PUBLIC_KEY",
            "UCLOUD_PRIVATE_KEY",
            "UCLOUD_PROJECT_ID",
            "USMS_TEMPLATE_ID",
            "USMS_SIG_CONTENT",
        ]
        base_url = exports["UCLOUD_API_BASE_URL"]
        assert base_url.startswith("http://127.0.0.1:")
        assert base_url in banner[0]
        assert all(line.startswith(("#", "export ")) for line in banner)  # valid shell
        assert exports["UCLOUD_PUBLIC_KEY"] == DEFAULT_PUBLIC_KEY
        assert exports["USMS_TEMPLATE_ID"] == DEFAULT_TEMPLATE_ID
        answer = requests.post(base_url, data=signed(send_params()), timeout=5).json()
        assert answer["RetCode"] == 0
        process.send_signal(stop_signal)
        out, err = process.communicate(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert "Traceback" not in err
    assert "1 message(s) accepted" in out


# ---- the official SDK ---------------------------------------------------------------------


def sdk_client(server: SandboxServer, private_key: str = DEFAULT_PRIVATE_KEY) -> Any:
    pytest.importorskip("ucloud")
    from ucloud.services.usms.client import USMSClient

    return USMSClient(
        {
            "base_url": server.base_url,
            "project_id": DEFAULT_PROJECT_ID,
            "region": "cn-bj2",
            "public_key": DEFAULT_PUBLIC_KEY,
            "private_key": private_key,
        }
    )


def test_official_sdk_sends_and_reads_receipts() -> None:
    config = SandboxConfig(receipt_delay=DELAY, fail_numbers={"(1)4155550100"})
    with start_sandbox(config) as server:
        client = sdk_client(server)
        sent = client.send_usms_message(
            {
                "PhoneNumbers": ["13800000000", "(1)4155550100"],
                "SigContent": DEFAULT_SIGNATURE,
                "TemplateId": DEFAULT_TEMPLATE_ID,
                "TemplateParams": ["246810"],
                "UserId": "sdk",
            }
        )
        session_no = sent["SessionNo"]
        assert session_no == server.messages[0]["session_no"]
        assert sent["UserId"] == "sdk"
        assert server.messages[0]["text"] == "【USMSSandbox】您的验证码是246810，5分钟内有效。"
        time.sleep(DELAY + 0.05)
        answer = client.get_usms_send_receipt({"SessionNoSet": [session_no]})
        [session] = answer["Data"]
        assert session["SessionNo"] == session_no
        results = {r["Phone"]: r["ReceiptResult"] for r in session["ReceiptSet"]}
        assert results == {"13800000000": "Success", "(1)4155550100": "Fail"}
        template = client.query_usms_template({"TemplateId": DEFAULT_TEMPLATE_ID})
        assert template["Data"]["Template"] == "您的验证码是{1}，5分钟内有效。"
        signature = client.query_usms_signature({"SigContent": DEFAULT_SIGNATURE})
        assert signature["Data"]["SigId"] == DEFAULT_SIG_ID


def test_official_sdk_gets_171_for_a_wrong_private_key() -> None:
    with start_sandbox() as server:
        client = sdk_client(server, private_key="wrong-private-key")
        from ucloud.core.exc import RetCodeException

        with pytest.raises(RetCodeException) as caught:
            client.send_usms_message(
                {
                    "PhoneNumbers": ["13800000000"],
                    "SigContent": DEFAULT_SIGNATURE,
                    "TemplateId": DEFAULT_TEMPLATE_ID,
                    "TemplateParams": ["1"],
                }
            )
        assert caught.value.code == 171
        assert caught.value.message == "Signature VerifyAC Error"
        assert caught.value.request_uuid
        assert server.messages == []


# ---- SendBatchUSMSMessage -----------------------------------------------------------------


def b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode("ascii")


def task_content(*targets: dict[str, Any], **task: Any) -> str:
    document = [
        {
            "TemplateId": task.get("TemplateId", DEFAULT_TEMPLATE_ID),
            "SigContent": task.get("SigContent", DEFAULT_SIGNATURE),
            "Target": list(targets),
        }
    ]
    return b64(json.dumps(document, ensure_ascii=False).encode("utf-8"))


def batch(server: SandboxServer, content: str | None) -> dict[str, Any]:
    params: dict[str, Any] = {"Action": "SendBatchUSMSMessage", "ProjectId": DEFAULT_PROJECT_ID}
    if content is not None:
        params["TaskContent"] = content
    return call(server, params)


def test_batch_send_records_each_target_with_its_own_params(sandbox: SandboxServer) -> None:
    answer = batch(
        sandbox,
        task_content(
            {"Phone": "13800000000", "TemplateParams": ["111"], "UserId": "a", "ExtendCode": "7"},
            {"Phone": "(1)4155550100", "TemplateParams": ["222"]},
        ),
    )
    assert answer["RetCode"] == 0, answer
    assert answer["SuccessCount"] == 2 and answer["FailContent"] == []
    assert answer["ReqUuid"] and answer["SessionNo"]
    first, second = sandbox.messages
    assert first["text"] == "【USMSSandbox】您的验证码是111，5分钟内有效。"
    assert (first["params"], first["user_id"], first["extend_code"]) == (("111",), "a", "7")
    assert second["text"] == "[USMSSandbox]您的验证码是222，5分钟内有效。"
    assert second["params"] == ("222",) and second["session_no"] == answer["SessionNo"]
    time.sleep(DELAY + 0.05)
    receipts = call(
        sandbox, {"Action": "GetUSMSSendReceipt", "SessionNoSet": [answer["SessionNo"]]}
    )
    assert len(receipts["Data"][0]["ReceiptSet"]) == 2


def test_batch_partial_and_total_refusal() -> None:
    config = SandboxConfig(refuse_numbers={"(86)13800000001", "13800000002"})
    with start_sandbox(config) as server:
        targets = [{"Phone": f"1380000000{i}", "TemplateParams": [str(i)]} for i in range(3)]
        answer = batch(server, task_content(*targets))
        assert answer["RetCode"] == 18046 and answer["SessionNo"]
        assert answer["SuccessCount"] == 1
        [failed] = answer["FailContent"]
        assert failed["TemplateId"] == DEFAULT_TEMPLATE_ID and failed["FailureDetails"] == ""
        assert [(t["Phone"], t["FailureDetails"]) for t in failed["Target"]] == [
            ("13800000001", "phone in the black list"),
            ("13800000002", "phone in the black list"),
        ]
        assert failed["Target"][0]["TemplateParams"] == ["1"]
        assert [m["phone"] for m in server.messages] == ["13800000000"]
        answer = batch(server, task_content(*targets[1:]))
        assert answer["RetCode"] == 18046 and "SessionNo" not in answer
        assert answer["SuccessCount"] == 0
        server.config.batch_partial_ret_code = 0
        assert batch(server, task_content(*targets))["RetCode"] == 0
        assert len(server.messages) == 2


def test_batch_task_and_target_checks() -> None:
    config = SandboxConfig()
    config.templates["UTPLAIN"] = Template("UTPLAIN", "发货了")
    config.signatures["Pending"] = Signature("SIGP", "Pending", status=1)
    with start_sandbox(config) as server:
        answer = batch(
            server,
            task_content(
                {"Phone": "12345", "TemplateParams": ["1"]},
                {"Phone": "13800000001", "TemplateParams": ["1", "2"]},
                {"Phone": "13800000002"},
                {"Phone": "13800000003", "TemplateParams": ["1"], "ExtendCode": "x"},
                {"Phone": "13800000004", "TemplateParams": ["1"], "UserId": "u" * 33},
                {"Phone": "13800000005", "TemplateParams": ["ok"]},
            ),
        )
        reasons = [t["FailureDetails"] for t in answer["FailContent"][0]["Target"]]
        assert reasons[0] == "invalid phone number"
        assert "1 variable(s), 2 given" in reasons[1] and "0 given" in reasons[2]
        assert "ExtendCode" in reasons[3] and "UserId" in reasons[4]
        assert answer["RetCode"] == 18046 and answer["SuccessCount"] == 1
        plain = batch(server, task_content({"Phone": "13800000000"}, TemplateId="UTPLAIN"))
        assert plain["RetCode"] == 0
        empty = task_content({"Phone": "13800000000", "TemplateParams": []}, TemplateId="UTPLAIN")
        [fail] = batch(server, empty)["FailContent"]
        assert "must be absent" in fail["Target"][0]["FailureDetails"]
        for task, needle in [
            ({"TemplateId": "UTNOPE"}, "UTNOPE does not exist"),
            ({"SigContent": "Pending"}, "not approved"),
            ({"SigContent": ""}, "Missing SigContent"),
        ]:
            answer = batch(server, task_content({"Phone": "13800000000"}, **task))
            [fail] = answer["FailContent"]
            assert needle in fail["FailureDetails"] == fail["Target"][0]["FailureDetails"]
            assert answer["RetCode"] == 18046 and "SessionNo" not in answer
        assert [m["phone"] for m in server.messages] == ["13800000005", "13800000000"]


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (None, 18001),
        ("not base64!", 18000),
        (b64(b"\xff\xfe"), 18000),
        (b64(b"{not json"), 18000),
        (b64(b'{"TemplateId": "x"}'), 18002),
        (b64(b"[]"), 18002),
        (b64(b'[{"TemplateId": "x", "SigContent": "y"}]'), 18001),
        (
            b64(b'[{"TemplateId": "x", "SigContent": "y", "Target": []}]'),
            18002,
        ),
        (
            b64(b'[{"TemplateId": "x", "SigContent": "y", "Target": [{}]}]'),
            18001,
        ),
    ],
)
def test_batch_malformed_task_content(
    sandbox: SandboxServer, content: str | None, code: int
) -> None:
    answer = batch(sandbox, content)
    assert answer["RetCode"] == code, answer
    assert "SessionNo" not in answer and sandbox.messages == []


def test_batch_more_than_200_targets_is_refused_and_200_is_fine(sandbox: SandboxServer) -> None:
    targets = [{"Phone": f"138{i:08d}", "TemplateParams": ["1"]} for i in range(201)]
    answer = batch(sandbox, task_content(*targets))
    assert answer["RetCode"] == 18002 and "at most 200" in answer["Message"]
    assert batch(sandbox, task_content(*targets[:200]))["SuccessCount"] == 200


def test_official_sdk_sends_a_batch_with_its_documented_example() -> None:
    # The TaskContent example from the SDK's own docstring (UCloud's API docs).
    example = (
        "W3siVGVtcGxhdGVJZCI6ICJVVEEyMDIxMjgzMUM4NUMiLCAiU2lnQ29udGVudCI6ICJVQ2xvdWQiLCAiVGFyZ2V0Ij"
        "ogW3siVGVtcGxhdGVQYXJhbXMiOiBbIjEyMzQ1NiJdLCAiUGhvbmUiOiAiMTg1MDAwMDAxMjMiLCAiRXh0ZW5kQ29k"
        "ZSI6ICIxMjMiLCAiVXNlcklkIjogIjQ1NiJ9IF0gfSBdIA=="
    )
    config = SandboxConfig()
    config.templates["UTA20212831C85C"] = Template("UTA20212831C85C", "验证码{1}")
    config.signatures["UCloud"] = Signature("SIGU", "UCloud")
    with start_sandbox(config) as server:
        answer = sdk_client(server).send_batch_usms_message({"TaskContent": example})
        assert answer["SessionNo"] == server.messages[0]["session_no"]
        assert server.messages[0]["text"] == "【UCloud】验证码123456"
        assert (server.messages[0]["user_id"], server.messages[0]["extend_code"]) == ("456", "123")
