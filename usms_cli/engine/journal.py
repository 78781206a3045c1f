"""The send journal: an append-only JSONL record that makes a batch resumable and never
double-sending.

Lines, in input order:

- ``{"event": "run", ...}`` once per run: the message fingerprint (template, signature,
  params, extend code, user id, project) and what it is, so a journal cannot be reused for a
  different message;
- ``{"event": "request", "status": "sending", ...}`` written and flushed *before* a request is
  sent;
- ``{"event": "request", "status": "accepted"|"rejected"|"unknown"|"not_sent", ...}`` with the
  numbers, RetCode, Message, SessionNo and time, once the answer is known.

A ``sending`` line without a later result (the process was killed) counts as ``unknown``.
On a new run, numbers already accepted are skipped, numbers with an unknown outcome are held
back (unless ``--resend-unknown``), and the rest are sent. Tracking is per number, so a
changed input file cannot make an earlier chunk look new.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from usms_cli.core.api import Message
from usms_cli.core.errors import ConfigError

VERSION = 1
FINAL = {"accepted", "rejected", "unknown", "not_sent"}


def fingerprint(message: Message, extra: Sequence[str] | None = None) -> str:
    """Stable hash of everything that makes two sends "the same message"; ``extra`` adds
    more (a CSV batch: its column mapping)."""
    fields: list[Any] = [
        message.template_id,
        message.sig_content,
        list(message.params),
        message.extend_code,
        message.user_id,
        message.project_id,
    ]
    if extra is not None:
        fields.append(list(extra))
    material = json.dumps(fields, ensure_ascii=False)
    return hashlib.sha256(material.encode("utf-8")).hexdigest()[:16]


def chunk_id(
    message_fingerprint: str, numbers: Sequence[str], content: Sequence[str] | None = None
) -> str:
    """Stable id of one request: its numbers and the message, plus ``content`` when each
    number gets its own text (a CSV batch: every row's params)."""
    digest = hashlib.sha256(message_fingerprint.encode("ascii"))
    digest.update("\n".join(numbers).encode("ascii", "replace"))
    if content is not None:
        digest.update(json.dumps(list(content), ensure_ascii=False).encode("utf-8"))
    return digest.hexdigest()[:20]


@dataclass
class JournalState:
    """What earlier runs recorded, per number."""

    accepted: dict[str, str | None] = field(default_factory=dict)  # number -> SessionNo
    unknown: set[str] = field(default_factory=set)
    runs: int = 0
    torn_last_line: bool = False


def _describe(run: Mapping[str, Any]) -> str:
    params = run.get("params") or []
    columns = run.get("columns")
    what = f"CSV columns {', '.join(map(str, columns))}" if columns else f"{len(params)} param(s)"
    return f"template {run.get('template_id')!r}, signature {run.get('sig_content')!r}, {what}"


def load(path: Path, message: Message, extra: Sequence[str] | None = None) -> JournalState:
    """Read an existing journal (a missing file is an empty journal)."""
    state = JournalState()
    if not path.exists():
        return state
    if path.is_dir():
        raise ConfigError(f"--journal {path}: is a directory")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"--journal {path}: cannot read it ({exc.strerror or exc})") from None
    lines = raw.split(b"\n")
    expected = fingerprint(message, extra)
    pending: dict[str, list[str]] = {}  # id -> numbers of "sending" lines without a result
    sending_ids: set[str] = set()
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line.decode("utf-8"))
            if not isinstance(record, dict):
                raise ValueError("not an object")
        except (UnicodeDecodeError, ValueError):
            if _torn(lines, number):
                state.torn_last_line = True  # killed while writing: that request is unknown
                continue
            raise ConfigError(
                f"--journal {path}: line {number} is not a journal record",
                hint="use the journal file usms wrote, or a new file",
            ) from None
        event = record.get("event")
        if event == "run":
            state.runs += 1
            if record.get("fingerprint") != expected:
                raise ConfigError(
                    f"--journal {path} was written for a different message "
                    f"({_describe(record)}); refusing to mix them",
                    hint="give this send its own --journal file",
                )
        elif event == "request":
            cid = str(record.get("id"))
            numbers = [str(n) for n in record.get("numbers") or []]
            status = record.get("status")
            if status == "sending":
                sending_ids.add(cid)
                pending[cid] = numbers
                continue
            sending_ids.discard(cid)
            pending.pop(cid, None)
            if status == "accepted":
                session_no = record.get("SessionNo")
                refused = record.get("refused") or {}
                for n in numbers:
                    if n in refused:  # refused inside a partial answer: not accepted
                        state.unknown.discard(n)
                        continue
                    state.accepted[n] = session_no if isinstance(session_no, str) else None
                    state.unknown.discard(n)
            elif status == "unknown":
                state.unknown.update(n for n in numbers if n not in state.accepted)
            elif status in {"rejected", "not_sent"}:
                state.unknown.difference_update(numbers)
    for numbers in pending.values():  # sent, never answered in the journal: unknown
        state.unknown.update(n for n in numbers if n not in state.accepted)
    if state.runs == 0 and (state.accepted or state.unknown):
        raise ConfigError(f"--journal {path}: no run header; not a usms journal")
    return state


def _torn(lines: Sequence[bytes], number: int) -> bool:
    """A line cut short by a kill: the last one, or one followed by a later run's header
    (the next run starts its records on a new line)."""
    for later in lines[number:]:
        if later.strip():
            try:
                record = json.loads(later.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                return False
            return isinstance(record, dict) and record.get("event") == "run"
    return True


class Writer:
    """Appends records, flushing each one before returning."""

    def __init__(self, path: Path, message: Message, extra: Sequence[str] | None = None) -> None:
        self.path = path
        self.message = message
        self.extra = None if extra is None else list(extra)
        self.fingerprint = fingerprint(message, extra)
        try:
            self._file: IO[str] = path.open("a", encoding="utf-8")
        except OSError as exc:
            raise ConfigError(
                f"--journal {path}: cannot write it ({exc.strerror or exc})"
            ) from None
        if path.stat().st_size > 0:
            self._repair_torn_tail()

    def _repair_torn_tail(self) -> None:
        with self.path.open("rb") as handle:
            handle.seek(-1, os.SEEK_END)
            if handle.read(1) != b"\n":
                self._file.write("\n")  # leave the torn line alone, start ours on a new one

    def _write(self, record: Mapping[str, Any]) -> None:
        self._file.write(json.dumps(record, ensure_ascii=False) + "\n")
        self._file.flush()

    def run(self, tool: str) -> None:
        m = self.message
        self._write(
            {
                "event": "run",
                "version": VERSION,
                "time": _now(),
                "tool": tool,
                "fingerprint": self.fingerprint,
                "template_id": m.template_id,
                "sig_content": m.sig_content,
                "params": list(m.params),
                "extend_code": m.extend_code,
                "user_id": m.user_id,
                "project_id": m.project_id,
                **({"columns": self.extra} if self.extra is not None else {}),
            }
        )

    def sending(self, cid: str, index: int, numbers: Sequence[str]) -> None:
        self._write(
            {
                "event": "request",
                "id": cid,
                "index": index,
                "status": "sending",
                "count": len(numbers),
                "numbers": list(numbers),
                "time": _now(),
            }
        )

    def result(
        self,
        cid: str,
        index: int,
        numbers: Sequence[str],
        status: str,
        ret_code: int | None,
        message: str | None,
        session_no: str | None,
        request_id: str | None,
        error: str | None,
        refused: Mapping[str, str] | None = None,
    ) -> None:
        self._write(
            {
                "event": "request",
                "id": cid,
                "index": index,
                "status": status,
                "count": len(numbers),
                "numbers": list(numbers),
                "RetCode": ret_code,
                "Message": message,
                "SessionNo": session_no,
                "request_id": request_id,
                "error": error,
                "refused": dict(refused or {}),
                "time": _now(),
            }
        )

    def close(self) -> None:
        self._file.close()


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S%z")


def split_for_resume(
    numbers: Iterable[str], state: JournalState, *, resend_unknown: bool
) -> tuple[list[str], list[str], list[str]]:
    """(to send now, already accepted, held back as unknown), each in input order."""
    send: list[str] = []
    done: list[str] = []
    held: list[str] = []
    accepted = state.accepted
    unknown = state.unknown
    for n in numbers:
        if n in accepted:
            done.append(n)
        elif n in unknown and not resend_unknown:
            held.append(n)
        else:
            send.append(n)
    return send, done, held
