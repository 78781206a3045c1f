"""`usms blacklist add`: numbers read as `send` reads them, 1000 per request in a base64 JSON
BlackList, the answer sorted into added/refused/unconfirmed, and the sandbox honouring it."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from werkzeug import Response

from tests.conftest import creds, say, say_n
from tests.conftest import run_unchecked as run_usms  # these tests check exit codes themselves
from tests.servers.fake_usms import FakeUSMS, api
from usms_cli.sandbox import (
    DEFAULT_PRIVATE_KEY,
    DEFAULT_PROJECT_ID,
    DEFAULT_PUBLIC_KEY,
    SandboxConfig,
    SandboxServer,
    Template,
    start_sandbox,
)


def env_for(server: SandboxServer) -> dict[str, str]:
    return {
        "UCLOUD_PUBLIC_KEY": DEFAULT_PUBLIC_KEY,
        "UCLOUD_PRIVATE_KEY": DEFAULT_PRIVATE_KEY,
        "UCLOUD_API_BASE_URL": server.base_url,
        "UCLOUD_PROJECT_ID": DEFAULT_PROJECT_ID,
        "USMS_SIG_CONTENT": "USMSSandbox",
    }


def fake_env(fake: FakeUSMS) -> dict[str, str]:
    return {**creds(), "UCLOUD_API_BASE_URL": fake.url, "UCLOUD_PROJECT_ID": "org-test"}


def entries(form: dict[str, str]) -> list[dict[str, Any]]:
    decoded: list[dict[str, Any]] = json.loads(base64.b64decode(form["BlackList"]))
    return decoded


def all_added(form: dict[str, str]) -> Response:
    return api(0, "Success", ReqUuid="r1", SuccessList=[e["Phone"] for e in entries(form)],
               FailedList=[])  # fmt: skip


# ---- the wire --------------------------------------------------------------------------------


def test_the_blacklist_parameter_is_base64_json_of_the_documented_entries(
    fake: FakeUSMS, tmp_path: Path
) -> None:
    numbers = tmp_path / "stop.txt"
    numbers.write_text("# replied R\n139 0000 0001\n+1 415 555 0100\n", encoding="utf-8")
    fake.answer(all_added)
    result = run_usms(
        "blacklist",
        "add",
        "13800000000",
        "-f",
        str(numbers),
        "--purpose",
        "marketing",
        "--remark",
        "退订",
        "--global",
        env=fake_env(fake),
    )
    assert result.exit_code == 0, result.stderr
    added = say_n("Blacklist: {n:,} number added", "Blacklist: {n:,} numbers added", 3, n=3)
    assert result.stdout == added + say(".") + "\n"
    [form] = fake.requests
    assert (form["Action"], form["IsGlobal"], form["ProjectId"]) == (
        "BatchCreateUSMSBlacklistPhone",
        "true",
        "org-test",
    )
    assert entries(form) == [
        {"Phone": "13800000000", "Purpose": 3, "Remark": "退订"},
        {"Phone": "13900000001", "Purpose": 3, "Remark": "退订"},
        {"Phone": "(1)4155550100", "Purpose": 3, "Remark": "退订"},
    ]


def test_a_thousand_numbers_per_request(fake: FakeUSMS) -> None:
    numbers = "\n".join(f"138{n:08d}" for n in range(2500)) + "\n"
    fake.answer(all_added)
    result = run_usms("blacklist", "add", "-f", "-", "--json", input=numbers, env=fake_env(fake))
    assert result.exit_code == 0, result.stderr
    assert [len(entries(f)) for f in fake.requests] == [1000, 1000, 500]
    assert all(f["IsGlobal"] == "false" for f in fake.requests)
    assert len(result.json["added"]) == 2500 and result.json["requests"] == 3


def test_refused_numbers_are_masked_for_people_and_full_in_json(fake: FakeUSMS) -> None:
    def answer(form: dict[str, str]) -> Response:
        phones = [e["Phone"] for e in entries(form)]
        return api(0, "Success", SuccessList=phones[:1], FailedList=phones[1:])

    fake.answer(answer)
    human = run_usms("blacklist", "add", "13800000000", "13912345678", env=fake_env(fake))
    assert human.exit_code == 3
    assert "139****5678" in human.stderr and "13912345678" not in human.stderr
    as_json = run_usms(
        "blacklist", "add", "13800000000", "13912345678", "--json", env=fake_env(fake)
    )
    assert as_json.exit_code == 3
    assert as_json.json["added"] == ["13800000000"]
    assert list(as_json.json["refused"]) == ["13912345678"]


def test_numbers_the_answer_does_not_name_are_unconfirmed_exit_5(fake: FakeUSMS) -> None:
    fake.answer(lambda form: api(0, "Success"))
    result = run_usms("blacklist", "add", "13800000000", env=fake_env(fake))
    assert result.exit_code == 5
    assert "not confirmed" in result.stderr


def test_a_refusal_is_exit_1_and_an_unreachable_api_exit_4(fake: FakeUSMS) -> None:
    fake.answer(lambda form: api(18002, "BlackList format error"))
    refused = run_usms("blacklist", "add", "13800000000", env=fake_env(fake))
    assert refused.exit_code == 1 and "18002" in refused.stderr
    env = {**fake_env(fake), "UCLOUD_API_BASE_URL": "http://127.0.0.1:9"}
    unreachable = run_usms("blacklist", "add", "13800000000", env=env)
    assert unreachable.exit_code == 4


def test_after_an_unknown_outcome_the_other_requests_are_not_sent(fake: FakeUSMS) -> None:
    fake.answer(lambda form: Response("", status=502))
    numbers = "\n".join(f"138{n:08d}" for n in range(1500))
    result = run_usms("blacklist", "add", "-f", "-", "--json", input=numbers, env=fake_env(fake))
    assert result.exit_code == 5
    assert fake.count == 1  # not retried, and the second request not sent
    assert len(result.json["unconfirmed"]) == 1000 and len(result.json["not_sent"]) == 500


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["12345"], "invalid phone number"),
        ([], "give the numbers"),
        (["13800000000", "--purpose", "spam"], "--purpose must be one of"),
        (["13800000000", "--remark", "r" * 257], "at most 256"),
        (["-f", "nope.txt"], "no such file"),
    ],
)
def test_bad_input_is_exit_2_and_nothing_is_sent(
    fake: FakeUSMS, args: list[str], words: str
) -> None:
    result = run_usms("blacklist", "add", *args, env=fake_env(fake))
    assert result.exit_code == 2
    assert words in result.stderr
    assert fake.count == 0


def test_skip_invalid_adds_the_valid_ones(fake: FakeUSMS) -> None:
    fake.answer(all_added)
    result = run_usms(
        "blacklist", "add", "12345", "13800000000", "--skip-invalid", "-q", env=fake_env(fake)
    )
    assert (result.exit_code, result.stdout) == (0, "13800000000\n")


# ---- the sandbox honours it -------------------------------------------------------------------


def test_blacklisted_numbers_get_no_message_in_either_send() -> None:
    config = SandboxConfig(receipt_delay=0.1)
    with start_sandbox(config) as server:
        env = env_for(server)
        added = run_usms("blacklist", "add", "+86 139 0000 0001", env=env)
        assert added.exit_code == 0, added.stderr
        single = run_usms(
            "send", "-q", "-t", "UTSANDBOX1", "-p", "1", "13800000000", "13900000001", env=env
        )
        assert single.exit_code == 0  # one template to many: accepted, the receipt tells
        time.sleep(0.2)
        receipts = run_usms("receipt", single.stdout.strip(), "--json", env=env)
        csv_path = Path("people.csv")
        csv_path.write_text("phone,code\n13800000000,1\n13900000001,2\n", encoding="utf-8")
        batch = run_usms("send", "--csv", str(csv_path), "-t", "UTSANDBOX1", "--json", env=env)
        inbox = [m["phone"] for m in server.messages]
    by_phone = {r["Phone"]: r for r in receipts.json["receipts"]}
    assert (by_phone["13900000001"]["result"], by_phone["13900000001"]["ReceiptCode"]) == (
        "failed",
        "MLBLACK",
    )
    assert by_phone["13800000000"]["result"] == "delivered"
    assert batch.exit_code == 3
    assert "phone in the black list" in json.dumps(batch.json, ensure_ascii=False)
    assert inbox == ["13800000000", "13800000000"]


def test_a_blacklist_for_marketing_does_not_stop_a_verification_code() -> None:
    config = SandboxConfig(receipt_delay=0)
    config.templates["UTM1"] = Template("UTM1", "Sale {1}! 拒收请回复R", purpose=3)
    with start_sandbox(config) as server:
        env = env_for(server)
        assert (
            run_usms("blacklist", "add", "13900000001", "--purpose", "marketing", env=env).exit_code
            == 0
        )
        run_usms("send", "-q", "-t", "UTSANDBOX1", "-p", "1", "13900000001", env=env)
        run_usms("send", "-q", "-t", "UTM1", "-p", "1", "13900000001", env=env)
        texts = [m["text"] for m in server.messages]
    assert len(texts) == 1 and "验证码" in texts[0]


# ---- the answer parser ------------------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=14),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=20,
)
PHONES = st.lists(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True), max_size=6, unique=True)


@given(
    st.fixed_dictionaries({}, optional={"SuccessList": JSON | PHONES, "FailedList": JSON | PHONES})
    | JSON,
    PHONES,
)
def test_blacklist_answers_of_any_shape_sort_every_number_once(body: Any, sent: list[str]) -> None:
    from usms_cli.core.blacklist import read_answer

    outcome = read_answer(body, sent)
    sorted_out = outcome.added + outcome.failed + outcome.unconfirmed
    assert sorted(sorted_out) == sorted(sent)


def test_the_answer_may_write_numbers_with_a_country_code() -> None:
    from usms_cli.core.blacklist import read_answer

    body = {"SuccessList": ["(86)13800000000", {"Phone": "+8613900000001"}], "FailedList": [8]}
    outcome = read_answer(body, ["13800000000", "13900000001", "(1)4155550100"])
    assert outcome.added == ["13800000000", "13900000001"]
    assert outcome.unconfirmed == ["(1)4155550100"]
