"""Templates as code (``usms template apply FILE``): USMS cannot list templates, so a TOML file
is the registry. Entries without an ``id`` are created and their new ids written back into the
file (comments and order kept, written atomically with the file's mode); entries with one are
looked up and their review reported. Nothing is updated without ``--update`` and nothing
deleted without ``--prune``, which deletes the entries marked ``delete = true`` and turns their
``id`` into ``deleted_id``.

tomlkit is used because the file is edited in place: stdlib tomllib can only read."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from usms_cli.app.common import Connection, resolve
from usms_cli.core.errors import ExitCode, InputError, UsmsError
from usms_cli.core.outcomes import ApplyResult
from usms_cli.i18n import tr

if TYPE_CHECKING:
    from tomlkit import TOMLDocument
    from tomlkit.items import Table

    from usms_cli.app.env import Env
    from usms_cli.core.templates import TemplateSpec
    from usms_cli.engine.settings import Settings
    from usms_cli.output.console import Output

KEYS = {
    "name",
    "purpose",
    "text",
    "id",
    "international",
    "remark",
    "unsubscribe",
    "instruction",
    "delete",
    "deleted_id",
}


@dataclass(frozen=True)
class ApplyRequest:
    path: Path
    update: bool = False
    prune: bool = False
    dry_run: bool = False


@dataclass
class Entry:
    """One ``[[template]]`` of the file, read and checked."""

    number: int
    spec: TemplateSpec
    template_id: str | None
    delete: bool
    table: Table


# ---- reading the file --------------------------------------------------------------------


def _read(path: Path) -> tuple[TOMLDocument, bool]:
    """The parsed document, and whether the file began with a UTF-8 BOM."""
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputError(tr("{path}: no such file", path=path)) from None
    except IsADirectoryError:
        raise InputError(tr("{path}: is a directory, not a TOML file", path=path)) from None
    except OSError as exc:
        problem = exc.strerror or tr("I/O error")
        raise InputError(
            tr("{path}: cannot read it ({problem})", path=path, problem=problem)
        ) from None
    bom = raw.startswith(b"\xef\xbb\xbf")
    try:
        text = raw[3:].decode("utf-8") if bom else raw.decode("utf-8")
        return tomlkit.parse(text), bom
    except UnicodeDecodeError:
        raise InputError(tr("{path}: not UTF-8 text", path=path)) from None
    except TOMLKitError as exc:
        raise InputError(tr("{path}: not valid TOML ({problem})", path=path, problem=exc)) from None


def _text(table: Table, key: str, where: str, *, required: bool = False) -> str | None:
    value = table.get(key)
    if value is None:
        if required:
            raise InputError(tr("{where}: {key!r} is missing", where=where, key=key))
        return None
    if not isinstance(value, str):
        raise InputError(tr("{where}: {key!r} must be a string", where=where, key=key))
    return str(value)


def _flag(table: Table, key: str, where: str) -> bool:
    value = table.get(key, False)
    if not isinstance(value, bool):
        raise InputError(tr("{where}: {key!r} must be true or false", where=where, key=key))
    return bool(value)


def _entry(table: Any, number: int, path: Path) -> Entry:
    from usms_cli.core.templates import TemplateSpec, parse_purpose

    where = f"{path}: [[template]] #{number}"
    if not hasattr(table, "get") or not hasattr(table, "keys"):
        raise InputError(tr("{where}: not a table", where=where))
    unknown = sorted(set(table.keys()) - KEYS)
    if unknown:
        raise InputError(
            tr("{where}: unknown key(s) {keys}", where=where, keys=", ".join(unknown)),
            hint=tr("known keys: {keys}", keys=", ".join(sorted(KEYS))),
        )
    purpose = table.get("purpose", "notice")
    if not isinstance(purpose, str | int) or isinstance(purpose, bool):
        raise InputError(tr("{where}: 'purpose' must be code, notice or marketing", where=where))
    spec = TemplateSpec(
        name=_text(table, "name", where, required=True) or "",
        text=_text(table, "text", where, required=True) or "",
        purpose=parse_purpose(str(purpose), f"{where}: 'purpose'"),
        international=_flag(table, "international", where),
        remark=_text(table, "remark", where),
        unsubscribe=_text(table, "unsubscribe", where),
        instruction=_text(table, "instruction", where),
    )
    template_id = (_text(table, "id", where) or "").strip() or None
    return Entry(number, spec, template_id, _flag(table, "delete", where), table)


def read_entries(document: TOMLDocument, path: Path) -> list[Entry]:
    """Every entry, checked as a whole before anything is sent (exit 2 otherwise)."""
    from usms_cli.core.templates import template_problems

    unknown = sorted(set(document.keys()) - {"template"})
    if unknown:
        raise InputError(
            tr(
                "{path}: unknown table(s) {tables}; write [[template]]",
                path=path,
                tables=", ".join(unknown),
            )
        )
    tables = document.get("template", [])
    if not isinstance(tables, list):
        raise InputError(
            tr("{path}: 'template' must be an array of tables, written [[template]]", path=path)
        )
    entries = [_entry(table, number, path) for number, table in enumerate(tables, start=1)]
    seen: dict[str, int] = {}
    problems: list[str] = []
    for entry in entries:
        if entry.template_id is not None:
            if entry.template_id in seen:
                problems.append(
                    tr(
                        "#{number}: id {template_id} is also #{other}",
                        number=entry.number,
                        template_id=entry.template_id,
                        other=seen[entry.template_id],
                    )
                )
            seen[entry.template_id] = entry.number
        if not entry.delete:
            label = f"#{entry.number} {entry.spec.name!r}"
            problems += [f"{label}: {p}" for p in template_problems(entry.spec)]
    if problems:
        raise InputError(
            tr("{path}: {n} problem(s); nothing was sent", path=path, n=len(problems)),
            details=problems[:50],
        )
    return entries


# ---- writing it back ---------------------------------------------------------------------


def _set_after_last_key(table: Table, key: str, value: str) -> None:
    """``key = value`` right after the table's last key (before the comments that tomlkit
    attaches to it but that belong to the next table).

    tomlkit has no public "insert here"; ``Container._insert_at`` exists from 0.11 to 0.15 (its
    sibling ``_insert_after`` went in 0.15.3). If it ever goes, the key lands at the end of the
    table: still correct TOML, only the comment moves."""
    body = table.value.body
    keys = [i for i, (k, _) in enumerate(body) if k is not None]
    after = keys[-1] + 1 if keys else len(body)
    if after < len(body):
        try:
            table.value._insert_at(after, key, value)
            return
        except (AttributeError, IndexError, TypeError):
            pass
    table[key] = value


def record_id(entry: Entry, template_id: str) -> None:
    _set_after_last_key(entry.table, "id", template_id)


def record_deleted(entry: Entry) -> None:
    import tomlkit

    try:
        entry.table.value._replace("id", "deleted_id", tomlkit.item(entry.template_id or ""))
    except (AttributeError, KeyError):
        del entry.table["id"]
        entry.table["deleted_id"] = entry.template_id or ""


def write_atomically(path: Path, document: TOMLDocument, bom: bool) -> None:
    """Write to a temporary file beside ``path``, give it ``path``'s mode, then rename it over
    ``path``: a crash leaves the old file or the new one, never half of one."""
    import contextlib
    import os
    import tempfile

    import tomlkit

    data = tomlkit.dumps(document).encode("utf-8")
    temporary: str | None = None
    try:
        mode = path.stat().st_mode & 0o7777
        handle, temporary = tempfile.mkstemp(
            dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
        )
        with os.fdopen(handle, "wb") as out:
            out.write((b"\xef\xbb\xbf" if bom else b"") + data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except OSError as exc:
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
        problem = exc.strerror or exc
        raise WriteBackFailed(
            tr("{path} cannot be written ({problem})", path=path, problem=problem)
        ) from None


class WriteBackFailed(UsmsError):
    """The API did what was asked, but the file could not record it: partly done."""

    exit_code = ExitCode.PARTIAL


# ---- the run -----------------------------------------------------------------------------


def apply(console: Output, env: Env, connection: Connection, request: ApplyRequest) -> ApplyResult:
    """``usms template apply``: create, check, and (when asked) update and delete."""
    from usms_cli.app.apply_run import Run

    document, bom = _read(request.path)
    entries = read_entries(document, request.path)
    settings = resolve(connection, env, console)
    run = Run(console, settings, connection.verbose, request, document, bom)
    return run.all(entries)


def failure_code(exc: UsmsError) -> ExitCode:
    """An error's exit code within a run (nothing in a run is a usage error any more)."""
    return ExitCode.REJECTED if exc.exit_code == ExitCode.USAGE else exc.exit_code


def has_credentials(settings: Settings) -> bool:
    return bool(settings.public_key and settings.private_key)
