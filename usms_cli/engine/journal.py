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

A ``sending`` line without a later result (the process was killed, or the disk filled up)
counts as ``unknown``. On a new run, numbers already accepted are skipped, numbers with an
unknown outcome are held back (unless ``--resend-unknown``), and the rest are sent. Tracking
is per number, so a changed input file cannot make an earlier chunk look new.

One run holds a journal at a time: an exclusive ``flock`` on ``<journal>.lock`` (holding the
PID), which the kernel releases when the process ends, even by SIGKILL. Every record is checked
on load against what usms writes; only a torn last line (a kill or a full disk while writing
it) is tolerated. Lines are read one at a time, at most :data:`MAX_LINE` bytes each.
"""

# long module: the record format, its validation on load and the writer are one contract;
# the lock lives in lockfile.py.
from __future__ import annotations

import hashlib
import json
import os
import stat
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from usms_cli.core.api import Message
from usms_cli.core.errors import ConfigError
from usms_cli.engine.lockfile import Lock, lock, os_reason
from usms_cli.i18n import tr, tr_n

VERSION = 1
FINAL = {"accepted", "rejected", "unknown", "not_sent"}
MAX_LINE = 1 << 20
"""The longest journal line read, in bytes (usms writes at most about 250 KB: 1000 numbers,
or 200 rows with their refusal reasons)."""


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


# ---- reading --------------------------------------------------------------------------------


def check_file(path: Path) -> None:
    """A journal must be a regular file (or not exist yet): never a device or a pipe."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return
    except OSError as exc:
        raise _unreadable(path, exc) from None
    if stat.S_ISDIR(info.st_mode):
        raise ConfigError(tr("--journal {path}: is a directory", path=path))
    if not stat.S_ISREG(info.st_mode):
        raise ConfigError(
            tr(
                "--journal {path}: not a regular file (a device or a pipe); nothing was sent",
                path=path,
            ),
            hint=tr("give the journal a file of its own, e.g. --journal send.jsonl"),
        )


def _unreadable(path: Path, exc: OSError) -> ConfigError:
    return ConfigError(
        tr("--journal {path}: cannot read it ({reason})", path=path, reason=os_reason(exc))
    )


def _describe(run: Mapping[str, Any]) -> str:
    params = run.get("params") or []
    columns = run.get("columns")
    if columns:
        what = tr("CSV columns {columns}", columns=", ".join(map(str, columns)))
    else:
        what = tr("{count} param(s)", count=len(params))
    return tr(
        "template {template}, signature {signature}, {what}",
        template=repr(run.get("template_id")),
        signature=repr(run.get("sig_content")),
        what=what,
    )


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """``(line number, line)``, each at most MAX_LINE bytes (memory stays flat)."""
    try:
        with path.open("rb") as handle:
            number = 0
            while True:
                line = handle.readline(MAX_LINE + 1)
                if not line:
                    return
                number += 1
                if len(line) > MAX_LINE:
                    raise ConfigError(
                        tr(
                            "--journal {path}: line {line} is longer than {limit:,} bytes; "
                            "not a usms journal",
                            path=path,
                            line=number,
                            limit=MAX_LINE,
                        ),
                        hint=tr("use the journal file usms wrote, or a new file"),
                    )
                yield number, line
    except OSError as exc:
        raise _unreadable(path, exc) from None


_TORN_START = b'{"event": "'


def _record(line: bytes) -> dict[str, Any] | None:
    try:
        record = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def load(path: Path, message: Message, extra: Sequence[str] | None = None) -> JournalState:
    """Read an existing journal (a missing file is an empty journal). Anything usms would
    not have written is a ConfigError naming the line."""
    state = JournalState()
    check_file(path)
    if not path.exists():
        return state
    expected = fingerprint(message, extra)
    pending: dict[str, list[str]] = {}  # id -> numbers of "sending" lines without a result
    torn: int | None = None  # an unreadable line, tolerated only as the last of a run

    def refuse(number: int, problem: str) -> ConfigError:
        return ConfigError(
            tr(
                "--journal {path}: line {line}: {problem}; usms does not write that, so the "
                "journal cannot be trusted; nothing was sent",
                path=path,
                line=number,
                problem=problem,
            ),
            hint=tr("restore the journal usms wrote, or give this send a new --journal file"),
        )

    for number, line in _lines(path):
        if not line.strip():
            continue
        record = _record(line)
        if torn is not None and (record is None or record.get("event") != "run"):
            raise refuse(torn, tr("not a complete journal record"))
        torn = None
        if record is None:
            if not _TORN_START.startswith(line.strip()[: len(_TORN_START)]):
                raise refuse(number, tr("not a journal record"))
            torn = number  # killed while writing it: that request is unknown
            continue
        problem = _check(record)
        if problem is not None:
            raise refuse(number, problem)
        if record["event"] == "run":
            state.runs += 1
            if record["fingerprint"] != expected:
                raise ConfigError(
                    tr(
                        "--journal {path} was written for a different message ({what}); "
                        "refusing to mix them",
                        path=path,
                        what=_describe(record),
                    ),
                    hint=tr("give this send its own --journal file"),
                )
        elif state.runs == 0:
            raise ConfigError(tr("--journal {path}: no run header; not a usms journal", path=path))
        else:
            _apply(state, pending, record)
    state.torn_last_line = torn is not None
    for numbers in pending.values():  # sent, never answered in the journal: unknown
        state.unknown.update(n for n in numbers if n not in state.accepted)
    return state


def _apply(state: JournalState, pending: dict[str, list[str]], record: dict[str, Any]) -> None:
    cid, numbers, status = record["id"], record["numbers"], record["status"]
    if status == "sending":
        pending[cid] = numbers
        return
    pending.pop(cid, None)
    if status == "accepted":
        session_no = record["SessionNo"]
        refused = record["refused"]
        for n in numbers:
            state.unknown.discard(n)
            if n not in refused:  # refused inside a partial answer: not accepted
                state.accepted[n] = session_no
    elif status == "unknown":
        state.unknown.update(n for n in numbers if n not in state.accepted)
    else:  # rejected, not_sent
        state.unknown.difference_update(numbers)


_STR, _INT, _OPT_STR, _OPT_INT, _STRS, _REASONS = "str int str? int? [str] {str:str}".split()
_RUN = {
    "event": _STR, "version": _INT, "time": _STR, "tool": _STR, "fingerprint": _STR,
    "template_id": _STR, "sig_content": _OPT_STR, "params": _STRS, "extend_code": _OPT_STR,
    "user_id": _OPT_STR, "project_id": _OPT_STR,
}  # fmt: skip
_SENDING = {
    "event": _STR, "id": _STR, "index": _INT, "status": _STR, "count": _INT,
    "numbers": _STRS, "time": _STR,
}  # fmt: skip
_RESULT = {
    **_SENDING, "RetCode": _OPT_INT, "Message": _OPT_STR, "SessionNo": _OPT_STR,
    "request_id": _OPT_STR, "error": _OPT_STR, "refused": _REASONS,
}  # fmt: skip


def _fits(value: Any, kind: str) -> bool:
    if kind.endswith("?") and value is None:
        return True
    if kind in (_STR, _OPT_STR):
        return type(value) is str
    if kind in (_INT, _OPT_INT):
        return type(value) is int
    if kind == _STRS:
        return type(value) is list and all(type(item) is str for item in value)
    return type(value) is dict and all(type(k) is str and type(v) is str for k, v in value.items())


def _check(record: dict[str, Any]) -> str | None:
    """What is wrong with a record, compared with what :class:`Writer` writes; None if
    nothing."""
    event = record.get("event")
    if event == "run":
        schema = dict(_RUN, columns=_STRS) if "columns" in record else _RUN
    elif event == "request":
        status = record.get("status")
        if not (status == "sending" or (type(status) is str and status in FINAL)):
            return tr("status {status} is not one usms writes", status=repr(status))
        schema = _SENDING if status == "sending" else _RESULT
    else:
        return tr("event {event} is not one usms writes", event=repr(event))
    missing = [key for key in schema if key not in record]
    unexpected = [key for key in record if key not in schema]
    if missing or unexpected:
        return tr(
            "fields missing {missing}, unexpected {unexpected}",
            missing=missing,
            unexpected=unexpected,
        )
    wrong = [key for key, kind in schema.items() if not _fits(record[key], kind)]
    if wrong:
        return tr("{fields}: not of the type usms writes", fields=", ".join(wrong))
    if event == "run":
        return None if record["version"] == VERSION else tr(
            "journal version {version}; this usms reads version {ours}",
            version=record["version"],
            ours=VERSION,
        )  # fmt: skip
    numbers = record["numbers"]
    if not record["id"] or not numbers or record["count"] != len(numbers) or record["index"] < 1:
        return tr("id, index, count and numbers do not agree")
    if record.get("refused") and not set(record["refused"]) <= set(numbers):
        return tr("refused numbers that the request did not hold")
    return None


# ---- writing --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Unrecorded:
    """A request sent in this run whose result the journal could not record."""

    index: int
    count: int
    status: str
    session_no: str | None


class Writer:
    """Appends records, each written to the file before returning.

    The run header must be written (a ConfigError, exit 2, otherwise). Later, a record that
    cannot be written (a full disk) is not retried: :attr:`failure` says why, :meth:`sending`
    returns False (do not send that request), and results that could not be recorded are
    kept in :attr:`unrecorded`. A partly written record is cut off again where possible."""

    def __init__(
        self,
        path: Path,
        message: Message,
        extra: Sequence[str] | None = None,
        held: Lock | None = None,
    ) -> None:
        self.path = path
        self.message = message
        self.extra = None if extra is None else list(extra)
        self.fingerprint = fingerprint(message, extra)
        self.failure: str | None = None
        self.unrecorded: list[Unrecorded] = []
        self._sending: set[str] = set()
        self._lock = held
        flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC
        try:
            self._fd: int | None = os.open(path, flags, 0o600)
            info = os.fstat(self._fd)
        except OSError as exc:
            raise ConfigError(
                tr(
                    "--journal {path}: cannot write the journal: {reason}",
                    path=path,
                    reason=os_reason(exc),
                )
            ) from None
        if stat.S_IMODE(info.st_mode) != 0o600:
            try:  # it holds phone numbers: only its owner may read it
                os.fchmod(self._fd, 0o600)
            except OSError:
                pass
        self._size = info.st_size
        if self._size > 0 and os.pread(self._fd, 1, self._size - 1) != b"\n":
            self._append(b"\n")  # leave the torn line alone, start ours on a new one

    def _append(self, data: bytes) -> bool:
        if self.failure is not None or self._fd is None:
            return False
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self._fd, view) :]
        except OSError as exc:
            self.failure = os_reason(exc)
            try:  # no half record: the next run starts on a clean line
                os.ftruncate(self._fd, self._size)
            except OSError:
                pass
            return False
        self._size += len(data)
        return True

    def _write(self, record: Mapping[str, Any]) -> bool:
        return self._append((json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8"))

    def run(self, tool: str) -> None:
        m = self.message
        header = {
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
        if not self._write(header):
            raise ConfigError(
                tr(
                    "--journal {path}: cannot write the journal: {reason}; nothing was sent",
                    path=self.path,
                    reason=self.failure,
                ),
                hint=tr(
                    "free some space (or give --journal a file on another disk), then run "
                    "the same command again"
                ),
            )

    def sending(self, cid: str, index: int, numbers: Sequence[str]) -> bool:
        """Record that a request is about to go out; False: it must not be sent."""
        record = {
            "event": "request",
            "id": cid,
            "index": index,
            "status": "sending",
            "count": len(numbers),
            "numbers": list(numbers),
            "time": _now(),
        }
        if not self._write(record):
            return False
        self._sending.add(cid)
        return True

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
    ) -> bool:
        """Record a request's outcome; False if it could not be (see :attr:`unrecorded`)."""
        written = self._write(
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
        if not written and cid in self._sending:
            self.unrecorded.append(Unrecorded(index, len(numbers), status, session_no))
        return written

    def close(self) -> None:
        """Close the file and let the next run have the journal."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self._lock is not None:
            self._lock.release()
            self._lock = None


def open_run(
    path: Path,
    message: Message,
    extra: Sequence[str] | None = None,
    *,
    tool: str,
    wait_lock: float = 0.0,
) -> tuple[JournalState, Writer]:
    """Lock the journal, read what earlier runs recorded, and start this run's records.

    The lock is held until :meth:`Writer.close` (or the process ends)."""
    check_file(path)
    held = lock(path, wait_lock, "--journal")
    writer: Writer | None = None
    try:
        state = load(path, message, extra)
        writer = Writer(path, message, extra, held)
        writer.run(tool)
    except BaseException:
        if writer is not None:
            writer.close()
        else:
            held.release()
        raise
    return state, writer


def failure_report(writer: Writer) -> tuple[str, str, list[str]] | None:
    """``(message, hint, details)`` when the journal could not be written in this run: what
    is known of each request it could not record."""
    if writer.failure is None:
        return None
    details = []
    for item in writer.unrecorded:
        if item.status == "accepted":
            outcome = tr(
                "accepted, SessionNo {session}", session=item.session_no or tr("not given")
            )
        elif item.status == "rejected":
            outcome = tr("rejected")
        elif item.status == "not_sent":
            outcome = tr("not sent")
        else:
            outcome = tr("outcome unknown (it may have been delivered)")
        details.append(
            tr(
                "request {index} ({numbers}): {outcome}; not in the journal",
                index=item.index,
                numbers=_count(item.count),
                outcome=outcome,
            )
        )
    message = tr(
        "cannot write the journal {path}: {reason}; no further requests were sent",
        path=writer.path,
        reason=writer.failure,
    )
    hint = tr(
        "free some space, then run the same command again: it holds back the requests the "
        "journal could not record (check them with usms receipt SESSION_NO)"
    )
    return message, hint, details


def nothing_left(done: Sequence[str], held: Sequence[str]) -> str:
    """What to say when a resume has nothing left to send."""
    if not held:
        if len(done) == 1:
            return tr("nothing to send: the 1 number was accepted in an earlier run")
        return tr(
            "nothing to send: all {count:,} numbers were accepted in an earlier run",
            count=len(done),
        )
    return tr(
        "nothing to send: {done} accepted in an earlier run, {held} held back (outcome unknown)",
        done=_count(len(done)),
        held=_count(len(held)),
    )


def _count(count: int) -> str:
    return tr_n("{count:,} number", "{count:,} numbers", count, count=count)


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
