"""The language a person reads: English, or Simplified Chinese from a gettext catalog.

Every layer marks what a person reads and nothing a script reads (JSON keys and values, ``-q``
output, exit codes, RetCodes, CI outputs, journal and history files):

- ``tr("Sent {count}", count=n)``: translate now, then fill the ``{fields}``;
- ``tr_n("{n} number", "{n} numbers", n, n=n)``: the same with a plural (Chinese has one form);
- ``N_("...")``: a constant translated later, where it is shown (``tr(CONSTANT)``).

``tr`` is called when a message is made, never at import: the language is chosen per run
(``usms --lang``, ``USMS_LANG``, the UCloud profile's ``language``, ``LC_ALL``/``LC_MESSAGES``/
``LANG``), after the modules are imported. English needs no file; Chinese reads the compiled
catalog ``usms_cli/locale/zh_CN/LC_MESSAGES/usms.mo`` once. Its sources are ``po/zh_CN/*.po``;
``python scripts/i18n.py`` extracts and compiles them (README "Translations").

Stdlib only and cheap to import: every layer, the pure core included, may import this module;
the catalog is the one file it reads, on first use.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

LANGUAGES = ("en", "zh")
DOMAIN = "usms"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"
CATALOG = LOCALE_DIR / "zh_CN" / "LC_MESSAGES" / f"{DOMAIN}.mo"

_language = "en"
_catalog: Any = None  # gettext.GNUTranslations for Chinese, loaded on first use


def language() -> str:
    """The language of this run: ``en`` or ``zh``."""
    return _language


def set_language(name: str) -> None:
    global _language
    if name not in LANGUAGES:
        raise ValueError(f"unknown language {name!r}")
    _language = name


def _zh() -> Any:
    global _catalog
    if _catalog is None:
        import gettext

        try:
            with CATALOG.open("rb") as file:
                _catalog = gettext.GNUTranslations(file)
        except OSError:  # a broken install: English rather than a traceback
            _catalog = gettext.NullTranslations()
    return _catalog


def N_(message: str) -> str:
    """Mark a constant for translation where it is shown; returns it unchanged."""
    return message


def tr(message: str, /, **fields: Any) -> str:
    """``message`` in this run's language, with ``{fields}`` filled in when given."""
    text = message if _language == "en" else str(_zh().gettext(message))
    return text.format(**fields) if fields else text


def tr_n(singular: str, plural: str, count: int, /, **fields: Any) -> str:
    """``singular`` or ``plural`` by ``count``, in this run's language, fields filled in."""
    if _language == "en":
        text = singular if count == 1 else plural
    else:
        text = str(_zh().ngettext(singular, plural, count))
    return text.format(**fields) if fields else text


# ---- choosing the language of a run -----------------------------------------------------


def parse_language(value: str) -> str | None:
    """``zh``/``en`` from a setting or a locale name (``zh_CN.UTF-8``, ``zh-Hans``, ``en_US``,
    ``C``); None for anything else."""
    head = value.strip().lower().replace("-", "_")
    if head.startswith("zh"):
        return "zh"
    if head.startswith("en") or head.split(".")[0] in ("c", "posix"):
        return "en"
    return None


def lang_argument(argv: Sequence[str]) -> tuple[str | None, list[str]]:
    """The value of a ``--lang`` option anywhere before ``--``, and argv without it. A bare
    ``--lang`` at the end gives ``""`` (an error for the caller to report)."""
    rest: list[str] = []
    value: str | None = None
    words = list(argv)
    i = 0
    while i < len(words):
        word = words[i]
        if word == "--":
            rest += words[i:]
            break
        if word == "--lang":
            value = words[i + 1] if i + 1 < len(words) else ""
            i += 2
            continue
        if word.startswith("--lang="):
            value = word.split("=", 1)[1]
        else:
            rest.append(word)
        i += 1
    return value, rest


def from_locale(environ: Mapping[str, str]) -> str:
    """POSIX order: the first of LC_ALL, LC_MESSAGES, LANG that is set; ``zh_*`` is Chinese."""
    for name in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = environ.get(name)
        if value:
            return "zh" if parse_language(value) == "zh" else "en"
    return "en"


class LanguageError(Exception):
    """A ``--lang`` or ``USMS_LANG`` that is neither zh nor en."""


def choose(argv: Sequence[str], environ: Mapping[str, str]) -> tuple[str, list[str]]:
    """This run's language and the arguments without ``--lang``."""
    value, rest = lang_argument(argv)
    if value is not None:
        chosen = _setting(value)
        if chosen is None:
            raise LanguageError(f"--lang takes zh or en, not {value!r}")
        return chosen, rest
    setting = environ.get("USMS_LANG", "").strip()
    if setting:
        chosen = _setting(setting)
        if chosen is None:
            raise LanguageError(f"USMS_LANG={setting!r} is neither zh nor en")
        return chosen, rest
    profile = profile_language(rest, environ)
    return profile or from_locale(environ), rest


def _setting(value: str) -> str | None:
    """zh or en (``zh-CN``, ``zh_CN.UTF-8``, ``en_US`` too); a locale's ``C`` is not a language."""
    return None if value.strip().lower() in ("c", "posix") else parse_language(value)


def profile_language(argv: Sequence[str], environ: Mapping[str, str]) -> str | None:
    """The ``language`` of the UCloud profile this run uses, if it names zh or en. Anything
    wrong with the file is left to the command that reads the profile for real."""
    path = environ.get("UCLOUD_SHARED_CONFIG_FILE") or str(Path.home() / ".ucloud/config.json")
    try:
        with open(Path(path).expanduser(), "rb") as file:
            data = file.read(1024 * 1024)
    except OSError:
        return None
    import json  # only when there is a profile file

    try:
        entries = json.loads(data)
    except ValueError:
        return None
    if not isinstance(entries, list):
        return None
    wanted = _profile_argument(argv) or environ.get("UCLOUD_PROFILE")
    entries = [e for e in entries if isinstance(e, dict)]
    if wanted:
        entry = next((e for e in entries if e.get("profile") == wanted), None)
    else:
        entry = next((e for e in entries if e.get("active") is True), None)
        entry = entry or next((e for e in entries if e.get("profile") == "default"), None)
    value = entry.get("language") if entry else None
    return parse_language(value) if isinstance(value, str) else None


def _profile_argument(argv: Sequence[str]) -> str | None:
    for i, word in enumerate(argv):
        if word == "--":
            break
        if word == "--profile" and i + 1 < len(argv):
            return argv[i + 1]
        if word.startswith("--profile="):
            return word.split("=", 1)[1]
    return None
