"""`usms api ACTION Key=Value …`: the encoding from the action table, the refusal of secrets,
the retry policy, and the sandbox's documented RetCodes (18013, 18016-18018, 18023)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from werkzeug import Response

from tests.conftest import PRIVATE_KEY, creds
from tests.conftest import run_unchecked as run_usms  # these tests check exit codes themselves
from tests.servers.fake_usms import FakeUSMS, api
from usms_cli.sandbox import (
    DEFAULT_PRIVATE_KEY,
    DEFAULT_PROJECT_ID,
    DEFAULT_PUBLIC_KEY,
    SandboxConfig,
    SandboxServer,
    Signature,
    start_sandbox,
)


def env_for(server: SandboxServer) -> dict[str, str]:
    return {
        "UCLOUD_PUBLIC_KEY": DEFAULT_PUBLIC_KEY,
        "UCLOUD_PRIVATE_KEY": DEFAULT_PRIVATE_KEY,
        "UCLOUD_API_BASE_URL": server.base_url,
        "UCLOUD_PROJECT_ID": DEFAULT_PROJECT_ID,
    }


def fake_env(fake: FakeUSMS) -> dict[str, str]:
    return {**creds(), "UCLOUD_API_BASE_URL": fake.url, "UCLOUD_PROJECT_ID": "org-test"}


def sent(form: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in form.items() if k not in ("PublicKey", "Signature")}


def test_the_answer_is_printed_as_json_and_the_retcode_is_the_exit_code() -> None:
    with start_sandbox() as server:
        ok = run_usms("api", "QueryUSMSTemplate", "TemplateId=UTSANDBOX1", env=env_for(server))
        missing = run_usms("api", "QueryUSMSTemplate", "TemplateId=UTNOPE", env=env_for(server))
    assert ok.exit_code == 0, ok.stderr
    assert ok.json["Data"]["Template"] == "您的验证码是{1}，5分钟内有效。"
    assert missing.exit_code == 1
    assert missing.json["RetCode"] == 18017  # the answer still on stdout
    assert "RetCode 18017" in missing.stderr


def test_list_parameters_repeat_and_a_comma_never_splits(fake: FakeUSMS) -> None:
    fake.answer(lambda form: api(0, "", SessionNo="sn-1"))
    result = run_usms(
        "api", "SendUSMSMessage", "TemplateId=UTA1", "SigContent=Acme",
        "PhoneNumbers=13800000000", "PhoneNumbers=(1)4155550100", "TemplateParams=a,b",
        env=fake_env(fake),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert sent(fake.requests[0]) == {
        "Action": "SendUSMSMessage",
        "TemplateId": "UTA1",
        "SigContent": "Acme",
        "PhoneNumbers.0": "13800000000",
        "PhoneNumbers.1": "(1)4155550100",
        "TemplateParams.0": "a,b",
        "ProjectId": "org-test",  # from the settings
    }


def test_indexed_keys_bools_ints_and_base64_json(fake: FakeUSMS) -> None:
    fake.answer(lambda form: api(0, ""))
    result = run_usms(
        "api", "BatchCreateUSMSBlacklistPhone", "IsGlobal=yes", "ProjectId=org-other",
        'BlackList=[{"Phone":"13800000000","Purpose":0}]', env=fake_env(fake),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    form = sent(fake.requests[0])
    assert form["IsGlobal"] == "true" and form["ProjectId"] == "org-other"
    assert json.loads(base64.b64decode(form["BlackList"])) == [
        {"Phone": "13800000000", "Purpose": 0}
    ]
    run_usms(
        "api",
        "DeleteUSMSTemplate",
        "TemplateIds.0=UTA1",
        "TemplateIds.1=UTA2",
        "CustomThing=1",
        env=fake_env(fake),
    )
    second = sent(fake.requests[1])
    assert (second["TemplateIds.0"], second["TemplateIds.1"], second["CustomThing"]) == (
        "UTA1",
        "UTA2",
        "1",
    )


def test_json_params_from_a_file_and_from_stdin(fake: FakeUSMS, tmp_path: Path) -> None:
    fake.answer(lambda form: api(0, "", Total=0, Data=[]))
    query = tmp_path / "query.json"
    query.write_text(
        json.dumps({"Domestic": 1, "StartDate": "2026-11-01", "EndDate": "2026-11-30",
                    "Page": 0, "NumPerPage": 50, "OrderBy": "SendDate", "OrderType": "asc"}),
        encoding="utf-8",
    )  # fmt: skip
    from_file = run_usms(
        "api", "GetUSMSSendStatistics", "--json-params", str(query), "Page=1", env=fake_env(fake)
    )
    assert from_file.exit_code == 0, from_file.stderr
    form = sent(fake.requests[0])
    assert (form["Domestic"], form["NumPerPage"], form["Page"]) == ("1", "50", "1")
    from_stdin = run_usms("api", "SendUSMSMessage", "--json-params", "-",
                          input='{"PhoneNumbers": ["13800000000", "13900000000"], '
                          '"TemplateId": "UTA1"}', env=fake_env(fake))  # fmt: skip
    assert from_stdin.exit_code == 0, from_stdin.stderr
    form = sent(fake.requests[1])
    assert (form["PhoneNumbers.0"], form["PhoneNumbers.1"]) == ("13800000000", "13900000000")


@pytest.mark.parametrize(
    ("words", "message"),
    [
        (["PrivateKey=abc"], "the private key is never a parameter"),
        (["privatekey=abc"], "the private key is never a parameter"),
        (["Signature=abc"], "usms signs the request itself"),
        (["PublicKey=abc"], "comes from your settings"),
        (["Action=SendUSMSMessage"], "give the action as the first argument"),
        ([f"Remark={PRIVATE_KEY}"], "holds the private key"),
        (["TemplateId"], "not a Key=Value parameter"),
        (["Purpose=three"], "Purpose is a whole number"),
        (["International=maybe"], "International is true or false"),
        (["Template=x", "TemplateParams=1", "TemplateParams.1=2"], "not both"),
    ],
)
def test_refused_parameters_are_exit_2_and_nothing_is_sent(
    fake: FakeUSMS, words: list[str], message: str
) -> None:
    action = "SendUSMSMessage" if "TemplateParams" in " ".join(words) else "CreateUSMSTemplate"
    result = run_usms("api", action, *words, env=fake_env(fake))
    assert result.exit_code == 2, result.stderr
    assert message in result.stderr
    assert fake.count == 0


def test_private_key_in_a_json_params_file_is_refused(fake: FakeUSMS, tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text('{"PrivateKey": "x"}', encoding="utf-8")
    result = run_usms("api", "QueryUSMSTemplate", "--json-params", str(path), env=fake_env(fake))
    assert result.exit_code == 2
    assert fake.count == 0


def test_too_many_list_items_for_the_action_are_refused(fake: FakeUSMS) -> None:
    numbers = [f"PhoneNumbers.{n}=138{n:08d}" for n in range(1001)]
    result = run_usms("api", "SendUSMSMessage", "TemplateId=UTA1", *numbers, env=fake_env(fake))
    assert result.exit_code == 2
    assert "at most 1000" in result.stderr
    assert fake.count == 0


def test_bad_action_names_and_json_files(fake: FakeUSMS, tmp_path: Path) -> None:
    assert run_usms("api", "send message", env=fake_env(fake)).exit_code == 2
    bad = tmp_path / "bad.json"
    bad.write_text("[1, 2]", encoding="utf-8")
    result = run_usms("api", "QueryUSMSTemplate", "--json-params", str(bad), env=fake_env(fake))
    assert result.exit_code == 2 and "one JSON object" in result.stderr
    assert fake.count == 0


@pytest.mark.parametrize(
    ("action", "requests"),
    [
        ("QueryUSMSTemplate", 4),  # a read: a lost answer may be asked again
        ("CreateUSMSTemplate", 1),  # creates: never
        ("SendUSMSMessage", 1),  # sends: never
        ("SomeOtherUCloudAction", 1),  # unknown to the table: never
    ],
)
def test_the_retry_policy_comes_from_the_action_table(
    fake: FakeUSMS, action: str, requests: int
) -> None:
    fake.answer(lambda form: Response("bad gateway", status=502))
    result = run_usms("api", action, "TemplateId=UTA1", env=fake_env(fake))
    assert result.exit_code == 5
    assert fake.count == requests
    assert "may have been carried out" in result.stderr
    assert result.stdout == ""


def test_throttling_is_retried_for_every_action(fake: FakeUSMS) -> None:
    answers: list[Any] = [api(153, "throttled"), api(0, "", SessionNo="sn-9")]
    fake.answer(*(lambda form, a=a: a for a in answers))
    result = run_usms(
        "api", "SendUSMSMessage", "TemplateId=UTA1", "PhoneNumbers=13800000000", env=fake_env(fake)
    )
    assert result.exit_code == 0, result.stderr
    assert fake.count == 2


# ---- the sandbox's documented refusals, through usms api ---------------------------------------


def send_words(*phones: str, params: tuple[str, ...] = ("123456",), sig: str = "USMSSandbox",
               template: str = "UTSANDBOX1") -> list[str]:  # fmt: skip
    words = ["api", "SendUSMSMessage", f"TemplateId={template}", f"SigContent={sig}"]
    words += [f"PhoneNumbers={p}" for p in phones]
    return words + [f"TemplateParams={p}" for p in params]


def test_balance_blocked_words_signature_template_and_params() -> None:
    config = SandboxConfig(balance=2, blocked_words={"赌博"})
    config.signatures["Pending"] = Signature("SIGP", "Pending", status=1)
    with start_sandbox(config) as server:
        env = env_for(server)

        def code(words: list[str]) -> int:
            result = run_usms(*words, env=env)
            return int(result.json["RetCode"])

        assert code(send_words("13800000000", "13800000001", "13800000002")) == 18013
        assert code(send_words("13800000000", params=("赌博123",))) == 18023
        assert code(send_words("13800000000", sig="Pending")) == 18016
        assert code(send_words("13800000000", template="UTNOPE")) == 18017
        assert code(send_words("13800000000", params=("1", "2"))) == 18018
        assert code(send_words("13800000000", "13800000001")) == 0
        assert code(send_words("13800000000")) == 18013  # the balance is used up
        assert len(server.messages) == 2


def test_sandbox_command_takes_the_new_options(tmp_path: Path) -> None:
    from usms_cli.core.phones import normalize
    from usms_cli.sandbox import SandboxOptions, config_from_options

    config = config_from_options(
        SandboxOptions(
            review_delay=5,
            balance=10,
            blocked_words=("赌博", " "),
            unknown_numbers=("+1 415 555 0100",),
            fail_numbers=("13800000001=MLBLACK",),
            receipt_language="zh",
        ),
        normalize_phone=normalize,
    )
    assert (config.review_delay, config.balance, config.receipt_language) == (5, 10, "zh")
    assert config.blocked_words == {"赌博"}
    assert config.unknown_numbers == {"(1)4155550100"}
    assert config.fail_codes == {"13800000001": "MLBLACK"}
    bad = run_usms("sandbox", "--receipt-language", "fr")
    assert bad.exit_code == 2 and "--receipt-language must be en or zh" in bad.stderr
    negative = run_usms("sandbox", "--balance", "-1")
    assert negative.exit_code == 2 and "--balance must not be negative" in negative.stderr
