"""中文界面 for what the core knows: RetCode hints, phone-number and CSV rules, SessionNos, ages,
credential refusals and exit-code meanings reach a person in Chinese with ``--lang zh`` (or
``USMS_LANG=zh``), while ``--json`` and ``-q`` stay English. Real servers: the sandbox."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TWO_VARS, env_for, run_unchecked, run_usms
from usms_cli import i18n
from usms_cli.core.codes import HINTS, hint_for, status_text
from usms_cli.core.errors import EXIT_MEANINGS
from usms_cli.core.review import shown_lookup
from usms_cli.sandbox import SandboxServer

# Each test names its language (--lang, USMS_LANG): the Chinese pass leaves it alone.
pytestmark = pytest.mark.languages_inside


def zh(message: str, **fields: Any) -> str:
    """``message`` as the Chinese catalog has it."""
    before = i18n.language()
    i18n.set_language("zh")
    try:
        return i18n.tr(message, **fields)
    finally:
        i18n.set_language(before)


def test_a_refused_send_shows_the_retcode_hint_in_chinese(sandbox: SandboxServer) -> None:
    env = env_for(sandbox)
    result = run_usms("--lang", "zh", "send", "13800000000", "-t", "UTNOPE", env=env, expect=1)
    assert "被 UCloud API 拒绝：RetCode 18017" in result.stderr
    assert "请检查 -t/--template-id：模板必须存在且已审核通过" in result.stderr
    # The API's own message is shown as UCloud wrote it.
    assert "'Template UTNOPE does not exist'" in result.stderr


def test_the_same_refusal_with_json_stays_english(sandbox: SandboxServer) -> None:
    env = env_for(sandbox)
    result = run_unchecked("--lang", "zh", "send", "13800000000", "-t", "UTNOPE", "--json", env=env)
    assert result.exit_code == 1
    text = result.stdout + result.stderr
    assert "check -t/--template-id: the template must exist and be approved" in text
    assert "was refused by the API: RetCode 18017" in text
    assert not any("\u4e00" <= ch <= "\u9fff" for ch in text.replace("【", "").replace("】", ""))


def test_a_csv_without_enough_param_columns_names_the_columns_in_chinese(
    sandbox: SandboxServer, tmp_path: Path
) -> None:
    path = tmp_path / "to.csv"
    path.write_text("phone,name\n13800000000,Li\n", encoding="utf-8")
    env = {**env_for(sandbox, TWO_VARS), "USMS_LANG": "zh"}
    result = run_usms("send", "--csv", str(path), "--dry-run", env=env, expect=2)
    assert "模板有 2 个变量，但给了 1 个参数；未发送任何短信" in result.stderr
    assert "模板中的每个 {N} 都要对应 CSV 的一列（--param-columns A,B）" in result.stderr
    assert sandbox.request_counts.get("SendBatchUSMSMessage", 0) == 0


def test_bad_phone_numbers_are_explained_in_chinese(sandbox: SandboxServer) -> None:
    env = env_for(sandbox)
    result = run_usms("--lang", "zh", "send", "1380000000x", "12345", env=env, expect=2)
    assert "含有字母" in result.stderr
    assert "长度不对：中国大陆手机号为 11 位，这个有 5 位" in result.stderr
    assert sandbox.request_counts.get("SendUSMSMessage", 0) == 0


def test_bad_phone_numbers_in_json_stay_english(sandbox: SandboxServer) -> None:
    env = env_for(sandbox)
    result = run_usms("--lang", "zh", "send", "--json", "1380000000x", "12345", env=env, expect=2)
    text = result.stdout + result.stderr
    assert "contains letters" in text
    assert "wrong length: a mainland mobile has 11 digits, this has 5" in text
    assert "含有字母" not in text


def test_csv_file_problems_are_explained_in_chinese(sandbox: SandboxServer, tmp_path: Path) -> None:
    path = tmp_path / "to.csv"
    path.write_text("phone,code\n13800000000,1\n13800000000,2\n", encoding="utf-8")
    env = {**env_for(sandbox), "USMS_LANG": "zh"}
    result = run_unchecked("send", "--csv", str(path), env=env)
    assert "已在第 2 行出现过（每个号码只能出现一次，否则会收到两条短信）" in result.stderr
    missing = tmp_path / "none.csv"
    missing.write_text("name,code\nA,1\n", encoding="utf-8")
    result = run_usms("send", "--csv", str(missing), env=env, expect=2)
    assert "表头中没有名为 'phone' 的列" in result.stderr
    assert "第一行是列名；可用 --phone-column NAME 指定其他列" in result.stderr


def test_a_bad_session_no_and_a_bad_age_in_chinese(sandbox: SandboxServer) -> None:
    env = env_for(sandbox)
    result = run_usms("--lang", "zh", "receipt", "nope", env=env, expect=2)
    assert "'nope' 不是发送批次号 SessionNo" in result.stderr
    result = run_usms("history", "--since", "0d", env={"USMS_LANG": "zh"}, expect=2)
    assert "时长必须大于零，实际为 '0d'" in result.stderr


def test_a_credential_refusal_in_config_check_is_chinese(sandbox: SandboxServer) -> None:
    env = {**env_for(sandbox), "UCLOUD_PRIVATE_KEY": "not-the-right-private-key"}
    result = run_usms("--lang", "zh", "config", "check", env=env, expect=1)
    assert "私钥与公钥不匹配" in result.stderr
    assert "请检查私钥（来自 环境变量 UCLOUD_PRIVATE_KEY）" in result.stderr
    english = run_usms("config", "check", env=env, expect=1)
    assert "private key does not match the public key" in english.stderr


def test_quiet_output_of_a_review_status_stays_english(sandbox: SandboxServer) -> None:
    env = env_for(sandbox)
    result = run_usms("--lang", "zh", "template", "UTSANDBOX1", "-q", env=env)
    assert result.stdout.strip() == "approved"


def test_tables_of_texts_are_read_in_the_language_of_the_run() -> None:
    assert HINTS[18013] == "the account or project has no SMS balance left"
    assert EXIT_MEANINGS[5] == "outcome unknown; may have been sent"
    i18n.set_language("zh")
    try:
        assert HINTS[18013] == "账号或项目的短信余额已用完"
        assert HINTS.get(99999) is None
        assert EXIT_MEANINGS[5] == "结果未知（可能已发送）"
        assert hint_for(
            18017,
            "template",
        ) and "此项目中没有这个模板" in (hint_for(18017, "template") or "")
        assert status_text(1) == "审核中"
        rows = shown_lookup("template", {"TemplateId": "UT1", "Purpose": 3, "Status": 9})
        assert ("用途", "营销") in rows and ("状态", "未知（9）") in rows
        # What a script reads keeps the English words.
        assert HINTS.english[18013] == "the account or project has no SMS balance left"  # type: ignore[attr-defined]
    finally:
        i18n.set_language("en")
