"""The send journal (usms_cli.engine.journal): what a run writes, what the next run reads back,
and how it splits the numbers into send, skip and hold back. Real files in tmp_path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from usms_cli.core.api import Message
from usms_cli.core.errors import ConfigError
from usms_cli.engine.journal import (
    JournalState,
    Writer,
    chunk_id,
    fingerprint,
    load,
    split_for_resume,
)

MESSAGE = Message("UT1", "Acme", ("1",))
A, B, C, D = "13900000001", "13900000002", "13900000003", "13900000004"


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def write_run(
    path: Path, *requests: tuple[list[str], str | None], message: Message = MESSAGE
) -> None:
    """One run: a header, then per request a ``sending`` line and (unless the status is None,
    a killed run) its result."""
    writer = Writer(path, message)
    writer.run("usms-cli test")
    for index, (numbers, status) in enumerate(requests, start=1):
        cid = chunk_id(writer.fingerprint, numbers)
        writer.sending(cid, index, numbers)
        if status is not None:
            session_no = f"sn-{index}" if status == "accepted" else None
            writer.result(cid, index, numbers, status, 0, "ok", session_no, "req", None)
    writer.close()


def test_a_run_writes_a_header_then_sending_then_the_result(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    writer = Writer(path, MESSAGE)
    writer.run("usms-cli 1.0")
    cid = chunk_id(writer.fingerprint, [A, B])
    writer.sending(cid, 1, [A, B])
    # flushed before the request goes out: a kill now still leaves the line on disk
    assert [r["status"] for r in lines(path)[1:]] == ["sending"]
    writer.result(cid, 1, [A, B], "accepted", 0, "ok", "sn-1", "req-1", None, refused={B: "空号"})
    writer.close()
    header, sending, result = lines(path)
    assert header["event"] == "run" and header["fingerprint"] == fingerprint(MESSAGE)
    assert (header["template_id"], header["sig_content"], header["params"]) == (
        "UT1",
        "Acme",
        ["1"],
    )
    assert sending["id"] == result["id"] == cid
    assert result["status"] == "accepted" and result["numbers"] == [A, B]
    assert (result["SessionNo"], result["refused"]) == ("sn-1", {B: "空号"})
    assert "time" in result


def test_load_reads_back_what_was_accepted_and_what_is_unknown(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    write_run(path, ([A], "accepted"), ([B], "unknown"), ([C], "rejected"), ([D], None))
    state = load(path, MESSAGE)
    assert state.accepted == {A: "sn-1"}
    assert state.unknown == {B, D}  # D: sent by a run that died before the answer
    assert state.runs == 1 and not state.torn_last_line


def test_a_number_refused_inside_an_accepted_request_is_not_accepted(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    writer = Writer(path, MESSAGE)
    writer.run("test")
    cid = chunk_id(writer.fingerprint, [A, B])
    writer.sending(cid, 1, [A, B])
    writer.result(cid, 1, [A, B], "accepted", 18046, "partial", "sn-1", None, None, {B: "空号"})
    writer.close()
    state = load(path, MESSAGE)
    assert set(state.accepted) == {A} and state.unknown == set()


def test_a_later_run_settles_what_an_earlier_one_left_unknown(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    write_run(path, ([A], "unknown"), ([B], "unknown"))
    write_run(path, ([A], "accepted"), ([B], "not_sent"))  # --resend-unknown
    state = load(path, MESSAGE)
    assert state.runs == 2
    assert set(state.accepted) == {A} and state.unknown == set()


def test_a_missing_journal_is_an_empty_one(tmp_path: Path) -> None:
    assert load(tmp_path / "new.jsonl", MESSAGE) == JournalState()


@pytest.mark.parametrize("resend_unknown", [False, True])
def test_resume_splits_in_input_order(resend_unknown: bool) -> None:
    state = JournalState(accepted={C: "sn-1", A: None}, unknown={B})
    send, done, held = split_for_resume([D, C, B, A], state, resend_unknown=resend_unknown)
    assert done == [C, A]
    if resend_unknown:
        assert (send, held) == ([D, B], [])
    else:
        assert (send, held) == ([D], [B])


# ---- torn lines and foreign files ------------------------------------------------------------


def test_a_torn_last_line_is_tolerated_and_the_next_run_starts_on_a_new_line(
    tmp_path: Path,
) -> None:
    path = tmp_path / "run.jsonl"
    write_run(path, ([A], "accepted"))
    with path.open("a", encoding="utf-8") as handle:
        handle.write('{"event": "request", "id": "abc", "index": 2, "sta')  # kill -9 here
    state = load(path, MESSAGE)
    assert state.torn_last_line and set(state.accepted) == {A}
    write_run(path, ([B], "accepted"))
    raw = path.read_text(encoding="utf-8")
    assert '"sta\n{"event": "run"' in raw  # the torn line kept, the new run on its own line
    again = load(path, MESSAGE)  # and every later run still reads the journal
    assert set(again.accepted) == {A, B} and again.runs == 2


def test_a_broken_line_in_the_middle_is_refused_naming_the_line(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    write_run(path, ([A], "accepted"))
    text = path.read_text(encoding="utf-8").splitlines()
    text.insert(1, "not json")
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="line 2: not a journal record"):
        load(path, MESSAGE)


def test_a_journal_for_another_message_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    write_run(path, ([A], "accepted"), message=Message("UT1", "Acme", ("2",)))
    with pytest.raises(ConfigError, match="different message") as caught:
        load(path, MESSAGE)
    assert "template 'UT1', signature 'Acme', 1 param(s)" in str(caught.value)


def test_records_without_a_run_header_are_not_a_journal(tmp_path: Path) -> None:
    path = tmp_path / "run.jsonl"
    record = {"event": "request", "id": "x", "status": "accepted", "numbers": [A]}
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="no run header|cannot be trusted"):
        load(path, MESSAGE)


def test_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="is a directory"):
        load(tmp_path, MESSAGE)


# ---- identity --------------------------------------------------------------------------------


def test_the_fingerprint_covers_everything_that_makes_the_message() -> None:
    base = fingerprint(MESSAGE)
    assert base == fingerprint(Message("UT1", "Acme", ("1",)))
    for other in (
        Message("UT2", "Acme", ("1",)),
        Message("UT1", "Other", ("1",)),
        Message("UT1", "Acme", ("2",)),
        Message("UT1", "Acme", ("1",), extend_code="7"),
        Message("UT1", "Acme", ("1",), user_id="u"),
        Message("UT1", "Acme", ("1",), project_id="org-x"),
    ):
        assert fingerprint(other) != base, other


def test_journal_chunk_ids_cover_the_row_params() -> None:
    message = Message("UT1", "Sig")
    assert fingerprint(message) != fingerprint(message, ["phone=phone", "params=a", "user_id="])
    phones = ["13800000000"]
    assert chunk_id("f", phones) == chunk_id("f", phones, None)
    assert chunk_id("f", phones, ['[["1"], null]']) != chunk_id("f", phones, ['[["2"], null]'])
