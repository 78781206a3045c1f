"""The Chinese catalog: extract what a person reads, keep the .po sources, compile the .mo.

    python scripts/i18n.py extract   # add new messages to po/zh_CN/<area>.po, drop gone ones
    python scripts/i18n.py compile   # po/zh_CN/*.po -> usms_cli/locale/zh_CN/LC_MESSAGES/usms.mo
    python scripts/i18n.py check     # what tests/test_i18n.py checks, as a list of problems

Messages come from two places: ``tr``/``tr_n``/``N_`` calls in ``usms_cli`` (Babel's Python
extractor), and every help text of the built command tree (``usms_cli.cli.language``), as
Click holds it. Each message lives in the .po of the layer that says it first (``help.po``
for help texts), so translators of different layers do not edit one file. Babel (a test
dependency) reads and writes the catalogs; at run time the stdlib ``gettext`` reads the .mo.
"""

from __future__ import annotations

import io
import re
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "usms_cli"
PO_DIR = ROOT / "po" / "zh_CN"
MO_FILE = PACKAGE / "locale" / "zh_CN" / "LC_MESSAGES" / "usms.mo"
KEYWORDS = {"tr": None, "tr_n": (1, 2), "N_": None}
AREAS = ("help", "cli", "app", "output", "engine", "core", "sandbox", "i18n")
# Fixed dates: the same .po sources always compile to the same bytes (the test compares them).
_DATE = "2026-12-01 00:00+0000"
_FIELD = re.compile(r"(?<!\{)\{([A-Za-z_]\w*)?[^{}]*\}(?!\})")

Msgid = str | tuple[str, str]


def source_messages() -> dict[Msgid, tuple[str, str]]:
    """msgid -> (area, "path:line") for every marked message, in file order."""
    from babel.messages.extract import extract_from_file

    found: dict[Msgid, tuple[str, str]] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        area = rel.parts[0] if len(rel.parts) > 1 else rel.stem
        area = area if area in AREAS else "i18n"
        for line, message, _comments, _context in extract_from_file(
            "python", str(path), keywords=KEYWORDS
        ):
            key: Msgid = message if isinstance(message, str) else (message[0], message[1])
            found.setdefault(key, (area, f"usms_cli/{rel.as_posix()}:{line}"))
    return found


def help_messages() -> list[str]:
    import typer.main

    from usms_cli.cli import app
    from usms_cli.cli.language import help_texts

    return list(dict.fromkeys(help_texts(typer.main.get_command(app))))


def all_messages() -> dict[Msgid, tuple[str, str]]:
    found = dict.fromkeys(help_messages(), ("help", "help"))
    for key, where in source_messages().items():
        found.setdefault(key, where)
    return found


def _read(path: Path) -> object:
    from babel.messages.pofile import read_po

    with path.open("rb") as file:
        return read_po(file, locale="zh_CN")


def catalogs() -> dict[str, object]:
    return {p.stem: _read(p) for p in sorted(PO_DIR.glob("*.po"))}


def _empty() -> object:
    from datetime import datetime

    from babel.messages.catalog import Catalog

    date = datetime.strptime(_DATE, "%Y-%m-%d %H:%M%z")
    return Catalog(
        locale="zh_CN",
        domain="usms",
        project="usms-cli",
        version="",
        copyright_holder="usms-cli developers",
        creation_date=date,
        revision_date=date,
        last_translator="usms-cli developers",
        language_team="usms-cli developers",
        fuzzy=False,
    )


def extract() -> None:
    from babel.messages.pofile import write_po

    wanted = all_messages()
    existing = catalogs()
    translated: dict[Msgid, object] = {}
    for catalog in existing.values():
        for message in catalog:  # type: ignore[attr-defined]
            if message.id and message.string:
                translated.setdefault(message.id, message.string)
    PO_DIR.mkdir(parents=True, exist_ok=True)
    for area in AREAS:
        catalog = _empty()
        for key, (where_area, where) in wanted.items():
            if where_area != area:
                continue
            string = translated.get(key, ("", "") if isinstance(key, tuple) else "")
            path, _, line = where.rpartition(":")
            locations = [(path, int(line))] if line.isdigit() else []
            catalog.add(key, string, locations=locations)  # type: ignore[attr-defined]
        target = PO_DIR / f"{area}.po"
        if len(catalog) == 0 and not target.exists():  # type: ignore[arg-type]
            continue
        buffer = io.BytesIO()
        write_po(buffer, catalog, width=100, omit_header=False, sort_output=False)
        target.write_bytes(buffer.getvalue())


def compiled() -> bytes:
    from babel.messages.mofile import write_mo

    merged = _empty()
    for catalog in catalogs().values():
        for message in catalog:  # type: ignore[attr-defined]
            if message.id and message.string and not message.fuzzy:
                merged.add(message.id, message.string)  # type: ignore[attr-defined]
    buffer = io.BytesIO()
    write_mo(buffer, merged)  # type: ignore[arg-type]
    return buffer.getvalue()


def compile_catalog() -> None:
    MO_FILE.parent.mkdir(parents=True, exist_ok=True)
    MO_FILE.write_bytes(compiled())


def _entries(data: bytes) -> dict[object, str]:
    """A compiled catalog's messages, without its header (which names Babel's version)."""
    import gettext

    catalog = gettext.GNUTranslations(io.BytesIO(data))
    entries = dict(catalog._catalog)  # type: ignore[attr-defined]
    entries.pop("", None)
    return entries


def fields(text: str) -> list[str]:
    return sorted(name or "" for name in _FIELD.findall(text))


def problems() -> Iterator[str]:
    wanted = all_messages()
    strings: dict[Msgid, tuple[object, str]] = {}
    for area, catalog in catalogs().items():
        for message in catalog:  # type: ignore[attr-defined]
            if message.id:
                if message.id in strings and strings[message.id][0] != message.string:
                    yield f"{area}.po: {message.id!r} is translated differently elsewhere"
                strings[message.id] = (message.string, area)
    for key, (_area, where) in wanted.items():
        string = strings.get(key, (None, ""))[0]
        if not string or (isinstance(string, tuple) and not all(string)):
            yield f"{where}: no Chinese for {key!r}"
            continue
        originals = [key] if isinstance(key, str) else list(key)
        translations = [string] if isinstance(string, str) else list(string)  # type: ignore[arg-type]
        want = sorted(set().union(*(fields(o) for o in originals)))
        for text in translations:
            if sorted(set(fields(text))) != want:
                yield f"{where}: {key!r}: the translation has fields {fields(text)}, not {want}"
    if not MO_FILE.exists() or _entries(MO_FILE.read_bytes()) != _entries(compiled()):
        yield f"{MO_FILE.relative_to(ROOT)} is not the compiled po/: python scripts/i18n.py compile"


def main(argv: list[str]) -> int:
    command = argv[1] if len(argv) > 1 else "check"
    if command == "extract":
        extract()
    elif command == "compile":
        compile_catalog()
    elif command == "check":
        found = list(problems())
        for problem in found:
            print(problem)
        print(f"{len(found)} problem(s)", file=sys.stderr)
        return 1 if found else 0
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
