"""--help in Chinese: every top-level command shows its own help, option help and epilog from
po/zh_CN/help.po with ``--lang zh`` (or ``USMS_LANG=zh``), and English --help stays as it was.
README.zh-CN.md keeps README.md's set-up commands and exit codes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main

from tests.conftest import run_usms
from usms_cli import i18n
from usms_cli.cli import app

# Each test names its language (--lang, USMS_LANG): the Chinese pass leaves it alone.
pytestmark = pytest.mark.languages_inside

CJK = re.compile(r"[\u4e00-\u9fff]")
COMMANDS = (
    "send",
    "receipt",
    "stats",
    "api",
    "sandbox",
    "listen",
    "template",
    "signature",
    "blacklist",
    "history",
    "suppress",
    "config",
)


def flat(text: str) -> str:
    """``text`` without whitespace: Click rewraps paragraphs, and joins a paragraph's lines."""
    return "".join(text.split())


def chinese(message: str) -> str:
    before = i18n.language()
    i18n.set_language("zh")
    try:
        return i18n.tr(message)
    finally:
        i18n.set_language(before)


def texts(command: Any) -> Iterator[str]:
    """The help texts Click shows on this command's own --help page."""
    for attr in ("help", "epilog"):
        text = getattr(command, attr, None)
        if text:
            yield text
    for param in command.params:
        if getattr(param, "help", None) and not getattr(param, "hidden", False):
            yield param.help


def command(name: str) -> Any:
    return typer.main.get_command(app).commands[name]  # type: ignore[attr-defined]


def test_every_top_level_command_is_listed_here() -> None:
    assert set(typer.main.get_command(app).commands) == set(COMMANDS)  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", COMMANDS)
def test_each_command_help_is_chinese_with_lang_zh(name: str) -> None:
    shown = run_usms("--lang", "zh", name, "--help").stdout
    assert shown.startswith(f"用法：usms {name} ")
    assert "显示本帮助并退出。" in shown
    for english in texts(command(name)):
        translated = chinese(english)
        assert translated != english and CJK.search(translated), english
        assert flat(translated) in flat(shown), english
        if len(english) > 20:  # short ones ("Template id.") may be part of a longer text
            assert flat(english) not in flat(shown), english


def test_usms_lang_and_subcommands() -> None:
    shown = run_usms("template", "create", "--help", env={"USMS_LANG": "zh"}).stdout
    assert shown.startswith("用法：usms template create ")
    assert "创建模板（CreateUSMSTemplate）并打印其 ID。" in shown
    assert "退出码：0完成·1被API拒绝" in flat(shown)
    assert "usms template create --purpose code --name login" in shown


def test_examples_exit_codes_and_sections_in_chinese() -> None:
    shown = run_usms("send", "--lang", "zh", "--help").stdout
    for heading in (
        "参数：",
        "选项：",
        "接收人",
        "短信内容",
        "个性化 CSV",
        "大批量发送",
        "安全",
        "输出",
    ):
        assert heading in shown
    assert "\n  示例：\n\n    usms send -t UTA1234 -s Acme -p 123456 13800000000\n" in shown
    assert "    SN=$(usms send -q -t UTA1234 -s Acme 13800000000)\n" in shown
    assert "退出码：0全部已提交·1被API拒绝·2用法、输入或配置有误（未发送）" in flat(shown)
    assert "{1}、{2}、…" in shown  # the template placeholders are kept, not filled in


def test_english_help_is_unchanged_before_and_after_a_chinese_run() -> None:
    before = {name: run_usms(name, "--help").stdout for name in COMMANDS}
    root = run_usms("--help").stdout
    for name in COMMANDS:
        run_usms("--lang", "zh", name, "--help")
    assert run_usms("--help").stdout == root == run_usms("--lang", "en", "--help").stdout
    assert not CJK.search(root.replace("【】", ""))
    for name, text in before.items():
        again = run_usms(name, "--help").stdout
        assert again == text == run_usms(name, "--lang", "en", "--help").stdout
        assert again.startswith(f"Usage: usms {name} ")
        for english in texts(command(name)):
            assert flat(english) in flat(again), english


def test_send_sections_keep_the_english_order() -> None:
    english = run_usms("send", "--help").stdout
    shown = run_usms("--lang", "zh", "send", "--help").stdout
    order = ["Recipients", "Message", "Personalised CSV", "Big batches", "Safety", "Output"]
    order.append("Connection")
    assert [english.index(f"\n{h}:") for h in order] == sorted(
        english.index(f"\n{h}:") for h in order
    )
    positions = [shown.index(f"\n{chinese(h)}") for h in order]
    assert positions == sorted(positions)


# ---- README.zh-CN.md -------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent


def first_block(path: Path, heading: str) -> str:
    """The first code block under ``## heading``, as .ci/run reads it."""
    section = path.read_text(encoding="utf-8").split(f"\n## {heading}\n", 1)[1]
    match = re.search(r"```(?:sh|bash|console)?\n(.*?)```", section.split("\n## ", 1)[0], re.S)
    assert match is not None, heading
    return match.group(1).strip()


def test_the_chinese_readme_has_the_same_set_up_commands() -> None:
    english, chinese_readme = ROOT / "README.md", ROOT / "README.zh-CN.md"
    assert "(README.md)" in chinese_readme.read_text(encoding="utf-8").split("\n## ", 1)[0]
    assert first_block(chinese_readme, "快速开始") == first_block(english, "Quick start")
    assert first_block(chinese_readme, "测试") == first_block(english, "Tests")


def test_the_chinese_readme_lists_the_same_exit_codes() -> None:
    def codes(path: Path, heading: str) -> list[str]:
        section = path.read_text(encoding="utf-8").split(f"\n## {heading}\n", 1)[1]
        return re.findall(r"^\| (\d+) \|", section.split("\n## ", 1)[0], re.M)

    english = codes(ROOT / "README.md", "Exit codes")
    assert english == ["0", "1", "2", "3", "4", "5", "70", "130"]
    assert codes(ROOT / "README.zh-CN.md", "退出码") == english
