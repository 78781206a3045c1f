"""中文界面: the catalog is complete and well-formed, the language is chosen in the documented
order, Chinese reaches what a person reads and never what a script reads."""

from __future__ import annotations

import ast
import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_unchecked, run_usms
from usms_cli import i18n
from usms_cli.cli.language import LanguageError, choose

ROOT = Path(__file__).resolve().parent.parent


def _script() -> Any:
    spec = importlib.util.spec_from_file_location("i18n_script", ROOT / "scripts" / "i18n.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---- the catalog ----------------------------------------------------------------------------


def test_every_message_has_chinese_with_the_same_placeholders_and_the_mo_is_compiled() -> None:
    problems = list(_script().problems())
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems[:60])


def test_placeholders_are_compared_by_name() -> None:
    fields = _script().fields
    assert fields("sent {count} of {total:,}") == ["count", "total"]
    assert fields("a {{literal}} brace") == []


def _built_messages(path: Path) -> list[str]:
    """tr/tr_n/N_ calls whose message is built (f-string, +, %, .format()): the extractor
    cannot see it, so it would never be translated. A name (a constant marked with N_) is fine."""
    bad: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("tr", "tr_n", "N_"):
            count = 2 if node.func.id == "tr_n" else 1  # type: ignore[attr-defined]
            for arg in node.args[:count]:
                if isinstance(arg, ast.JoinedStr | ast.BinOp | ast.Call):
                    bad.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(arg)[:70]}")
    return bad


def test_messages_are_literals_so_the_catalog_sees_them() -> None:
    found = [b for p in sorted((ROOT / "usms_cli").rglob("*.py")) for b in _built_messages(p)]
    assert not found, "tr() of a built string:\n" + "\n".join(found)


def test_no_tr_runs_at_import_time() -> None:
    """The language is chosen per run, after import: a module-level tr() would freeze one."""
    found = []
    for path in sorted((ROOT / "usms_cli").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for statement in tree.body:
            if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                continue
            for node in ast.walk(statement):
                if isinstance(node, ast.Call) and getattr(node.func, "id", "") in ("tr", "tr_n"):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not found, "module-level tr(); use N_() and tr() where shown:\n" + "\n".join(found)


# ---- choosing the language --------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "environ", "expected"),
    [
        (["send"], {}, "en"),
        (["send"], {"LANG": "zh_CN.UTF-8"}, "zh"),
        (["send"], {"LANG": "zh_CN.UTF-8", "LC_ALL": "C"}, "en"),  # LC_ALL wins over LANG
        (["send"], {"LANG": "en_US.UTF-8", "LC_MESSAGES": "zh_TW.UTF-8"}, "zh"),
        (["send"], {"LANG": "en_US.UTF-8", "USMS_LANG": "zh"}, "zh"),
        (["send"], {"LANG": "zh_CN.UTF-8", "USMS_LANG": "en"}, "en"),
        (["send", "--lang", "en"], {"USMS_LANG": "zh"}, "en"),  # the option wins
        (["--lang=zh", "send"], {"USMS_LANG": "en"}, "zh"),
        (["send", "--", "--lang", "zh"], {}, "en"),  # after -- it is an argument
    ],
)
def test_the_language_is_chosen_in_the_documented_order(
    argv: list[str], environ: dict[str, str], expected: str
) -> None:
    assert choose(argv, environ)[0] == expected


def test_lang_is_taken_out_of_the_arguments_anywhere_before_the_double_dash() -> None:
    assert choose(["send", "--lang", "zh", "-t", "T"], {})[1] == ["send", "-t", "T"]
    assert choose(["send", "--", "--lang", "zh"], {})[1] == ["send", "--", "--lang", "zh"]


def test_the_profile_in_use_can_choose_the_language(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(
        json.dumps(
            [
                {"profile": "default", "active": True, "language": "zh"},
                {"profile": "ops", "language": "en"},
            ]
        ),
        encoding="utf-8",
    )
    environ = {"UCLOUD_SHARED_CONFIG_FILE": str(config), "LANG": "en_US.UTF-8"}
    assert choose(["send"], environ)[0] == "zh"
    assert choose(["send", "--profile", "ops"], {**environ, "LANG": "zh_CN.UTF-8"})[0] == "en"
    assert choose(["send"], {**environ, "UCLOUD_PROFILE": "ops"})[0] == "en"
    assert choose(["send"], {**environ, "USMS_LANG": "en"})[0] == "en"  # the setting wins
    config.write_text("{ not json", encoding="utf-8")
    assert choose(["send"], environ)[0] == "en"  # a broken file is the command's to report


@pytest.mark.parametrize("value", ["fr", "", "C"])
def test_a_language_that_is_neither_zh_nor_en_is_refused(value: str) -> None:
    with pytest.raises(LanguageError):
        choose(["send", "--lang", value], {})
    if value:
        with pytest.raises(LanguageError):
            choose(["send"], {"USMS_LANG": value})


def test_a_wrong_lang_is_exit_2_and_json_gets_one_object() -> None:
    result = run_unchecked("send", "--lang", "fr", "--json", "13800000000")
    assert result.exit_code == 2
    assert "--lang takes zh or en" in result.stderr
    assert result.json["exit_code"] == 2


# ---- what a person reads, what a script reads ----------------------------------------------


def test_help_is_chinese_with_lang_zh() -> None:
    result = run_usms("--lang", "zh", "--help")
    assert result.stdout.startswith("用法：usms ")
    assert "选项：" in result.stdout
    assert "显示本帮助并退出。" in result.stdout


def test_help_follows_the_locale_and_usms_lang() -> None:
    assert "用法：" in run_usms("send", "--help", env={"LANG": "zh_CN.UTF-8"}).stdout
    english = run_usms("send", "--help", env={"LANG": "zh_CN.UTF-8", "USMS_LANG": "en"})
    assert english.stdout.startswith("Usage: usms send")


def test_a_usage_error_is_chinese_but_its_json_stays_english() -> None:
    human = run_unchecked("send", "--lang", "zh", "--bogus")
    assert human.exit_code == 2
    assert "错误：没有这个选项：--bogus" in human.stderr
    scripted = run_unchecked("send", "--lang", "zh", "--bogus", "--json")
    assert scripted.exit_code == 2
    assert scripted.json["error"].startswith("No such option: --bogus")


def test_english_is_the_default_and_needs_no_catalog() -> None:
    i18n.set_language("en")
    assert i18n.tr("Options") == "Options"
    assert i18n.tr_n("{n} number", "{n} numbers", 2, n=2) == "2 numbers"


def test_tab_completion_ignores_the_language_setting() -> None:
    """Completion is not a run: it reads no profile and a bad USMS_LANG does not break it."""
    env = {"_USMS_COMPLETE": "complete_bash", "COMP_WORDS": "usms s", "COMP_CWORD": "1"}
    result = run_usms(env={**env, "USMS_LANG": "fr"})
    assert "send" in result.stdout.split()
