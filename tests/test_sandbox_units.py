"""The sandbox's parts without HTTP: the action handlers of its backend, the options of
``usms sandbox`` (exact messages, exit 2), and the promise that it copies no client rule."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import one_error
from tests.conftest import run_unchecked as run_usms  # they check exit codes themselves
from usms_cli.core.signing import signed_params
from usms_cli.sandbox import (
    DEFAULT_PRIVATE_KEY,
    DEFAULT_PUBLIC_KEY,
    DEFAULT_SIGNATURE,
    DEFAULT_TEMPLATE_ID,
    SandboxConfig,
    Template,
)
from usms_cli.sandbox.backend import ACTIONS, Backend, reply_for

SANDBOX = Path(__file__).resolve().parents[1] / "usms_cli" / "sandbox"


def act(backend: Backend, action: str, **params: str) -> dict[str, Any]:
    """Call one handler directly: no HTTP, no signature."""
    return ACTIONS[action](backend, {"Action": action, **params}, reply_for(action))


def send(backend: Backend, *phones: str, **params: str) -> dict[str, Any]:
    fields = {f"PhoneNumbers.{i}": phone for i, phone in enumerate(phones)}
    fields.setdefault("TemplateId", DEFAULT_TEMPLATE_ID)
    fields.setdefault("SigContent", DEFAULT_SIGNATURE)
    fields.update(params)
    return act(backend, "SendUSMSMessage", **fields)


@pytest.fixture
def backend() -> Backend:
    config = SandboxConfig(receipt_delay=0, fail_numbers={"13800000001"})
    config.templates["UTTWO"] = Template("UTTWO", "Hi {1}, your code is {2}")
    return Backend(config)


# ---- the handlers --------------------------------------------------------------------------


def test_unknown_template_is_refused_with_18017_and_nothing_is_kept(backend: Backend) -> None:
    answer = send(backend, "13800000000", TemplateId="UTNOPE", **{"TemplateParams.0": "1"})
    assert answer == {
        "Action": "SendUSMSMessageResponse",
        "RetCode": 18017,
        "Message": "Template UTNOPE does not exist",
    }
    assert backend.messages == [] and backend.sessions == {}


def test_params_that_do_not_match_the_template_are_18018(backend: Backend) -> None:
    answer = send(backend, "13800000000", TemplateId="UTTWO", **{"TemplateParams.0": "Ann"})
    assert answer["RetCode"] == 18018
    assert answer["Message"] == (
        "Template params do not match template UTTWO: it has 2 variable(s), 1 TemplateParams given"
    )
    assert backend.messages == []


def test_a_send_gives_a_session_no_whose_receipts_name_each_number(backend: Backend) -> None:
    params = {"TemplateParams.0": "Ann", "TemplateParams.1": "4711", "UserId": "u-9"}
    answer = send(
        backend, "13800000000", "13800000001", "(852)91234567", TemplateId="UTTWO", **params
    )
    assert answer["RetCode"] == 0 and answer["Message"] == "提交发送成功"
    assert answer["UserId"] == "u-9"
    session_no = answer["SessionNo"]
    assert [m["text"] for m in backend.messages] == [
        "【USMSSandbox】Hi Ann, your code is 4711",
        "【USMSSandbox】Hi Ann, your code is 4711",
        "[USMSSandbox]Hi Ann, your code is 4711",
    ]

    found = act(backend, "GetUSMSSendReceipt", **{"SessionNoSet.0": session_no})
    [data] = found["Data"]
    assert data["SessionNo"] == session_no
    by_phone = {r["Phone"]: r for r in data["ReceiptSet"]}
    assert list(by_phone) == ["13800000000", "13800000001", "(852)91234567"]
    assert by_phone["13800000000"]["ReceiptResult"] == "Success"
    assert by_phone["13800000001"]["ReceiptCode"] == "UNDELIVRD"  # a fail_number
    assert {r["CostCount"] for r in data["ReceiptSet"]} == {1}
    assert {r["UserId"] for r in data["ReceiptSet"]} == {"u-9"}


def test_receipts_wait_for_the_receipt_delay(backend: Backend) -> None:
    backend.config.receipt_delay = 3600
    session_no = send(backend, "13800000000", **{"TemplateParams.0": "1"})["SessionNo"]
    found = act(backend, "GetUSMSSendReceipt", **{"SessionNoSet.0": session_no})
    assert found["Data"] == [{"SessionNo": session_no, "ReceiptSet": []}]


def test_the_gateway_checks_the_signature_before_any_handler(backend: Backend) -> None:
    params = {
        "Action": "SendUSMSMessage",
        "PhoneNumbers": ["13800000000"],
        "TemplateId": DEFAULT_TEMPLATE_ID,
        "TemplateParams": ["1"],
        "SigContent": DEFAULT_SIGNATURE,
    }
    good = signed_params(params, DEFAULT_PUBLIC_KEY, DEFAULT_PRIVATE_KEY)
    assert backend.handle(good)["RetCode"] == 0
    forged = signed_params(params, DEFAULT_PUBLIC_KEY, "not-the-private-key")
    assert backend.handle(forged)["RetCode"] == 171
    unknown = signed_params({"Action": "DeleteEverything"}, DEFAULT_PUBLIC_KEY, DEFAULT_PRIVATE_KEY)
    assert backend.handle(unknown)["RetCode"] == 161
    assert len(backend.messages) == 1
    assert backend.request_counts == {"SendUSMSMessage": 2, "DeleteEverything": 1}


# ---- the options of `usms sandbox` ----------------------------------------------------------

LOOPBACK = (
    "the sandbox only listens on this machine: host must be a loopback address such as "
    "127.0.0.1, ::1 or localhost, not '0.0.0.0'"
)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--template", "bad"], "--template 'bad': write it as ID=TEXT, e.g. 'UTA1=Hello {1}'"),
        (["--template", "=x"], "--template '=x': write it as ID=TEXT, e.g. 'UTA1=Hello {1}'"),
        (["--template", "A="], "--template 'A=': write it as ID=TEXT, e.g. 'UTA1=Hello {1}'"),
        (["--fail-rate", "1.5"], "--fail-rate must be between 0 and 1"),
        (["--fail-rate", "-0.1"], "--fail-rate must be between 0 and 1"),
        (["--fail-rate", "2", "--latency", "-1"], "--fail-rate must be between 0 and 1"),
        (["--latency", "-1"], "--latency and --receipt-delay must not be negative"),
        (["--receipt-delay", "-1"], "--latency and --receipt-delay must not be negative"),
        (["--fail-number", "abc"], "--fail-number 'abc': contains letters"),
        (["--fail-number", "+999 123"], "--fail-number '+999 123': unknown country code +999"),
        (
            ["--config", "/nonexistent/x.toml"],
            "sandbox config: /nonexistent/x.toml: cannot read sandbox config: "
            "No such file or directory",
        ),
        (
            ["--record", "/nonexistent/dir/x.jsonl"],
            "/nonexistent/dir/x.jsonl: cannot write the record file: No such file or directory",
        ),
        (["--host", "0.0.0.0"], LOOPBACK),
    ],
)
def test_bad_sandbox_options_exit_2_with_one_sentence(args: list[str], message: str) -> None:
    result = run_usms("sandbox", "--port", "0", *args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert one_error(result.stderr, message), result.stderr


def test_a_bad_toml_file_names_the_file_and_the_entry(tmp_path: Path) -> None:
    path = tmp_path / "sandbox.toml"
    path.write_text('[[template]]\nid = "UTA"\n', encoding="utf-8")
    result = run_usms("sandbox", "--port", "0", "--config", str(path))
    assert result.exit_code == 2
    said = f"sandbox config: {path}: [[template]] #1: missing required key 'text'"
    assert one_error(result.stderr, said), result.stderr


# ---- independence -------------------------------------------------------------------------


def test_the_sandbox_imports_only_signing_and_errors_from_the_client() -> None:
    """It re-implements the API's rules: importing the client's would copy their bugs. (The
    message catalog, ``usms_cli.i18n``, is no rule: the sandbox speaks the language of its run.)"""
    imported: set[str] = set()
    for path in SANDBOX.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            imported.update(n for n in names if n.startswith("usms_cli."))
    outside = {
        name
        for name in imported
        if not name.startswith("usms_cli.sandbox")
        and name not in {"usms_cli.core", "usms_cli.core.signing", "usms_cli.core.errors"}
        and not name.startswith(("usms_cli.core.errors.", "usms_cli.core.signing."))
        and name != "usms_cli.i18n"
        and not name.startswith("usms_cli.i18n.")
    }
    assert outside == set()
    assert "usms_cli.core.signing" in imported
