"""Reading recipients from arguments, files and stdin (the I/O around the pure phone parser),
and checking that no file a send writes is one of its inputs or another of its outputs.

Every input is bounded, so an endless or absurd one (``/dev/zero``, a 50 MB line) is refused
within a second with flat memory: a numbers file at :data:`MAX_LINE` characters per line, a
CSV file (``--csv``, or ``-f`` of a ``.csv`` / with ``--column``) at :data:`MAX_CSV_LINE`
per line and ``--csv`` at :data:`MAX_CSV_BYTES` in all.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import stat
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO

from usms_cli.core.errors import InputError
from usms_cli.core.phones import (
    MAX_LINE,
    InvalidPhone,
    Parsed,
    parse_argument,
    parse_block,
    parse_csv_lines,
)
from usms_cli.i18n import tr

STDIN = "-"
MAX_CSV_LINE = 1 << 20
"""1 MiB per line of a CSV file (bytes for ``--csv``, characters for ``-f``; a cell stops at
128 KiB already: csv.field_size_limit)."""
MAX_CSV_BYTES = 256 << 20
"""Bytes in a ``--csv`` file (about four million rows; it is read into memory)."""


class OutputPathError(InputError):
    """An output path of a send that must not be written: it is another file of the run, or
    a device. Raised before anything is read, sent or written."""


def check_paths(
    outputs: Mapping[str, Path | None], inputs: Mapping[str, Sequence[str | None]]
) -> None:
    """Refuse outputs (``{option: path}``) that are devices, or the same file as another
    output or an input (``{option: [paths]}``; ``-`` is stdin, never a clash): compared by
    resolved path and, for files that exist, by device and inode (hard links, symlinks,
    ``a/../b``)."""
    seen: list[tuple[str, str, object]] = []
    for option, path in outputs.items():
        if path is None:
            continue
        info = _stat(path)
        if info is not None and (stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode)):
            raise OutputPathError(
                tr(
                    "{option} {path}: is a device, not a file; nothing was sent",
                    option=option,
                    path=path,
                ),
                hint=tr("give {option} a file of its own", option=option),
            )
        seen.append((option, str(path), _identity(path, info)))
    written = len(seen)
    for option, names in inputs.items():
        for name in names:
            if name is not None and name != STDIN:
                path = Path(name)
                what = tr("the input file {option}", option=option)
                seen.append((what, name, _identity(path, _stat(path))))
    for i, (first, first_path, first_id) in enumerate(seen[:written]):
        for second, _, second_id in seen[i + 1 :]:
            if first_id == second_id:
                raise OutputPathError(
                    tr(
                        "{first} and {second} name the same file ({path}); it would be "
                        "overwritten; nothing was sent",
                        first=first,
                        second=second,
                        path=first_path,
                    ),
                    hint=tr("give every output its own file"),
                )


def _stat(path: Path) -> os.stat_result | None:
    try:
        return path.stat()
    except OSError:
        return None


def _identity(path: Path, info: os.stat_result | None) -> object:
    if info is not None:
        return (info.st_dev, info.st_ino)
    try:
        return str(path.resolve(strict=False))
    except (OSError, RuntimeError):
        return str(path.absolute())


def gather(
    arguments: Iterable[str],
    files: Iterable[str],
    *,
    column: str | None = None,
    stdin: IO[bytes] | None = None,
) -> Iterator[Parsed | list[str]]:
    """Every entry, in the order given: positional arguments first, then each file."""
    for position, argument in enumerate(arguments, start=1):
        yield from parse_argument(argument, tr("argument {position}", position=position))
    used_stdin = False
    for name in files:
        if name == STDIN:
            if used_stdin:
                raise InputError(tr("-f - (standard input) was given twice"))
            used_stdin = True
            if stdin is None:
                import sys

                stdin = sys.stdin.buffer
            yield from _read(stdin, "<stdin>", csv_mode=column is not None, column=column)
        else:
            path = Path(name)
            handle = _open(path)
            with handle:
                csv_mode = column is not None or path.suffix.lower() == ".csv"
                yield from _read(handle, name, csv_mode=csv_mode, column=column)


def read_bytes(name: str, stdin: IO[bytes] | None = None) -> tuple[bytes, str]:
    """The whole content of a CSV file (``-`` is stdin) and how to name it in messages; an
    InputError past MAX_CSV_BYTES in all or MAX_CSV_LINE on a line."""
    if name == STDIN:
        if stdin is None:
            import sys

            stdin = sys.stdin.buffer
        source, handle = "<stdin>", stdin
    else:
        source, handle = name, _open(Path(name))
    try:
        return _bounded_read(handle, source), source
    except OSError as exc:
        raise _unreadable(source, exc) from None
    finally:
        if handle is not stdin:
            handle.close()


def _bounded_read(handle: IO[bytes], source: str) -> bytes:
    parts: list[bytes] = []
    total = 0
    lines = 0  # complete lines before this chunk
    unfinished = 0  # bytes of the line the previous chunk ended in
    while chunk := handle.read(1 << 20):
        lengths = [len(piece) for piece in chunk.split(b"\n")]
        lengths[0] += unfinished
        if max(lengths) > MAX_CSV_LINE:
            where = lines + next(i for i, n in enumerate(lengths) if n > MAX_CSV_LINE) + 1
            raise _too_long(source, where, "1 MiB")
        lines += len(lengths) - 1
        unfinished = lengths[-1]
        total += len(chunk)
        if total > MAX_CSV_BYTES:
            raise InputError(
                tr(
                    "{file}: larger than {size} MiB, more than usms sends in one run; "
                    "nothing was sent",
                    file=source,
                    size=MAX_CSV_BYTES >> 20,
                ),
                hint=tr("split it into smaller files and send them one after another"),
            )
        parts.append(chunk)
    return b"".join(parts)


def _too_long(source: str, line: int, limit: str) -> InputError:
    return InputError(
        tr(
            "{file}: line {line:,} is longer than {limit}; not a list of recipients; "
            "nothing was sent",
            file=source,
            line=line,
            limit=limit,
        ),
        hint=tr("check that this is the file you meant"),
    )


def _unreadable(source: object, exc: OSError) -> InputError:
    reason = exc.strerror or tr("I/O error")
    return InputError(tr("{file}: cannot read it ({reason})", file=source, reason=reason))


def _not_utf8(source: str, line: int) -> InputError:
    return InputError(
        tr("{file}: not valid UTF-8 near line {line}", file=source, line=line),
        hint=tr("save the file as UTF-8 (with or without BOM)"),
    )


def _open(path: Path) -> IO[bytes]:
    if path.is_dir():
        raise InputError(tr("{path}: is a directory, not a file of numbers", path=path))
    try:
        return path.open("rb")
    except FileNotFoundError:
        raise InputError(tr("{path}: no such file", path=path)) from None
    except PermissionError:
        raise InputError(tr("{path}: permission denied", path=path)) from None
    except OSError as exc:
        raise _unreadable(path, exc) from None


def _lines(binary: IO[bytes], source: str) -> Iterator[str]:
    """Lines of a CSV file, each at most MAX_CSV_LINE characters."""
    text = io.TextIOWrapper(binary, encoding="utf-8-sig", errors="strict", newline=None)
    number = 0
    try:
        while line := text.readline(MAX_CSV_LINE + 1):
            number += 1
            if len(line) > MAX_CSV_LINE:
                raise _too_long(source, number, "1 MiB")
            yield line
    except UnicodeDecodeError:
        raise _not_utf8(source, number + 1) from None
    finally:
        _detach(text)


def _detach(text: io.TextIOWrapper) -> None:
    """Give the binary file back to its owner. A parser that stopped early leaves this
    generator to be closed later, when the owner may already have closed the file."""
    with contextlib.suppress(ValueError):
        text.detach()


BLOCK_CHARS = 1 << 20


def _blocks(binary: IO[bytes], source: str) -> Iterator[tuple[int, str]]:
    """``(first line number, text of whole lines)`` in blocks of about a megabyte."""
    text = io.TextIOWrapper(binary, encoding="utf-8-sig", errors="strict", newline=None)
    first_line = 1
    carry = ""
    try:
        while True:
            chunk = text.read(BLOCK_CHARS)
            if not chunk:
                break
            chunk = carry + chunk
            cut = chunk.rfind("\n") + 1
            if cut == 0:
                carry = chunk
                if len(carry) > MAX_LINE:
                    limit = tr("{count:,} characters", count=MAX_LINE)
                    raise _too_long(source, first_line, limit)
                continue
            block, carry = chunk[:cut], chunk[cut:]
            yield first_line, block
            first_line += block.count("\n")
    except UnicodeDecodeError:
        raise _not_utf8(source, first_line + carry.count("\n")) from None
    finally:
        _detach(text)
    if carry:
        yield first_line, carry + "\n"


def _read(
    binary: IO[bytes], source: str, *, csv_mode: bool, column: str | None
) -> Iterator[Parsed | list[str]]:
    try:
        if csv_mode:
            yield from parse_csv_lines(_lines(binary, source), source, column)
        else:
            for first_line, block in _blocks(binary, source):
                yield from parse_block(block, source, first_line)
    except InvalidPhone as exc:
        raise InputError(str(exc)) from None
    except csv.Error as exc:
        raise InputError(
            tr("{file}: not a readable CSV file ({problem})", file=source, problem=exc)
        ) from None
    except OSError as exc:
        raise _unreadable(source, exc) from None
