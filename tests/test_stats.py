"""`usms stats`: every page followed, the exact query on the wire, dates checked, the sandbox
counting its own sends, the receipt words of the real API, and a fuzzed page parser."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import creds, say
from tests.conftest import run_unchecked as run_usms  # these tests check exit codes themselves
from tests.servers.fake_usms import FakeUSMS, api
from usms_cli.sandbox import (
    DEFAULT_PRIVATE_KEY,
    DEFAULT_PROJECT_ID,
    DEFAULT_PUBLIC_KEY,
    SandboxConfig,
    SandboxServer,
    start_sandbox,
)


def env_for(server: SandboxServer) -> dict[str, str]:
    return {
        "UCLOUD_PUBLIC_KEY": DEFAULT_PUBLIC_KEY,
        "UCLOUD_PRIVATE_KEY": DEFAULT_PRIVATE_KEY,
        "UCLOUD_API_BASE_URL": server.base_url,
        "UCLOUD_PROJECT_ID": DEFAULT_PROJECT_ID,
        "USMS_TEMPLATE_ID": "UTSANDBOX1",
        "USMS_SIG_CONTENT": "USMSSandbox",
        "USMS_NOW": "",  # the sandbox dates its sends by the real clock
    }


def fake_env(fake: FakeUSMS) -> dict[str, str]:
    return {**creds(), "UCLOUD_API_BASE_URL": fake.url, "UCLOUD_PROJECT_ID": "org-test"}


def row(day: str, count: int, ok: int, failed: int = 0, **extra: Any) -> dict[str, Any]:
    return {
        "SendDate": day,
        "BrevityCode": extra.pop("country", "CN"),
        "Count": count,
        "CostCount": count * 2,
        "SuccessCount": ok,
        "FailedCount": failed,
        "UnknownCount": count - ok - failed,
        "SubmitFailedCount": 0,
        "SuccessRate": 0.0,
        **extra,
    }


# ---- against the sandbox ----------------------------------------------------------------------


def test_the_sandbox_counts_its_own_sends() -> None:
    config = SandboxConfig(receipt_delay=0.2, fail_numbers={"13800000009"})
    config.unknown_numbers.add("13800000008")
    with start_sandbox(config) as server:
        env = env_for(server)
        sent = run_usms(
            "send",
            "-q",
            "-p",
            "1",
            "13800000000",
            "13800000001",
            "13800000009",
            "13800000008",
            "+1 415 555 0100",
            env=env,
        )
        assert sent.exit_code == 0, sent.stderr
        time.sleep(0.3)
        result = run_usms("stats", "--json", env=env)
        by_country = run_usms("stats", "--by", "country", "--json", env=env)
        domestic = run_usms("stats", "--domestic", "--by", "template", "--json", env=env)
        human = run_usms("stats", env=env)
    assert result.exit_code == 0, result.stderr
    total = result.json["total"]
    assert (total["sent"], total["delivered"], total["failed"], total["unknown"]) == (5, 3, 1, 1)
    assert total["billed"] == 5 and total["success_rate"] == 60.0
    assert result.json["scopes"] == ["domestic", "international"]
    assert {r["country"]: r["sent"] for r in by_country.json["rows"]} == {"CN": 4, "US": 1}
    assert domestic.json["rows"] == [{"template": "UTSANDBOX1", **domestic.json["total"]}]
    assert domestic.json["total"]["sent"] == 4
    lines = human.stdout.splitlines()
    headings = ["Day", "Sent", "Delivered", "Failed", "Unknown", "Billed", "Success"]
    assert lines[0].split() == [say(heading) for heading in headings]
    assert lines[-1].split() == [say("Total"), "5", "3", "1", "1", "5", "60.0%"]


def test_receipts_in_chinese_words_and_carrier_codes_are_understood() -> None:
    config = SandboxConfig(receipt_delay=0.1, receipt_language="zh")
    config.fail_numbers.add("13800000009")
    config.fail_codes["13800000009"] = "-131"
    config.unknown_numbers.add("13800000008")
    with start_sandbox(config) as server:
        env = env_for(server)
        sn = run_usms(
            "send", "-q", "-p", "1", "13800000000", "13800000009", "13800000008", env=env
        ).stdout.strip()
        time.sleep(0.2)
        result = run_usms("receipt", sn, "--json", env=env)
    assert result.exit_code == 1  # one failed
    rows = {r["Phone"]: r for r in result.json["receipts"]}
    assert (rows["13800000000"]["result"], rows["13800000000"]["ReceiptResult"]) == (
        "delivered",
        "发送成功",
    )
    assert (rows["13800000009"]["result"], rows["13800000009"]["ReceiptCode"]) == ("failed", "-131")
    assert rows["13800000009"]["ReceiptResult"] == "发送失败"
    assert (rows["13800000008"]["result"], rows["13800000008"]["ReceiptResult"]) == (
        "unknown",
        "状态未知",
    )


def test_english_receipts_say_unknow_as_the_real_api_does() -> None:
    config = SandboxConfig(receipt_delay=0.1)
    config.unknown_numbers.add("13800000008")
    with start_sandbox(config) as server:
        env = env_for(server)
        sn = run_usms("send", "-q", "-p", "1", "13800000008", env=env).stdout.strip()
        time.sleep(0.2)
        result = run_usms("receipt", sn, "--json", env=env)
    assert result.exit_code == 5
    [receipt] = result.json["receipts"]
    assert (receipt["ReceiptResult"], receipt["result"]) == ("Unknow", "unknown")


# ---- the wire: every page, the exact parameters ---------------------------------------------


def test_every_page_is_read_with_the_documented_parameters(fake: FakeUSMS) -> None:
    days = [f"2026-11-{d:02d}" for d in range(1, 24)]
    rows = [row(day, 10, 8, 1) for day in days] * 11  # 253 rows: three pages of 100

    def answer(form: dict[str, str]) -> Any:
        page, size = int(form["Page"]), int(form["NumPerPage"])
        chunk = rows[page * size : (page + 1) * size] if form["Domestic"] == "1" else []
        total = len(rows) if form["Domestic"] == "1" else 0
        return api(0, "", Total=total, Data=chunk, StatisticsData={})

    fake.answer(answer)
    result = run_usms(
        "stats", "--purpose", "notice", "--country", "cn-id", "--json", env=fake_env(fake)
    )
    assert result.exit_code == 0, result.stderr
    assert result.json["from"] == "2026-11-01" and result.json["to"] == "2026-11-24"  # USMS_NOW
    assert result.json["total"]["sent"] == 2530
    assert result.json["total"]["failed"] == 253 and result.json["total"]["unknown"] == 253
    assert len(result.json["rows"]) == 23  # summed per day
    domestic = [f for f in fake.requests if f["Domestic"] == "1"]
    international = [f for f in fake.requests if f["Domestic"] == "0"]
    assert [f["Page"] for f in domestic] == ["0", "1", "2"] and len(international) == 1
    first = {k: v for k, v in domestic[0].items() if k not in ("PublicKey", "Signature")}
    assert first == {
        "Action": "GetUSMSSendStatistics",
        "ProjectId": "org-test",
        "Domestic": "1",
        "StartDate": "2026-11-01",
        "EndDate": "2026-11-24",
        "Page": "0",
        "NumPerPage": "100",
        "OrderBy": "SendDate",
        "OrderType": "asc",
        "BrevityCode": "CN-ID",
        "Purpose": "2",
    }


def test_per_template_uses_the_template_action(fake: FakeUSMS) -> None:
    fake.answer(
        lambda form: api(
            0,
            "",
            Total=2,
            Data=[
                row("2026-11-02", 4, 4, TemplateId="UTA1"),
                row("2026-11-03", 6, 3, 3, TemplateId="UTB2"),
            ],
        )
    )
    result = run_usms(
        "stats",
        "--domestic",
        "--from",
        "2026-11-02",
        "--to",
        "2026-11-03",
        "--by",
        "template",
        "--template",
        "UTA1",
        "--csv",
        env=fake_env(fake),
    )
    assert result.exit_code == 0, result.stderr
    [form] = fake.requests
    assert form["Action"] == "GetUSMSTemplateSendStatistics"
    assert (form["TemplateId"], form["StartDate"], form["EndDate"]) == (
        "UTA1",
        "2026-11-02",
        "2026-11-03",
    )
    assert result.stdout.splitlines() == [
        "template,sent,delivered,failed,submit_failed,unknown,billed,success_rate",
        "UTA1,4,4,0,0,0,8,100.0",
        "UTB2,6,3,3,0,0,12,50.0",
        "total,10,7,3,0,0,20,70.0",
    ]


def test_a_server_that_never_stops_paging_is_stopped(
    fake: FakeUSMS, monkeypatch: pytest.MonkeyPatch
) -> None:
    from usms_cli.core import stats

    monkeypatch.setattr(stats, "MAX_PAGES", 5)
    fake.answer(lambda form: api(0, "", Total=10**9, Data=[row("2026-11-01", 1, 1)]))
    result = run_usms("stats", "--domestic", env=fake_env(fake))
    assert result.exit_code == 5
    assert "did not end after 5 pages" in result.stderr
    assert fake.count == 5


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--from", "2026-13-01"], "--from must be a date written YYYY-MM-DD"),
        (["--to", "yesterday"], "--to must be a date"),
        (["--from", "2026-11-20", "--to", "2026-11-02"], "is after --to"),
        (["--by", "week"], "--by must be one of day, template, country"),
        (["--purpose", "spam"], "code, notice or marketing"),
        (["--country", "C1"], "--country takes codes"),
    ],
)
def test_bad_options_are_exit_2_and_nothing_is_sent(
    fake: FakeUSMS, args: list[str], words: str
) -> None:
    result = run_usms("stats", *args, env=fake_env(fake))
    assert result.exit_code == 2
    assert words in result.stderr
    assert fake.count == 0


def test_a_refused_query_is_exit_1_and_an_odd_answer_exit_5(fake: FakeUSMS) -> None:
    fake.answer(lambda form: api(299, "no permission"))
    refused = run_usms("stats", "--domestic", env=fake_env(fake))
    assert refused.exit_code == 1 and "RetCode 299" in refused.stderr
    fake.answer(lambda form: api(0, "", Data="not a list"))
    odd = run_usms("stats", "--domestic", env=fake_env(fake))
    assert odd.exit_code == 5 and "Data is not a list" in odd.stderr


def test_an_empty_month_shows_a_zero_total(fake: FakeUSMS) -> None:
    fake.answer(lambda form: api(0, "", Total=0, Data=[]))
    result = run_usms("stats", env=fake_env(fake))
    assert result.exit_code == 0
    assert result.stdout.splitlines()[-1].split() == [say("Total"), "0", "0", "0", "0", "0", "-"]
    assert "Nothing was sent" in result.stderr


# ---- the page parser --------------------------------------------------------------------------


def test_infinity_and_nan_from_the_server_are_not_numbers() -> None:
    from usms_cli.core.stats import parse_page

    body = json.loads('{"Total": Infinity, "Data": [{"Count": NaN, "SuccessCount": Infinity, '
                      '"SendDate": -Infinity}]}')  # fmt: skip
    page = parse_page(body)
    assert page.total is None
    assert (page.rows[0].counts.sent, page.rows[0].counts.delivered) == (0, 0)
    assert page.rows[0].date == "-inf"


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=25,
)
FIELDS = st.sampled_from(
    [
        "SendDate",
        "BrevityCode",
        "TemplateId",
        "Count",
        "CostCount",
        "SuccessCount",
        "FailedCount",
        "UnknownCount",
        "SubmitFailedCount",
        "SendCount",
    ]  # fmt: skip
)
ROWS = st.lists(st.dictionaries(FIELDS, JSON, max_size=8) | JSON, max_size=5)


@given(st.fixed_dictionaries({}, optional={"Total": JSON, "Data": ROWS | JSON}) | JSON)
def test_statistics_answers_of_any_shape_give_rows_or_a_clear_error(body: Any) -> None:
    from usms_cli.core.errors import ExitCode
    from usms_cli.core.stats import StatsAnswerError, group, more_pages, parse_page

    try:
        page = parse_page(body)
    except StatsAnswerError as exc:
        assert exc.exit_code == ExitCode.UNKNOWN and exc.message
        return
    assert page.total is None or page.total >= 0
    more_pages(page, len(page.rows), 100)
    for by in ("day", "template", "country"):
        lines, total = group(page.rows, by)  # type: ignore[arg-type]
        assert total.sent == sum(line.counts.sent for line in lines) >= 0
        assert total.success_rate is None or total.success_rate >= 0
