"""`usms send --csv`: personalised messages through SendBatchUSMSMessage, against the sandbox
(real HTTP on 127.0.0.1, signatures checked). The pure parts: tests/unit/test_csvbatch.py."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from werkzeug import Response

from tests.conftest import NO_VARS, TWO_VARS, Result, creds, env_for, run_usms
from tests.servers.fake_usms import FakeUSMS, api
from usms_cli.core import csvbatch
from usms_cli.core.privacy import mask_phone
from usms_cli.sandbox import SandboxServer


def write_csv(
    path: Path, rows: Sequence[Sequence[str]], *, bom: bool = False, newline: str = "\n"
) -> Path:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=newline).writerows(rows)
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + buffer.getvalue().encode("utf-8"))
    return path


def send_csv(
    server: SandboxServer, path: Path | str, *args: str, template: str = TWO_VARS, **kw: Any
) -> Result:
    return run_usms("send", "--csv", str(path), *args, env=env_for(server, template), **kw)


def received(server: SandboxServer) -> dict[str, list[dict[str, Any]]]:
    by_phone: dict[str, list[dict[str, Any]]] = {}
    for message in server.messages:
        by_phone.setdefault(message["phone"], []).append(message)
    return by_phone


def people(count: int) -> list[list[str]]:
    """Rows phone,name,code,user_id: Chinese names with commas (one with quotes), codes with
    leading zeros."""
    rows = []
    for i in range(count):
        name = f'张{i}, 李"小{i}"' if i % 97 == 0 else f"张{i}, 李{i}"
        code = "007" if i % 10 == 0 else "0123" if i % 10 == 1 else f"{i:06d}"
        rows.append([f"139{i:08d}", name, code, f"u{i}"])
    return rows


HEADER = ["phone", "name", "code", "user_id"]


# ---- the main scenario ------------------------------------------------------------


def test_2500_rows_two_refused_exit_3_reported_written_out_rest_received_once(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    rows = people(2500)
    refused = {rows[10][0]: rows[10], rows[2345][0]: rows[2345]}
    sandbox.config.refuse_numbers.update(refused)
    source = write_csv(tmp_path / "people.csv", [HEADER, *rows])
    failed_out = tmp_path / "failed.csv"
    result = send_csv(sandbox, source, "--json", "--failed-out", str(failed_out), expect=3)

    for phone in refused:
        assert f"{mask_phone(phone)}: phone in the black list" in result.stderr
    report = result.json
    assert sorted(r["phone"] for r in report["refused"]) == sorted(refused)
    assert {r["reason"] for r in report["refused"]} == {"phone in the black list"}
    assert {r["request"] for r in report["refused"]} == {1, 12}
    assert report["request_count"] == 13  # 200 targets per request
    assert report["counts"]["accepted"] == 2498 and report["counts"]["rejected"] == 2
    assert len(report["session_nos"]) == 13  # the partial requests' SessionNo too
    assert report["requests"][0]["RetCode"] == 18046 and report["requests"][0]["SessionNo"]

    with failed_out.open(encoding="utf-8", newline="") as handle:
        written = list(csv.reader(handle))
    assert written == [HEADER, rows[10], rows[2345]]

    got = received(sandbox)
    assert set(got) == {row[0] for row in rows} - set(refused)
    for phone, name, code, user_id in rows:
        if phone in refused:
            continue
        [message] = got[phone]  # exactly once
        assert message["params"] == (name, code)
        assert message["user_id"] == user_id
        assert message["text"] == f"【USMSSandbox】尊敬的{name}，您的编号是{code}。"


def test_failed_out_rows_resend_as_they_are(sandbox: SandboxServer, tmp_path: Path) -> None:
    rows = people(5)
    sandbox.config.refuse_numbers.add(rows[3][0])
    source = write_csv(tmp_path / "p.csv", [HEADER, *rows], bom=True)
    failed_out = tmp_path / "again.csv"
    send_csv(sandbox, source, "--failed-out", str(failed_out), expect=3)
    assert failed_out.read_bytes().startswith(b"\xef\xbb\xbf")  # like the input
    sandbox.config.refuse_numbers.clear()
    send_csv(sandbox, failed_out)
    assert [m["params"] for m in received(sandbox)[rows[3][0]]] == [(rows[3][1], rows[3][2])]


# ---- malformed input: exit 2, nothing sent ------------------------------------------------


MALFORMED = [
    (b"phone,name,code\n13800000000,A,1\n13800000001,B\n", "p.csv:3", "a cell is missing"),
    (b"phone,name,code\n13800000000,A,1,extra\n", "p.csv:2", "an extra cell"),
    (b"mobile,name,code\n13800000000,A,1\n", "p.csv:1", "no column named 'phone'"),
    (b"phone,name,code\n13800000000,A,1\n13800000001,\xff\xfe,2\n", "line 3", "UTF-8"),
    (b"phone,name,code\n13800000000,A,1\n13800000001,,2\n", "p.csv:3", "empty value in column"),
    (b"phone,name,code\n,A,1\n", "p.csv:2", "empty value in column 'phone'"),
    (b"phone,name,code\n12345,A,1\n", "p.csv:2", "invalid phone"),
    (b"phone,name,code\n13800000000,A,1\n+86 138 0000 0000,B,2\n", "p.csv:3", "already on line 2"),
    (b'phone,name,code\n13800000000,"A,1\n', "p.csv", "not a readable CSV"),
    (b"phone,name,code\n", "p.csv", "no rows"),
    (b"", "p.csv", "empty file"),
]


@pytest.mark.parametrize(("content", "where", "needle"), MALFORMED)
def test_malformed_csv_exits_2_and_sends_nothing(
    sandbox: SandboxServer, tmp_path: Path, content: bytes, where: str, needle: str
) -> None:
    path = tmp_path / "p.csv"
    path.write_bytes(content)
    result = run_usms("send", "--csv", str(path), env=env_for(sandbox, TWO_VARS), expect=2)
    assert where in result.stderr and needle in result.stderr, result.stderr
    assert "nothing was sent" in result.stderr
    assert "Traceback" not in result.stderr
    assert sum(sandbox.request_counts.values()) == 0


def test_skip_invalid_sends_the_good_rows_and_lists_the_rest(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    path = tmp_path / "p.csv"
    path.write_bytes(b"phone,name,code\n13800000000,A,1\n13800000001,B\n13800000002,C,3\n")
    result = send_csv(sandbox, path, "--skip-invalid", "--json")
    assert result.json["invalid"][0]["line"] == 3
    assert sorted(received(sandbox)) == ["13800000000", "13800000002"]


def test_wrong_column_options_exit_2(sandbox: SandboxServer, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "p.csv", [HEADER, *people(2)])
    for args, needle in [
        (("--param-columns", "name,nope"), "no column named 'nope'"),
        (("--phone-column", "tel"), "no column named 'tel'"),
        (("--user-id-column", "uid"), "no column named 'uid'"),
        (("--param-columns", "name,,code"), "empty column name"),
        (("13800000000",), "--csv cannot be combined with phone numbers"),
        (("-p", "1"), "-p/--param"),
        (("--preview", "2"), "add --dry-run"),
    ]:
        result = send_csv(sandbox, path, *args, expect=2)
        assert needle in result.stderr, (args, result.stderr)
    result = run_usms(
        "send", "--phone-column", "tel", "13800000000", env=env_for(sandbox, TWO_VARS), expect=2
    )
    assert "only work with --csv" in result.stderr
    assert sum(sandbox.request_counts.values()) == 0


# ---- reading: stdin, BOM, CRLF, columns ---------------------------------------------------


def test_csv_from_stdin(sandbox: SandboxServer) -> None:
    text = 'phone,name,code\n13800000000,"王, 五",007\n'
    send_csv(sandbox, "-", input=text.encode("utf-8"))
    assert sandbox.messages[0]["params"] == ("王, 五", "007")


def test_bom_and_crlf_with_a_line_break_inside_a_quoted_cell(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    rows = [["phone", "name", "code"], ["13800000000", "第一行\r\n第二行", "0042"]]
    path = write_csv(tmp_path / "p.csv", rows, bom=True, newline="\r\n")
    assert path.read_bytes().startswith(b"\xef\xbb\xbfphone,")
    send_csv(sandbox, path)
    assert sandbox.messages[0]["params"] == ("第一行\r\n第二行", "0042")


def test_param_columns_choose_the_order(sandbox: SandboxServer, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "p.csv", [["code", "phone", "name"], ["9", "13800000000", "Ann"]])
    send_csv(sandbox, path, "--param-columns", " name , code")
    assert sandbox.messages[0]["params"] == ("Ann", "9")


def test_default_params_are_the_other_columns_in_file_order_without_user_id(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    rows = [["Name", "user_id", "Phone", "code"], ["Ann", "tag-1", "13800000000", "007"]]
    path = write_csv(tmp_path / "p.csv", rows)
    result = send_csv(sandbox, path, "--json")
    assert result.json["columns"] == ["phone=Phone", "params=Name,code", "user_id=user_id"]
    [message] = sandbox.messages
    assert message["params"] == ("Ann", "007") and message["user_id"] == "tag-1"


def test_user_id_column_and_extend_code(sandbox: SandboxServer, tmp_path: Path) -> None:
    rows = [["phone", "tag", "name", "code"], ["13800000000", "t1", "A", "1"]]
    path = write_csv(tmp_path / "p.csv", rows)
    args = ("--user-id-column", "tag", "--extend-code", "42")
    send_csv(sandbox, path, *args)
    [message] = sandbox.messages
    assert (message["user_id"], message["extend_code"], message["params"]) == (
        "t1",
        "42",
        ("A", "1"),
    )


def test_template_params_absent_without_param_columns(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    # The sandbox refuses a target with TemplateParams (even []) for a template without
    # variables, like the API: exit 0 means the key was absent on the wire.
    path = write_csv(tmp_path / "p.csv", [["phone", "note"], ["13800000000", "x"]])
    send_csv(sandbox, path, "--param-columns", "", template=NO_VARS)
    assert sandbox.messages[0]["params"] == ()
    assert sandbox.messages[0]["text"] == "【USMSSandbox】您的订单已发货。"
    only_phone = write_csv(tmp_path / "q.csv", [["phone"], ["13800000001"]])
    send_csv(sandbox, only_phone, template=NO_VARS)


# ---- partial and total refusals -----------------------------------------------------------


def test_all_targets_of_one_request_refused_is_exit_3(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    rows = people(400)
    sandbox.config.refuse_numbers.update(row[0] for row in rows[200:])
    result = send_csv(sandbox, write_csv(tmp_path / "p.csv", [HEADER, *rows]), "--json", expect=3)
    first, second = result.json["requests"]
    assert first["status"] == "accepted" and first["RetCode"] == 0
    assert second["status"] == "rejected" and second["RetCode"] == 18046
    assert second["SessionNo"] is None
    assert len(result.json["refused"]) == 200
    assert "RetCode 18046" in result.stderr and "… and 180 more" in result.stderr
    assert len(sandbox.messages) == 200


def test_every_row_refused_is_exit_1(sandbox: SandboxServer, tmp_path: Path) -> None:
    rows = people(3)
    sandbox.config.refuse_numbers.update(row[0] for row in rows)
    result = send_csv(sandbox, write_csv(tmp_path / "p.csv", [HEADER, *rows]), expect=1)
    assert f"{mask_phone(rows[0][0])}: phone in the black list" in result.stderr


def test_retcode_0_with_fail_content_is_partial_too(sandbox: SandboxServer, tmp_path: Path) -> None:
    sandbox.config.batch_partial_ret_code = 0
    rows = people(4)
    sandbox.config.refuse_numbers.add(rows[1][0])
    result = send_csv(sandbox, write_csv(tmp_path / "p.csv", [HEADER, *rows]), "--json", expect=3)
    assert result.json["refused"] == [
        {"phone": rows[1][0], "reason": "phone in the black list", "request": 1}
    ]
    assert result.json["session_nos"]


def test_journal_resume_sends_only_the_rows_not_accepted(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    rows = people(250)
    refused = {rows[5][0], rows[220][0]}
    sandbox.config.refuse_numbers.update(refused)
    source = write_csv(tmp_path / "p.csv", [HEADER, *rows])
    journal = tmp_path / "send.jsonl"
    send_csv(sandbox, source, "--journal", str(journal), expect=3)
    assert len(sandbox.messages) == 248
    sandbox.config.refuse_numbers.clear()
    result = send_csv(sandbox, source, "--journal", str(journal), "--json")
    assert result.json["previously_accepted"] == 248
    assert sorted(m["phone"] for m in sandbox.messages[248:]) == sorted(refused)
    assert Counter(m["phone"] for m in sandbox.messages).most_common(1)[0][1] == 1
    # The journal belongs to this column mapping: another mapping is refused.
    other = send_csv(
        sandbox, source, "--journal", str(journal), "--param-columns", "code,name", expect=2
    )
    assert "different message" in other.stderr
    assert len(sandbox.messages) == 250


def test_wait_does_not_wait_for_refused_rows(sandbox: SandboxServer, tmp_path: Path) -> None:
    rows = people(3)
    sandbox.config.refuse_numbers.add(rows[2][0])
    path = write_csv(tmp_path / "p.csv", [HEADER, *rows])
    args = ("--wait", "--wait-interval", "0.1", "--wait-timeout", "20")
    result = send_csv(sandbox, path, *args, expect=3)
    assert "Receipts: 2 delivered." in result.stdout
    assert "gave up waiting" not in result.stderr


# ---- dry run and preview ------------------------------------------------------------------


def test_dry_run_preview_with_the_sandbox_renders_three_messages(tmp_path: Path) -> None:
    rows = [["phone", "code"], ["13800000000", "007"], ["+1 415 555 0100", "42"]]
    rows += [[f"1390000000{i}", f"0{i}"] for i in range(5)]
    path = write_csv(tmp_path / "p.csv", rows)
    result = run_usms(
        "send", "--csv", str(path), "--sandbox", "--dry-run", "--preview", "3", "--show-pii"
    )
    assert "Dry run: nothing was sent." in result.stdout
    assert "the first 3 of 7 messages" in result.stdout
    assert "【USMSSandbox】您的验证码是007，5分钟内有效。" in result.stdout
    assert "[USMSSandbox]您的验证码是42，5分钟内有效。" in result.stdout
    assert "您的验证码是00，" in result.stdout and "您的验证码是01，" not in result.stdout
    assert "sandbox →" not in result.stderr  # nothing reached the sandbox's inbox


def test_preview_without_credentials_shows_params_per_row(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "p.csv", [HEADER, *people(3)])
    args = ("send", "--csv", str(path), "-t", "UTX", "-s", "Acme", "--dry-run", "--preview", "2")
    result = run_usms(*args, "--show-pii")
    assert "the params of the first 2 of 3 rows" in result.stdout
    assert "name='张0, 李\"小0\"'" in result.stdout and "code='0123'" in result.stdout
    assert "no credentials" in result.stderr
    preview = run_usms(*args, "--json").json["preview"]
    assert [p["params"] for p in preview] == [
        {"name": '张0, 李"小0"', "code": "007"},
        {"name": "张1, 李1", "code": "0123"},
    ]
    assert preview[0]["text"] is None and preview[0]["user_id"] == "u0"


def test_preview_falls_back_when_the_template_look_up_fails(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "p.csv", [HEADER, *people(2)])
    # with credentials a dry run checks the template, as the real send would (issue 13 #6)
    refused = send_csv(sandbox, path, "-t", "UTNOPE", "--dry-run", "--preview", "1", expect=1)
    assert "RetCode 18017" in refused.stderr
    result = send_csv(sandbox, path, "-t", "UTNOPE", "--dry-run", "--offline", "--preview", "1")
    assert result.exit_code == 0, result.stderr
    assert "params of the first 1" in result.stdout
    ok = send_csv(sandbox, path, "--dry-run", "--preview", "5", "--show-pii")
    assert "【USMSSandbox】尊敬的张1, 李1，您的编号是0123。" in ok.stdout
    assert sandbox.request_counts["SendBatchUSMSMessage"] == 0


def test_request_lines_are_json(sandbox: SandboxServer, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "p.csv", [HEADER, *people(2)])
    result = send_csv(sandbox, path, "--dry-run", "--json")
    [request] = result.json["requests"]
    [task] = csvbatch.decode_task_content(request["params"]["TaskContent"])
    assert task["Target"][0] == {
        "Phone": "13900000000",
        "TemplateParams": ['张0, 李"小0"', "007"],
        "UserId": "u0",
    }
    assert json.dumps(result.json, ensure_ascii=False)


# ---- odd answers, from the signature-checking fake ----------------------------------------


def test_partial_then_unknown_and_a_stopping_refusal(fake: FakeUSMS, tmp_path: Path) -> None:
    def partial(form: dict[str, str]) -> Response:
        [task] = csvbatch.decode_task_content(form["TaskContent"])
        first = task["Target"][0]["Phone"]
        fail = [
            {"TemplateId": "UT1", "Target": [{"Phone": f"(86){first}", "FailureDetails": "空号"}]}
        ]
        return api(18046, "部分失败", SessionNo="sn-partial", SuccessCount=199, FailContent=fail)

    def broken(form: dict[str, str]) -> Response:
        return Response("oops", status=500)

    rows = people(300)
    source = write_csv(tmp_path / "p.csv", [HEADER, *rows])
    failed_out = tmp_path / "failed.csv"
    args = ("send", "--csv", str(source), "--base-url", fake.url, "-t", "UT1", "-s", "Acme")
    fake.answer(partial, broken)
    result = run_usms(*args, "-c", "1", "--failed-out", str(failed_out), env=creds(), expect=5)
    assert f"{mask_phone(rows[0][0])}: 空号 (request 1)" in result.stderr
    assert "SessionNo sn-partial  (199 numbers, 1 refused)" in result.stdout
    assert "100 rows with an UNKNOWN outcome left out" in result.stderr
    with failed_out.open(encoding="utf-8", newline="") as handle:
        assert list(csv.reader(handle)) == [HEADER, rows[0]]
    assert fake.requests[0]["Action"] == "SendBatchUSMSMessage"
    assert set(fake.requests[0]) == {
        "Action",
        "TaskContent",
        "PublicKey",
        "Signature",
    }  # signed as sent: no ProjectId when none is set

    fake.requests.clear()
    fake.answer(lambda form: api(18017, "template not approved"))
    result = run_usms(*args, "--failed-out", str(failed_out), "-c", "1", env=creds(), expect=1)
    assert fake.count == 1  # 18017 stops the batch: the other request is not sent
    assert len(failed_out.read_text(encoding="utf-8").splitlines()) == 301
