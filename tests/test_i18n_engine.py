"""The engine's messages in Chinese: .env and profile problems, an unreachable API, input bounds,
the journal. ``--json`` runs stay English, and what is written to files (the journal) stays
English in a Chinese run."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.conftest import closed_port, creds, run_usms, usms_send
from usms_cli import i18n
from usms_cli.engine import inputs
from usms_cli.engine.phrases import Phrase
from usms_cli.i18n import N_

# Each test names its language (--lang, USMS_LANG): the Chinese pass leaves it alone.
pytestmark = pytest.mark.languages_inside

CJK = re.compile(r"[\u4e00-\u9fff]")
ZH = {"USMS_LANG": "zh"}


def dead_url() -> str:
    return f"http://127.0.0.1:{closed_port()}"


def bad_env_file() -> None:
    Path(".env").write_text(
        "USMS_SIG_CONTENT=UCloud\nthis line is not a setting\nUCLOUD_PROJET_ID=org-1\n",
        encoding="utf-8",
    )


def test_a_bad_env_line_and_a_misspelt_key_are_warned_in_chinese() -> None:
    bad_env_file()
    result = usms_send(dead_url(), "13800000000", env=ZH, expect=4)
    assert "./.env：第 2 行无法读取（请写成 KEY=value）；已忽略该行" in result.stderr
    assert (
        "UCLOUD_PROJET_ID 不是 usms 读取的设置；你是不是想写 UCLOUD_PROJECT_ID？" in result.stderr
    )


def test_an_unreachable_api_is_exit_4_in_chinese_and_the_journal_stays_english(
    tmp_path: Path,
) -> None:
    journal = tmp_path / "send.jsonl"
    result = usms_send(dead_url(), "13800000000", "--journal", str(journal), "--lang", "zh",
                       expect=4)  # fmt: skip
    assert "UCloud API 主机拒绝连接" in result.stderr
    assert "connection refused" not in result.stderr
    records = [json.loads(line) for line in journal.read_text(encoding="utf-8").splitlines()]
    errors = [r["error"] for r in records if r.get("status") == "not_sent"]
    assert errors == ["connection refused by the API host"]


def test_an_unreachable_api_with_json_is_english() -> None:
    bad_env_file()
    result = usms_send(dead_url(), "13800000000", "--json", env=ZH, expect=4)
    assert not CJK.search(result.stdout + result.stderr), result.stdout + result.stderr
    assert "connection refused by the API host" in result.stdout
    assert "line 2 could not be read" in result.stdout + result.stderr


def test_a_too_large_csv_is_exit_2_in_chinese(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inputs, "MAX_CSV_BYTES", 1 << 20)  # 1 MiB instead of 256: a small file
    rows = tmp_path / "rows.csv"
    rows.write_text("phone\n" + "13800000000\n" * 100_000, encoding="utf-8")
    result = usms_send(dead_url(), "--csv", str(rows), env=ZH, expect=2)
    assert f"{rows}：超过 1 MiB，超出 usms 单次运行能发送的量；未发送任何短信" in result.stderr
    assert "请拆成几个小文件，逐个发送" in result.stderr

    english = usms_send(dead_url(), "--csv", str(rows), "--json", env=ZH, expect=2)
    assert "larger than 1 MiB, more than usms sends in one run" in english.stdout
    assert not CJK.search(english.stdout + english.stderr)


def test_a_line_too_long_for_a_numbers_file_is_exit_2_in_chinese(tmp_path: Path) -> None:
    path = tmp_path / "numbers.txt"
    path.write_bytes(b"13800000000\n" + b"1" * (2 << 20) + b"\n")
    result = usms_send(dead_url(), "-f", str(path), env=ZH, expect=2)
    assert f"{path}：第 2 行超过" in result.stderr
    assert "个字符，不像是接收人列表；未发送任何短信" in result.stderr


def test_a_missing_numbers_file_and_a_directory_journal_in_chinese(tmp_path: Path) -> None:
    missing = tmp_path / "nope.txt"
    result = usms_send(dead_url(), "-f", str(missing), env=ZH, expect=2)
    assert f"{missing}：文件不存在" in result.stderr
    result = usms_send(dead_url(), "13800000000", "--journal", str(tmp_path), env=ZH, expect=2)
    assert "'--journal' 的值无效" in result.stderr  # Click refuses a directory first


def test_an_unknown_profile_in_chinese_and_english_with_json() -> None:
    env = {**creds(), **ZH}
    result = run_usms("config", "show", "--profile", "nope", env=env, expect=2)
    assert "找不到配置档 'nope'（来自--profile）；两个文件都不存在" in result.stderr
    english = run_usms("config", "show", "--profile", "nope", "--json", env=env, expect=2)
    assert "profile 'nope' (from --profile) not found in" in english.stdout
    assert not CJK.search(english.stdout + english.stderr)


def test_a_bad_timeout_names_its_source_in_chinese() -> None:
    env = {**creds(), **ZH, "UCLOUD_TIMEOUT_SECOND": "soon"}
    result = usms_send(dead_url(), "13800000000", env=env, expect=2)
    assert "来自环境变量 UCLOUD_TIMEOUT_SECOND的超时不是数字" in result.stderr


def test_a_phrase_is_english_data_that_reads_in_the_run_language() -> None:
    inner = Phrase(N_("no answer within {seconds:g}s (read timeout)"), seconds=3.0)
    outer = Phrase(N_("not sent: an earlier request failed ({why})"), why=inner)
    english = "not sent: an earlier request failed (no answer within 3s (read timeout))"
    i18n.set_language("zh")
    try:
        assert outer == english and json.dumps(outer) == json.dumps(english)
        assert f"{outer}" == str(outer) == "未发送：之前的请求失败（3 秒内没有应答（读取超时））"
    finally:
        i18n.set_language("en")
    assert str(outer) == english
