"""Click's own words in Chinese: help texts, headings, usage errors, wrapping by columns.
Imported only by Chinese runs; the language itself is chosen by ``usms_cli.i18n.choose``
(re-exported here), before Click parses anything.

Help texts stay English literals in the source; in Chinese they are replaced, just before Click
formats them, by their translations (``translate_tree``). The catalog keys are the exact texts
Click holds, which ``scripts/i18n.py`` collects from the built command tree.
"""

import contextlib
import re
from collections.abc import Iterator
from typing import Any

from typer import _click as click
from typer._click._textwrap import TextWrapper as ClickTextWrapper

from usms_cli.i18n import N_, LanguageError, choose, profile_language, tr

__all__ = ["LanguageError", "choose", "profile_language", "translate_tree"]

# Click's words that reach a person: headings, the usage prefix, the help option, errors.
CLICK_WORDS = (
    N_("Usage:"),
    N_("Options"),
    N_("Commands"),
    N_("Arguments"),
    N_("Show this message and exit."),
    N_("Try '{command}' for help."),
    N_("Error: {message}"),
)
# Click's usage errors, as patterns over its English message -> our message.
_USAGE_ERRORS: tuple[tuple[re.Pattern[str], str], ...] = (
    (
        re.compile(
            r"No such option: (?P<name>\S+) (?:Did you mean (?P<close>.+)\?|"
            r"\(Possible options: (?P<options>.+)\))$"
        ),
        N_("No such option: {name} (did you mean {close}?)"),
    ),
    (re.compile(r"No such option: (?P<name>\S+)$"), N_("No such option: {name}")),
    (re.compile(r"No such command '(?P<name>.+)'\.$"), N_("No such command '{name}'.")),
    (re.compile(r"Missing argument '(?P<name>.+)'\.$"), N_("Missing argument '{name}'.")),
    (re.compile(r"Missing option '(?P<name>.+)'\.$"), N_("Missing option '{name}'.")),
    (
        re.compile(r"Option '(?P<name>.+)' requires an argument\.$"),
        N_("Option '{name}' requires a value."),
    ),
    (
        re.compile(r"Got unexpected extra arguments? \((?P<name>.+)\)$"),
        N_("Unexpected extra argument(s): {name}"),
    ),
    (
        re.compile(r"Invalid value for (?P<name>.+?): (?P<why>.+)$", re.S),
        N_("Invalid value for {name}: {why}"),
    ),
    (re.compile(r"Missing command\.$"), N_("Missing command.")),
)
_CLICK_REASONS = (
    (
        re.compile(r"'(?P<value>.*)' is not a valid integer\.$"),
        N_("'{value}' is not a whole number."),
    ),
    (re.compile(r"'(?P<value>.*)' is not a valid float\.$"), N_("'{value}' is not a number.")),
    (
        re.compile(r"'(?P<value>.*)' is not one of (?P<choices>.+)\.$"),
        N_("'{value}' is not one of {choices}."),
    ),
    (
        re.compile(r"(?:File|Path) '(?P<value>.*)' does not exist\.$"),
        N_("'{value}' does not exist."),
    ),
    (
        re.compile(r"(?:File|Path|Directory) '(?P<value>.*)' is a directory\.$"),
        N_("'{value}' is a directory."),
    ),
)


# What Click appends to an option's help: [default: 30], [required], [env var: X].
_CLICK_EXTRAS = re.compile(r"\[(default|env var): ([^\]]*)\]|\[(required)\]")
_EXTRA_WORDS = {
    "default": N_("[default: {value}]"),
    "env var": N_("[env var: {value}]"),
    "required": N_("[required]"),
}


def _extra(match: re.Match[str]) -> str:
    if match.group(3):
        return tr(_EXTRA_WORDS["required"])
    return tr(_EXTRA_WORDS[match.group(1)], value=match.group(2))


# ---- Click in Chinese --------------------------------------------------------------------


class TranslatedFormatter(click.HelpFormatter):
    """Click's help layout with its words translated; a full-width colon ends a Chinese word.
    Text is wrapped by terminal columns (a Chinese character takes two) and may break between
    two Chinese characters, which Click's wrapper (``len``, spaces only) cannot do."""

    def write_text(self, text: str) -> None:
        with _wide_wrapping():
            super().write_text(text)

    def write_dl(self, rows: Any, col_max: int = 30, col_spacing: int = 2) -> None:
        rows = [(term, _CLICK_EXTRAS.sub(_extra, text)) for term, text in rows]
        with _wide_wrapping():
            super().write_dl(rows, col_max, col_spacing)

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        word = tr("Usage:")
        super().write_usage(prog, args, prefix=word if word.endswith("：") else word + " ")

    def write_heading(self, heading: str) -> None:
        word = tr(heading)
        self.write(f"{'':>{self.current_indent}}{word}{'：' if word != heading else ':'}\n")


_NO_LINE_START = set("，。、；：？！）」』》〉”’…·,.;:?!)]}")
_NO_LINE_END = set("（「『《〈“‘([{")


def _wide(ch: str) -> bool:
    import unicodedata

    return unicodedata.east_asian_width(ch) in "WF"


class WideTextWrapper(ClickTextWrapper):
    """Click's TextWrapper measuring terminal columns, with a break allowed between two wide
    characters but never before closing or after opening punctuation."""

    def _split(self, text: str) -> list[str]:
        chunks: list[str] = []
        for chunk in super()._split(text):
            if not any(_wide(ch) for ch in chunk):
                chunks.append(chunk)
                continue
            piece = ""
            for ch in chunk:
                glued = ch in _NO_LINE_START or (piece and piece[-1] in _NO_LINE_END)
                boundary = _wide(ch) or (piece and _wide(piece[-1]))
                if piece and boundary and not glued:
                    chunks.append(piece)
                    piece = ""
                piece += ch
            if piece:
                chunks.append(piece)
        return chunks

    def _wrap_chunks(self, chunks: list[str]) -> list[str]:
        from usms_cli.core.text import width

        lines: list[str] = []
        chunks = list(reversed(chunks))
        while chunks:
            line: list[str] = []
            used = 0
            indent = self.subsequent_indent if lines else self.initial_indent
            room = self.width - width(indent)
            if lines and not chunks[-1].strip():
                chunks.pop()  # no space at the start of a continuation line
            while chunks and used + width(chunks[-1]) <= room:
                used += width(chunks[-1])
                line.append(chunks.pop())
            if chunks and width(chunks[-1]) > room and not line:
                self._handle_long_word(chunks, line, used, room)
            while line and not line[-1].strip():
                line.pop()
            if line:
                lines.append(indent + "".join(line))
        return lines


@contextlib.contextmanager
def _wide_wrapping() -> Iterator[None]:
    """Click's ``wrap_text`` takes its wrapper class from ``_textwrap`` on each call."""
    from typer._click import _textwrap

    click_wrapper = _textwrap.TextWrapper
    _textwrap.TextWrapper = WideTextWrapper  # type: ignore[misc]
    try:
        yield
    finally:
        _textwrap.TextWrapper = click_wrapper  # type: ignore[misc]


class TranslatedContext(click.Context):
    formatter_class = TranslatedFormatter


def translate_tree(command: Any) -> None:
    """Put the translations of every help text of ``command`` and its subcommands in place."""
    for attr in ("help", "short_help", "epilog"):
        text = getattr(command, attr, None)
        if isinstance(text, str) and text:
            setattr(command, attr, tr(text))
    command.context_class = TranslatedContext
    _translate_help_option(command)
    _short_help_by_columns(command)
    for param in getattr(command, "params", ()):
        if getattr(param, "help", None):
            param.help = tr(param.help)
    for sub in getattr(command, "commands", {}).values():
        translate_tree(sub)


def _short_help_by_columns(command: Any) -> None:
    """A command's line in its group's list: its first sentence, cut to ``limit`` terminal
    columns (Click cuts English at a word, counting characters, and knows only ``.``)."""

    def get_short_help_str(limit: int = 45) -> str:
        from usms_cli.core.text import width

        text = command.short_help or command.help or ""
        text = " ".join(text.split("\n\n", 1)[0].split())
        end = text.find("。")
        text = text[: end + 1] if end >= 0 else text
        if width(text) <= limit:
            return text
        while width(text) > limit - 1:
            text = text[:-1]
        return text.rstrip("，、；：（ ") + "…"

    command.get_short_help_str = get_short_help_str


def _translate_help_option(command: Any) -> None:
    """Click makes the ``--help`` option when it formats help, outside ``params``."""
    made = command.get_help_option

    def get_help_option(ctx: click.Context) -> Any:
        option = made(ctx)
        if option is not None and option.help:
            option.help = tr(option.help)
        return option

    command.get_help_option = get_help_option


def help_texts(command: Any) -> list[str]:
    """Every help text of ``command`` and its subcommands, as Click holds them (for the
    catalog)."""
    found: list[str] = []
    for attr in ("help", "short_help", "epilog"):
        text = getattr(command, attr, None)
        if isinstance(text, str) and text:
            found.append(text)
    for param in getattr(command, "params", ()):
        for text in (getattr(param, "help", None), getattr(param, "rich_help_panel", None)):
            if text:
                found.append(text)
    for sub in getattr(command, "commands", {}).values():
        found += help_texts(sub)
    return found


def usage_message(message: str) -> str:
    """One of Click's usage errors in this run's language."""
    for pattern, template in _USAGE_ERRORS:
        match = pattern.match(message)
        if match:
            fields = {k: v for k, v in match.groupdict().items() if v is not None}
            if "why" in fields:
                fields["why"] = _reason(fields["why"])
            if "options" in fields:
                fields["close"] = fields.pop("options")
            return tr(template, **fields)
    return message


def _reason(text: str) -> str:
    for pattern, template in _CLICK_REASONS:
        match = pattern.match(text)
        if match:
            return tr(template, **match.groupdict())
    return text


def show_usage_error(exc: click.exceptions.UsageError) -> None:
    """``exc`` as Click shows it, in this run's language."""
    import sys

    parts = []
    ctx = exc.ctx
    if ctx is not None:
        parts.append(ctx.get_usage())
        if ctx.command.get_help_option(ctx) is not None:
            command = f"{ctx.command_path} {ctx.help_option_names[0]}"
            parts.append(tr("Try '{command}' for help.", command=command) + "\n")
    parts.append(tr("Error: {message}", message=usage_message(exc.format_message())))
    sys.stderr.write("\n".join(parts) + "\n")
