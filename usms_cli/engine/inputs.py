"""Reading recipients from arguments, files and stdin (the I/O around the pure phone parser)."""

from __future__ import annotations

import contextlib
import csv
import io
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from usms_cli.core.errors import InputError
from usms_cli.core.phones import InvalidPhone, Parsed, parse_argument, parse_block, parse_csv_lines

STDIN = "-"


def gather(
    arguments: Iterable[str],
    files: Iterable[str],
    *,
    column: str | None = None,
    stdin: IO[bytes] | None = None,
) -> Iterator[Parsed | list[str]]:
    """Every entry, in the order given: positional arguments first, then each file."""
    for position, argument in enumerate(arguments, start=1):
        yield from parse_argument(argument, f"argument {position}")
    used_stdin = False
    for name in files:
        if name == STDIN:
            if used_stdin:
                raise InputError("-f - (standard input) was given twice")
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
    """The whole content of a file (``-`` is stdin) and how to name it in messages."""
    if name == STDIN:
        if stdin is None:
            import sys

            stdin = sys.stdin.buffer
        source, handle = "<stdin>", stdin
    else:
        source, handle = name, _open(Path(name))
    try:
        return handle.read(), source
    except OSError as exc:
        raise InputError(f"{source}: cannot read it ({exc.strerror or 'I/O error'})") from None
    finally:
        if handle is not stdin:
            handle.close()


def _open(path: Path) -> IO[bytes]:
    if path.is_dir():
        raise InputError(f"{path}: is a directory, not a file of numbers")
    try:
        return path.open("rb")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except PermissionError:
        raise InputError(f"{path}: permission denied") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read it ({exc.strerror or 'I/O error'})") from None


def _lines(binary: IO[bytes], source: str) -> Iterator[str]:
    text = io.TextIOWrapper(binary, encoding="utf-8-sig", errors="strict", newline=None)
    number = 0
    try:
        for number, line in enumerate(text, start=1):  # noqa: B007 - used after the loop
            yield line
    except UnicodeDecodeError:
        raise InputError(
            f"{source}: not valid UTF-8 near line {number + 1}",
            hint="save the file as UTF-8 (with or without BOM)",
        ) from None
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
                continue
            block, carry = chunk[:cut], chunk[cut:]
            yield first_line, block
            first_line += block.count("\n")
    except UnicodeDecodeError:
        raise InputError(
            f"{source}: not valid UTF-8 near line {first_line + carry.count(chr(10))}",
            hint="save the file as UTF-8 (with or without BOM)",
        ) from None
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
        raise InputError(f"{source}: not a readable CSV file ({exc})") from None
    except OSError as exc:
        raise InputError(f"{source}: cannot read it ({exc.strerror or 'I/O error'})") from None
