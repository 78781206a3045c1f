"""A local, USMS-compatible sandbox server (stdlib only).

It speaks the wire protocol of UCloud's API gateway closely enough that the official SDK and
``usms`` itself cannot tell the difference for the actions a sender needs:
``SendUSMSMessage``, ``SendBatchUSMSMessage``, ``GetUSMSSendReceipt``, ``QueryUSMSTemplate``
and ``QueryUSMSSignature``.
Requests are signed and checked exactly like the real gateway does (see ``usms_cli.core.signing``),
nothing leaves the machine, and accepted messages can be shown live, recorded as JSON lines and
inspected from tests through :class:`SandboxServer`.

The sandbox only ever binds to a loopback address.
"""

from __future__ import annotations

import base64
import collections
import ipaddress
import json
import math
import os
import random
import re
import selectors
import shlex
import signal
import socket
import sys
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socketserver import TCPServer
from types import FrameType, TracebackType
from typing import Any, TextIO
from urllib.parse import unquote_to_bytes, urlsplit

from usms_cli.core import signing

__all__ = [
    "DEFAULT_PORT",
    "DEFAULT_PRIVATE_KEY",
    "DEFAULT_PROJECT_ID",
    "DEFAULT_PUBLIC_KEY",
    "DEFAULT_SIGNATURE",
    "DEFAULT_SIG_ID",
    "DEFAULT_TEMPLATE_ID",
    "DEFAULT_TEMPLATE_TEXT",
    "MAX_BODY_BYTES",
    "SandboxConfig",
    "SandboxServer",
    "Signature",
    "Template",
    "default_signatures",
    "default_templates",
    "load_config_file",
    "serve_forever",
    "start_sandbox",
]

DEFAULT_PUBLIC_KEY = "usms-sandbox-public-key"
DEFAULT_PRIVATE_KEY = "usms-sandbox-private-key"
DEFAULT_PROJECT_ID = "org-sandbox"
DEFAULT_TEMPLATE_ID = "UTSANDBOX1"
DEFAULT_TEMPLATE_TEXT = "您的验证码是{1}，5分钟内有效。"
DEFAULT_SIGNATURE = "USMSSandbox"
DEFAULT_SIG_ID = "SIGSANDBOX1"
DEFAULT_PORT = 8040
"""Port used by ``serve_forever`` when the caller does not choose one."""

MAX_BODY_BYTES = 1024 * 1024
"""Largest request body accepted; larger ones get HTTP 413."""

MAX_PHONE_NUMBERS = 1000
MAX_BATCH_TARGETS = 200
BATCH_PARTIAL_RETCODE = 18046
MAX_SESSION_NOS = 100
MAX_USER_ID_CHARS = 32
SEND_OK_MESSAGE = "提交发送成功"

# Oversized bodies up to this size are read and thrown away so that the client gets to read
# the 413 answer (closing a socket with unread data makes the kernel reset the connection).
# Anything larger is answered at once and the connection closed.
_DISCARD_LIMIT = 16 * 1024 * 1024
_READ_CHUNK = 64 * 1024
_SOCKET_TIMEOUT = 60.0

_STATUS_APPROVED = 2
_PURPOSES = (1, 2, 3)
_STATUSES = (0, 1, 2, 3, 4)

_BAD_PERCENT = re.compile(rb"%(?![0-9A-Fa-f]{2})")
_PLAIN_COMPONENT = re.compile(rb"[A-Za-z0-9._~-]*")
_INDEX = re.compile(r"[0-9]{1,9}")
_VARIABLE = re.compile(r"\{([0-9]{1,9})\}")
_MAINLAND = re.compile(r"1[0-9]{10}")
_PHONE = re.compile(r"(?:0086|86)?(1[0-9]{10})|\(([0-9]{1,4})\)([0-9]{4,14})")
_DIGITS = re.compile(r"[0-9]+")


# --------------------------------------------------------------------------------------------
# Configuration


@dataclass
class Template:
    """An SMS template as the sandbox knows it (status 2 = approved)."""

    template_id: str
    text: str
    purpose: int = 2
    status: int = _STATUS_APPROVED
    name: str = ""
    remark: str = ""
    err_desc: str = ""


@dataclass
class Signature:
    """An SMS signature, keyed by its content (status 2 = approved)."""

    sig_id: str
    content: str
    status: int = _STATUS_APPROVED
    err_desc: str = ""


def default_templates() -> dict[str, Template]:
    """The templates every sandbox starts with."""
    template = Template(
        DEFAULT_TEMPLATE_ID,
        DEFAULT_TEMPLATE_TEXT,
        purpose=1,
        name="Sandbox verification code",
    )
    return {template.template_id: template}


def default_signatures() -> dict[str, Signature]:
    """The signatures every sandbox starts with (keyed by content)."""
    sig = Signature(DEFAULT_SIG_ID, DEFAULT_SIGNATURE)
    return {sig.content: sig}


@dataclass
class SandboxConfig:
    """Everything a sandbox needs; the defaults give a working, approved template and signature.

    The running server reads these fields on every request, so tests may change them on the fly.
    """

    public_key: str = DEFAULT_PUBLIC_KEY
    private_key: str = DEFAULT_PRIVATE_KEY
    project_id: str = DEFAULT_PROJECT_ID
    templates: dict[str, Template] = field(default_factory=default_templates)
    signatures: dict[str, Signature] = field(default_factory=default_signatures)
    latency_ms: int = 0
    """Sleep this long before every answer."""
    fail_rate: float = 0.0
    """Fraction of valid SendUSMSMessage requests refused with RetCode 18004."""
    fail_numbers: set[str] = field(default_factory=set)
    """Numbers whose receipt is always Fail (wire form; "138…" also matches "(86)138…")."""
    refuse_numbers: set[str] = field(default_factory=set)
    """Numbers SendBatchUSMSMessage refuses by name in FailContent ("phone in the black list");
    the other targets of the request are accepted (wire form, matched like fail_numbers)."""
    batch_partial_ret_code: int = BATCH_PARTIAL_RETCODE
    """RetCode of a SendBatchUSMSMessage answer where some targets were refused and some
    accepted (the real API uses 18046, and has been seen to answer 0 with FailContent)."""
    receipt_delay: float = 2.0
    """Seconds after a send before its receipts appear."""
    seed: int | None = None
    """Seed for the fail_rate randomness."""
    record_path: str | None = None
    """Append one JSON line per accepted message (per phone number) to this file."""
    display: bool = False
    """Show every accepted message on stderr as it arrives."""


def _config_error(path: str, where: str, problem: str) -> ValueError:
    return ValueError(f"{path}: {where}: {problem}")


def _get_str(
    entry: Mapping[str, Any], key: str, path: str, where: str, *, required: bool, default: str = ""
) -> str:
    if key not in entry:
        if required:
            raise _config_error(path, where, f"missing required key {key!r}")
        return default
    value = entry[key]
    if not isinstance(value, str):
        raise _config_error(path, where, f"{key!r} must be a string, got {value!r}")
    if required and not value:
        raise _config_error(path, where, f"{key!r} must not be empty")
    return value


def _get_int(
    entry: Mapping[str, Any],
    key: str,
    path: str,
    where: str,
    *,
    default: int,
    allowed: tuple[int, ...],
) -> int:
    value = entry.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value not in allowed:
        choices = ", ".join(str(a) for a in allowed)
        raise _config_error(path, where, f"{key!r} must be one of {choices}, got {value!r}")
    return value


def _check_keys(entry: Mapping[str, Any], known: set[str], path: str, where: str) -> None:
    unknown = sorted(set(entry) - known)
    if unknown:
        raise _config_error(
            path, where, f"unknown key(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})"
        )


def _tables(document: Mapping[str, Any], name: str, path: str) -> list[Mapping[str, Any]]:
    raw = document.get(name, [])
    if not isinstance(raw, list) or not all(isinstance(item, dict) for item in raw):
        raise ValueError(f"{path}: {name!r} must be an array of tables, written [[{name}]]")
    return raw


def load_config_file(
    path: str | os.PathLike[str],
) -> tuple[dict[str, Template], dict[str, Signature]]:
    """Read templates and signatures from a small TOML file.

    ::

        [[template]]
        id = "UTA001"
        text = "Hello {1}"
        purpose = 2          # 1 verification code, 2 notification, 3 marketing
        status = 2           # 0 pending, 1 in review, 2 approved, 3 rejected, 4 disabled
        name = "greeting"
        remark = ""
        err_desc = ""

        [[signature]]
        content = "Acme"
        id = "SIG001"        # optional
        status = 2
        err_desc = ""

    Returns the default template and signature plus the file's entries (an entry with the same
    id or content replaces the default), ready for ``SandboxConfig(templates=..., signatures=...)``.
    Every problem, including an unreadable file, raises ``ValueError`` naming the file.
    """
    import tomllib  # only needed here

    name = os.fspath(path)
    try:
        with open(name, "rb") as fh:
            document = tomllib.load(fh)
    except OSError as exc:
        raise ValueError(f"{name}: cannot read sandbox config: {exc.strerror or exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{name}: not valid TOML: {exc}") from exc

    _check_keys(document, {"template", "signature"}, name, "top level")
    templates = default_templates()
    signatures = default_signatures()

    for number, entry in enumerate(_tables(document, "template", name), start=1):
        where = f"[[template]] #{number}"
        _check_keys(
            entry, {"id", "text", "purpose", "status", "name", "remark", "err_desc"}, name, where
        )
        template = Template(
            template_id=_get_str(entry, "id", name, where, required=True),
            text=_get_str(entry, "text", name, where, required=True),
            purpose=_get_int(entry, "purpose", name, where, default=2, allowed=_PURPOSES),
            status=_get_int(
                entry, "status", name, where, default=_STATUS_APPROVED, allowed=_STATUSES
            ),
            name=_get_str(entry, "name", name, where, required=False),
            remark=_get_str(entry, "remark", name, where, required=False),
            err_desc=_get_str(entry, "err_desc", name, where, required=False),
        )
        templates[template.template_id] = template

    for number, entry in enumerate(_tables(document, "signature", name), start=1):
        where = f"[[signature]] #{number}"
        _check_keys(entry, {"content", "id", "status", "err_desc"}, name, where)
        sig = Signature(
            sig_id=_get_str(entry, "id", name, where, required=False, default=f"SIGFILE{number}"),
            content=_get_str(entry, "content", name, where, required=True),
            status=_get_int(
                entry, "status", name, where, default=_STATUS_APPROVED, allowed=_STATUSES
            ),
            err_desc=_get_str(entry, "err_desc", name, where, required=False),
        )
        signatures[sig.content] = sig

    return templates, signatures


def _check_config(config: SandboxConfig) -> None:
    if not 0.0 <= config.fail_rate <= 1.0:
        raise ValueError(f"fail_rate must be between 0 and 1, got {config.fail_rate}")
    if config.latency_ms < 0:
        raise ValueError(f"latency_ms must not be negative, got {config.latency_ms}")
    if config.receipt_delay < 0:
        raise ValueError(f"receipt_delay must not be negative, got {config.receipt_delay}")
    if config.record_path:
        try:
            with open(config.record_path, "a", encoding="utf-8"):
                pass
        except OSError as exc:
            raise ValueError(
                f"{config.record_path}: cannot write the record file: {exc.strerror or exc}"
            ) from exc


def _check_loopback(host: str) -> None:
    if host == "localhost":
        return
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if address is None or not address.is_loopback:
        raise ValueError(
            f"the sandbox only listens on this machine: host must be a loopback address "
            f"such as 127.0.0.1, ::1 or localhost, not {host!r}"
        )


# --------------------------------------------------------------------------------------------
# Pure helpers


def _indexed(params: Mapping[str, str], name: str) -> list[str]:
    """Values of ``Name.0``, ``Name.1`` … in numeric index order."""
    prefix = f"{name}."
    values: list[str] = []
    while (key := f"{prefix}{len(values)}") in params:  # the usual case: 0, 1, 2 … no gaps
        values.append(params[key])
    if sum(1 for key in params if key.startswith(prefix)) == len(values):
        return values
    found: list[tuple[int, str]] = []
    for key, value in params.items():
        if key.startswith(prefix) and _INDEX.fullmatch(key[len(prefix) :]):
            found.append((int(key[len(prefix) :]), value))
    found.sort(key=lambda item: item[0])
    return [value for _, value in found]


def _variables(text: str) -> list[int]:
    """The distinct ``{N}`` variable numbers of a template, ascending."""
    return sorted({int(number) for number in _VARIABLE.findall(text)})


def _render(text: str, params: list[str]) -> str:
    slots = dict(zip(_variables(text), params, strict=False))
    return _VARIABLE.sub(lambda match: slots.get(int(match.group(1)), match.group(0)), text)


def _phone_parts(phone: str) -> tuple[str, str] | None:
    """``(country code, national number)`` of a valid wire-format number, else ``None``."""
    match = _PHONE.fullmatch(phone)
    if match is None:
        return None
    if match.group(1) is not None:
        return "86", match.group(1)
    code, national = match.group(2), match.group(3)
    if code.startswith("00"):
        code = code[2:]
    if not code or code.startswith("0"):
        return None
    if code == "86" and not _MAINLAND.fullmatch(national):
        return None
    return code, national


def _canonical_phone(phone: str) -> str:
    parts = _phone_parts(phone)
    return phone if parts is None else f"({parts[0]}){parts[1]}"


def _message(
    session_no: str,
    now: float,
    phone: str,
    parts: tuple[str, str] | None,
    sig_content: str,
    template_id: str,
    params: tuple[str, ...],
    body: str,
) -> dict[str, Any]:
    """One accepted message as the sandbox keeps it (``messages``, receipts, record file)."""
    domestic = parts is not None and parts[0] == "86"
    prefix = f"【{sig_content}】" if domestic else f"[{sig_content}]"
    return {
        "session_no": session_no,
        "phone": phone,
        "sig": sig_content,
        "template_id": template_id,
        "params": params,
        "text": prefix + body,
        "user_id": "",
        "extend_code": "",
        "time": now,
    }


def _cost_count(text: str) -> int:
    return 1 if len(text) <= 70 else math.ceil(len(text) / 67)


def _tasks_problem(tasks: Any) -> tuple[int, str] | None:
    """``(RetCode, message)`` when a decoded TaskContent is not a list of well-formed tasks."""
    if not isinstance(tasks, list) or not tasks:
        return 18002, "must be a non-empty JSON array of tasks"
    for number, task in enumerate(tasks, start=1):
        if not isinstance(task, dict):
            return 18002, f"task {number} is not an object"
        for key in ("TemplateId", "SigContent", "Target"):
            if key not in task:
                return 18001, f"task {number}: missing {key}"
        if not isinstance(task["TemplateId"], str) or not isinstance(task["SigContent"], str):
            return 18002, f"task {number}: TemplateId and SigContent must be strings"
        targets = task["Target"]
        if not isinstance(targets, list) or not targets:
            return 18002, f"task {number}: Target must be a non-empty array"
        for target in targets:
            if not isinstance(target, dict) or not isinstance(target.get("Phone"), str):
                return 18001, f"task {number}: every Target needs a Phone (a string)"
    return None


def _template_problem(template: Template | None, template_id: str) -> str | None:
    """Why the API refuses this template (RetCode 18017), or None."""
    if template is None:
        return f"Template {template_id} does not exist"
    if template.status != _STATUS_APPROVED:
        return f"Template {template_id} is not approved (status {template.status})"
    return None


def _target_problem(
    target: Mapping[str, Any], parts: tuple[str, str] | None, template: Template | None
) -> str | None:
    """Why the API refuses one target of a batch, or None."""
    if parts is None:
        return "invalid phone number"
    values = target.get("TemplateParams")
    count = 0 if template is None else len(_variables(template.text))
    if "TemplateParams" in target:
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            return "TemplateParams must be an array of strings"
        if count == 0:
            return "TemplateParams must be absent: the template has no variables"
    if len(values or ()) != count:
        return (
            f"TemplateParams do not match the template: it has {count} variable(s), "
            f"{len(values or ())} given"
        )
    user_id = target.get("UserId", "")
    if not isinstance(user_id, str) or len(user_id) > MAX_USER_ID_CHARS:
        return f"UserId must be a string of at most {MAX_USER_ID_CHARS} characters"
    extend_code = target.get("ExtendCode", "")
    if not isinstance(extend_code, str) or (extend_code and not _DIGITS.fullmatch(extend_code)):
        return "ExtendCode must contain digits only"
    return None


def _failure(target: Mapping[str, Any], reason: str) -> dict[str, Any]:
    """A refused target as FailContent lists it (FailPhoneDetail)."""
    return {
        "Phone": target.get("Phone", ""),
        "TemplateParams": target.get("TemplateParams") or [],
        "ExtendCode": target.get("ExtendCode", ""),
        "UserId": target.get("UserId", ""),
        "FailureDetails": reason,
    }


# --------------------------------------------------------------------------------------------
# Request parsing


class _Malformed(Exception):
    """The request body or query string cannot be decoded (RetCode 18000)."""


class _BadFraming(Exception):
    """The HTTP framing is broken (bad Content-Length or chunk): answer 400 and close."""


class _ClientGone(Exception):
    """The client went away in the middle of a request: close without answering."""


class _TooLarge(Exception):
    """The body is over MAX_BODY_BYTES: answer 413 and close."""


def _decode_component(raw: bytes) -> str:
    if raw.isalnum() or _PLAIN_COMPONENT.fullmatch(raw):  # nothing to unquote: the hot path
        return raw.decode("ascii")
    raw = raw.replace(b"+", b" ")
    if _BAD_PERCENT.search(raw):
        raise _Malformed("invalid percent-encoding")
    try:
        return unquote_to_bytes(raw).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Malformed("parameter is not valid UTF-8") from exc


def _parse_form(raw: bytes) -> dict[str, str]:
    if raw.isascii():  # the usual body: decode once, unquote only what needs it
        text = raw.decode("ascii")
        fast: dict[str, str] = {}
        for item in text.split("&"):
            if not item:
                continue
            name, _, text_value = item.partition("=")
            if "%" in name or "+" in name:
                name = _decode_component(name.encode("ascii"))
            if "%" in text_value or "+" in text_value:
                text_value = _decode_component(text_value.encode("ascii"))
            fast[name] = text_value
        return fast
    params: dict[str, str] = {}
    for pair in raw.split(b"&"):
        if not pair:
            continue
        key, _, value = pair.partition(b"=")
        params[_decode_component(key)] = _decode_component(value)
    return params


def _parse_json(raw: bytes) -> dict[str, str]:
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise _Malformed(f"invalid JSON body ({type(exc).__name__})") from exc
    if not isinstance(document, dict):
        raise _Malformed("the JSON body must be an object")
    try:
        return signing.flatten(document)
    except RecursionError as exc:
        raise _Malformed("the JSON body is nested too deeply") from exc


# --------------------------------------------------------------------------------------------
# The API itself (no HTTP here)


@dataclass
class _Session:
    sent_monotonic: float
    sent_time: float
    messages: list[dict[str, Any]]
    failed: list[bool]


Reply = Callable[..., dict[str, Any]]


class _Backend:
    """State and request handling of one sandbox; ``handle`` maps parameters to an answer."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.messages: list[dict[str, Any]] = []
        self.request_counts: collections.Counter[str] = collections.Counter()
        self.started = int(time.time())
        self._sessions: dict[str, _Session] = {}
        self._lock = threading.Lock()
        self._random = random.Random(config.seed)
        self._record_lock = threading.Lock()
        self._record_warned = False
        self._console: Any = None
        self._console_lock = threading.Lock()
        self._actions: dict[str, Callable[[Mapping[str, str], Reply], dict[str, Any]]] = {
            "SendUSMSMessage": self._send,
            "SendBatchUSMSMessage": self._send_batch,
            "GetUSMSSendReceipt": self._receipts,
            "QueryUSMSTemplate": self._query_template,
            "QueryUSMSSignature": self._query_signature,
        }

    # -- plumbing

    def count(self, action: str) -> None:
        with self._lock:
            self.request_counts[action] += 1

    @staticmethod
    def reply_for(action: str) -> Reply:
        def reply(code: int, message: str, **extra: Any) -> dict[str, Any]:
            return {"Action": f"{action}Response", "RetCode": code, "Message": message, **extra}

        return reply

    def handle(self, params: Mapping[str, str]) -> dict[str, Any]:
        action = params.get("Action", "")
        self.count(action)
        answer = self._authorise_and_dispatch(action, params)
        sending = action in ("SendUSMSMessage", "SendBatchUSMSMessage")
        if sending and answer["RetCode"] != 0 and self.config.display:
            self._show_refusal(action, answer)
        return answer

    def _authorise_and_dispatch(self, action: str, params: Mapping[str, str]) -> dict[str, Any]:
        reply = self.reply_for(action)
        config = self.config
        if not action:
            return reply(160, "Missing Action")
        if not params.get("Signature"):
            return reply(170, "Missing Signature")
        public_key = params.get("PublicKey", "")
        if not public_key:
            return reply(172, "Missing PublicKey: user does not exist")
        if public_key != config.public_key:
            return reply(172, "User does not exist (PublicKey not known to this sandbox)")
        if not signing.verify(params, config.private_key):
            return reply(171, "Signature VerifyAC Error")
        handler = self._actions.get(action)
        if handler is None:
            return reply(161, "Action does not exist")
        return handler(params, reply)

    # -- actions

    def _send(self, params: Mapping[str, str], reply: Reply) -> dict[str, Any]:
        config = self.config
        phones = _indexed(params, "PhoneNumbers")
        if not phones:
            return reply(18001, "Missing parameter: PhoneNumbers.N (at least one phone number)")
        template_id = params.get("TemplateId", "")
        if not template_id:
            return reply(18001, "Missing parameter: TemplateId")
        if len(phones) > MAX_PHONE_NUMBERS:
            return reply(
                18019,
                f"Too many phone numbers: {len(phones)} (at most {MAX_PHONE_NUMBERS} per request)",
            )
        parts_of = [_phone_parts(phone) for phone in phones]
        invalid = [phone for phone, parts in zip(phones, parts_of, strict=True) if parts is None]
        if invalid:
            shown = ", ".join(repr(phone) for phone in invalid[:10])
            more = f" and {len(invalid) - 10} more" if len(invalid) > 10 else ""
            return reply(18014, f"Invalid phone numbers: {shown}{more}")
        template = config.templates.get(template_id)
        problem = _template_problem(template, template_id)
        if problem is not None:
            return reply(18017, problem)
        assert template is not None
        template_params = _indexed(params, "TemplateParams")
        variables = _variables(template.text)
        if len(template_params) != len(variables):
            return reply(
                18018,
                f"Template params do not match template {template_id}: it has "
                f"{len(variables)} variable(s), {len(template_params)} TemplateParams given",
            )
        sig_content = params.get("SigContent", "")
        problem = self._signature_problem(sig_content)
        if problem is not None:
            return reply(18016, problem)
        user_id = params.get("UserId", "")
        if len(user_id) > MAX_USER_ID_CHARS:
            return reply(18002, f"UserId is longer than {MAX_USER_ID_CHARS} characters")
        extend_code = params.get("ExtendCode", "")
        if extend_code and not _DIGITS.fullmatch(extend_code):
            return reply(18002, "ExtendCode must contain digits only")
        if config.fail_rate > 0:
            with self._lock:
                refused = self._random.random() < config.fail_rate
            if refused:
                return reply(18004, "Service error, nothing was submitted (sandbox fail_rate)")

        session_no = str(uuid.uuid4())
        now = time.time()
        body = _render(template.text, template_params)
        # A tuple keeps the message dicts out of the cyclic GC's way (large batches).
        params_tuple = tuple(template_params)
        messages = [
            _message(session_no, now, phone, parts, sig_content, template_id, params_tuple, body)
            for phone, parts in zip(phones, parts_of, strict=True)
        ]
        if user_id or extend_code:
            for message in messages:
                message["user_id"] = user_id
                message["extend_code"] = extend_code
        self._store(session_no, now, messages)

        answer = reply(0, SEND_OK_MESSAGE, SessionNo=session_no)
        if user_id:
            answer["UserId"] = user_id
        return answer

    def _send_batch(self, params: Mapping[str, str], reply: Reply) -> dict[str, Any]:
        """Per-target template params; refused targets are listed in FailContent."""
        config = self.config
        raw = params.get("TaskContent", "")
        if not raw:
            return reply(18001, "Missing parameter: TaskContent")
        try:
            tasks = json.loads(base64.b64decode(raw, validate=True).decode("utf-8"))
        except (ValueError, UnicodeDecodeError, RecursionError):  # binascii.Error: ValueError
            return reply(18000, "TaskContent is not base64 of a UTF-8 JSON document")
        problem = _tasks_problem(tasks)
        if problem is not None:
            return reply(problem[0], f"TaskContent: {problem[1]}")
        count = sum(len(task["Target"]) for task in tasks)
        if count > MAX_BATCH_TARGETS:
            return reply(
                18002, f"Too many targets: {count} (at most {MAX_BATCH_TARGETS} per request)"
            )
        if config.fail_rate > 0:
            with self._lock:
                refused = self._random.random() < config.fail_rate
            if refused:
                return reply(18004, "Service error, nothing was submitted (sandbox fail_rate)")

        session_no = str(uuid.uuid4())
        now = time.time()
        refuse = {_canonical_phone(number) for number in config.refuse_numbers}
        messages: list[dict[str, Any]] = []
        fail_content: list[dict[str, Any]] = []
        for task in tasks:
            template_id, sig_content = task["TemplateId"], task["SigContent"]
            template = config.templates.get(template_id)
            task_reason = _template_problem(template, template_id) or self._signature_problem(
                sig_content
            )
            failures: list[dict[str, Any]] = []
            for target in task["Target"]:
                phone = target["Phone"]
                parts = _phone_parts(phone)
                reason = task_reason or _target_problem(target, parts, template)
                if reason is None and _canonical_phone(phone) in refuse:
                    reason = "phone in the black list"
                if reason is not None or template is None:
                    failures.append(_failure(target, reason or "refused"))
                    continue
                values = tuple(target.get("TemplateParams") or ())
                body = _render(template.text, list(values))
                message = _message(
                    session_no, now, phone, parts, sig_content, template_id, values, body
                )
                message["user_id"] = target.get("UserId", "")
                message["extend_code"] = target.get("ExtendCode", "")
                messages.append(message)
            if failures:
                fail_content.append(
                    {
                        "TemplateId": template_id,
                        "SigContent": sig_content,
                        "FailureDetails": task_reason or "",
                        "Target": failures,
                    }
                )
        extra: dict[str, Any] = {
            "ReqUuid": str(uuid.uuid4()),
            "SuccessCount": len(messages),
            "FailContent": fail_content,
        }
        if messages:
            self._store(session_no, now, messages)
            extra["SessionNo"] = session_no
        if not fail_content:
            return reply(0, SEND_OK_MESSAGE, **extra)
        if messages:
            return reply(config.batch_partial_ret_code, "部分短信发送失败", **extra)
        return reply(BATCH_PARTIAL_RETCODE, "短信发送失败", **extra)

    def _signature_problem(self, sig_content: str) -> str | None:
        """Why the API refuses this signature (RetCode 18016), or None."""
        if not sig_content:
            return "Missing SigContent: a signature is required"
        sig = self.config.signatures.get(sig_content)
        if sig is None:
            return f"Signature {sig_content!r} does not exist"
        if sig.status != _STATUS_APPROVED:
            return f"Signature {sig_content!r} is not approved (status {sig.status})"
        return None

    def _receipts(self, params: Mapping[str, str], reply: Reply) -> dict[str, Any]:
        session_nos = _indexed(params, "SessionNoSet")
        if not session_nos:
            return reply(18001, "Missing parameter: SessionNoSet.N")
        if len(session_nos) > MAX_SESSION_NOS:
            return reply(
                18002,
                f"Too many SessionNos: {len(session_nos)} (at most {MAX_SESSION_NOS} per request)",
            )
        delay = self.config.receipt_delay
        now = time.monotonic()
        data: list[dict[str, Any]] = []
        for session_no in dict.fromkeys(session_nos):
            with self._lock:
                session = self._sessions.get(session_no)
            receipts: list[dict[str, Any]] = []
            if session is not None and now - session.sent_monotonic >= delay:
                receipt_time = int(session.sent_time + delay)
                for message, failed in zip(session.messages, session.failed, strict=True):
                    receipts.append(
                        {
                            "Phone": message["phone"],
                            "CostCount": _cost_count(message["text"]),
                            "ReceiptResult": "Fail" if failed else "Success",
                            "ReceiptCode": "UNDELIVRD" if failed else "DELIVRD",
                            "ReceiptDesc": "用户接收失败" if failed else "用户接收成功",
                            "ReceiptTime": receipt_time,
                            "UserId": message["user_id"],
                        }
                    )
            data.append({"SessionNo": session_no, "ReceiptSet": receipts})
        return reply(0, "Success", Data=data)

    def _query_template(self, params: Mapping[str, str], reply: Reply) -> dict[str, Any]:
        template_id = params.get("TemplateId", "")
        if not template_id:
            return reply(18001, "Missing parameter: TemplateId")
        template = self.config.templates.get(template_id)
        if template is None:
            return reply(18017, f"Template {template_id} does not exist")
        data = {
            "TemplateId": template.template_id,
            "Purpose": template.purpose,
            "TemplateName": template.name,
            "Template": template.text,
            "UnsubscribeInfo": "",
            "Status": template.status,
            "Remark": template.remark,
            "ErrDesc": template.err_desc,
            "CreateTime": self.started,
            "Instruction": "",
        }
        return reply(0, "Success", Data=data)

    def _query_signature(self, params: Mapping[str, str], reply: Reply) -> dict[str, Any]:
        sig_id = params.get("SigId", "")
        content = params.get("SigContent", "")
        if not sig_id and not content:
            return reply(18001, "Missing parameter: SigId or SigContent")
        for sig in self.config.signatures.values():
            if (not sig_id or sig.sig_id == sig_id) and (not content or sig.content == content):
                data = {
                    "SigId": sig.sig_id,
                    "SigContent": sig.content,
                    "Status": sig.status,
                    "ErrDesc": sig.err_desc,
                }
                return reply(0, "Success", Data=data)
        wanted = " / ".join(repr(part) for part in (sig_id, content) if part)
        return reply(18016, f"Signature {wanted} does not exist")

    def _store(self, session_no: str, now: float, messages: list[dict[str, Any]]) -> None:
        """Keep accepted messages: receipts, ``messages``, the record file, the display."""
        config = self.config
        fail_canonical = {_canonical_phone(number) for number in config.fail_numbers}
        failed = [
            bool(fail_canonical)
            and (
                message["phone"] in config.fail_numbers
                or _canonical_phone(message["phone"]) in fail_canonical
            )
            for message in messages
        ]
        with self._lock:
            self._sessions[session_no] = _Session(time.monotonic(), now, messages, failed)
            self.messages.extend(messages)
        self._record(messages)
        if config.display:
            self._show(messages)

    # -- side outputs

    def _record(self, messages: list[dict[str, Any]]) -> None:
        path = self.config.record_path
        if not path:
            return
        lines = "".join(json.dumps(message, ensure_ascii=False) + "\n" for message in messages)
        with self._record_lock:
            try:
                with open(path, "a", encoding="utf-8") as fh:
                    fh.write(lines)
                    fh.flush()
            except OSError as exc:
                if not self._record_warned:
                    self._record_warned = True
                    print(f"usms sandbox: cannot write {path}: {exc}", file=sys.stderr)

    def _console_print(self, renderable: Any) -> None:
        from rich.console import Console

        with self._console_lock:
            if self._console is None:
                self._console = Console(stderr=True, highlight=False, emoji=False)
            self._console.print(renderable, markup=False, soft_wrap=True)

    def _show(self, messages: list[dict[str, Any]]) -> None:
        from rich.text import Text

        for message in messages:
            line = Text.assemble(
                ("→ ", "green"),
                (message["phone"], "bold"),
                "  ",
                message["text"],
                "  ",
                (f"(session {message['session_no'][:8]}…)", "dim"),
            )
            self._console_print(line)

    def _show_refusal(self, action: str, answer: Mapping[str, Any]) -> None:
        from rich.text import Text

        text = f"{action} refused: {answer['RetCode']} {answer['Message']}"
        line = Text.assemble(("✗ ", "red"), (text, "dim"))
        self._console_print(line)


# --------------------------------------------------------------------------------------------
# HTTP


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    timeout = 0.0  # for handle_request(), called only when the socket is readable
    request_queue_size = 128  # socketserver's 5 makes parallel clients wait for SYN retries

    def __init__(self, address: tuple[str, int], backend: _Backend) -> None:
        self.backend = backend
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self._stopping = False
        self._wake_reader, self._wake_writer = socket.socketpair()
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind would call socket.getfqdn(), which can stall on DNS.
        TCPServer.server_bind(self)
        self.server_name = str(self.server_address[0])
        self.server_port = int(self.server_address[1])

    def process_request(
        self, request: socket.socket | tuple[bytes, socket.socket], client_address: Any
    ) -> None:
        if isinstance(request, socket.socket):
            with self._connections_lock:
                self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: socket.socket | tuple[bytes, socket.socket]) -> None:
        if isinstance(request, socket.socket):
            with self._connections_lock:
                self._connections.discard(request)
        super().shutdown_request(request)

    def serve_until_stopped(self) -> None:
        """Like serve_forever, but woken at once by :meth:`stop` instead of polling."""
        with selectors.DefaultSelector() as selector:
            selector.register(self, selectors.EVENT_READ)
            selector.register(self._wake_reader, selectors.EVENT_READ)
            while not self._stopping:
                for key, _ in selector.select():
                    if key.fileobj is self._wake_reader:
                        return
                    self.handle_request()  # ready: with timeout 0 it never blocks
                self.service_actions()

    def stop(self) -> None:
        self._stopping = True
        try:
            self._wake_writer.send(b"x")
        except OSError:
            pass

    def server_close(self) -> None:
        super().server_close()
        self._wake_reader.close()
        self._wake_writer.close()

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], OSError):
            return  # the client went away: nothing worth a traceback
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "usms-sandbox"
    sys_version = ""
    timeout = _SOCKET_TIMEOUT
    # Headers and body are two writes; without TCP_NODELAY the body waits for the client's
    # delayed ACK (~40 ms per request on a keep-alive connection).
    disable_nagle_algorithm = True

    @property
    def _backend(self) -> _Backend:
        server = self.server
        assert isinstance(server, _HTTPServer)
        return server.backend

    def log_message(self, format: str, *args: Any) -> None:
        """Access logs are silenced."""

    def version_string(self) -> str:
        return self.server_version

    # -- answers

    def _send_json(self, status: int, payload: Mapping[str, Any], *, close: bool = False) -> None:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        latency = self._backend.config.latency_ms
        if latency > 0:
            time.sleep(latency / 1000)
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-UCLOUD-REQUEST-UUID", str(uuid.uuid4()))
        if close:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.wfile.flush()

    def _action_hint(self) -> str:
        """The Action from the query string, if it can be read (for error answers)."""
        try:
            return _parse_form(urlsplit(self.path).query.encode("latin-1")).get("Action", "")
        except (_Malformed, UnicodeEncodeError, ValueError, AttributeError):
            return ""

    def _send_error_json(self, status: int, code: int, message: str) -> None:
        action = self._action_hint()
        self._backend.count(action)
        payload = _Backend.reply_for(action)(code, message)
        self._send_json(status, payload, close=True)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Errors found by http.server itself (bad request line, unknown method…) as JSON."""
        self.close_connection = True
        if getattr(self, "request_version", "HTTP/0.9") == "HTTP/0.9":
            self.request_version = self.protocol_version  # always write a status line
        if code == 501:  # an HTTP method http.server has no do_* for
            self._method_not_allowed()
            return
        self._backend.count("")
        answer = _Backend.reply_for("")(18000, f"Bad request: {message or 'unreadable request'}")
        try:
            self._send_json(code, answer, close=True)
        except OSError:
            pass

    def handle_expect_100(self) -> bool:
        try:
            length = self._content_length()
        except _BadFraming:
            length = None  # do_POST answers it
        if length is not None and length > MAX_BODY_BYTES:
            self._send_error_json(413, 18002, self._too_large_message())
            return False
        return super().handle_expect_100()

    # -- body

    def _content_length(self) -> int | None:
        raw = self.headers.get("Content-Length")
        if raw is None:
            return None
        raw = raw.strip()
        if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
            raise _BadFraming(f"invalid Content-Length {raw!r}")
        return int(raw)

    def _read_exact(self, size: int) -> bytes:
        data = self.rfile.read(size)
        if len(data) != size:
            raise _ClientGone
        return data

    def _discard(self, size: int) -> None:
        while size > 0:
            chunk = self.rfile.read(min(size, _READ_CHUNK))
            if not chunk:
                raise _ClientGone
            size -= len(chunk)

    def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024)
            if not line:
                raise _ClientGone
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError as exc:
                raise _BadFraming("invalid chunk size") from exc
            if size < 0:
                raise _BadFraming("invalid chunk size")
            if size == 0:
                while self.rfile.readline(8192) not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                break
            total += size
            if total > _DISCARD_LIMIT:
                raise _TooLarge
            data = self._read_exact(size)
            self.rfile.readline(8)  # the CRLF after the chunk
            if total <= MAX_BODY_BYTES:
                parts.append(data)
        if total > MAX_BODY_BYTES:
            raise _TooLarge
        return b"".join(parts)

    def _read_body(self) -> bytes:
        encoding = self.headers.get("Transfer-Encoding", "").strip().lower()
        if encoding and encoding != "identity":
            if encoding.endswith("chunked"):
                return self._read_chunked()
            raise _BadFraming(f"unsupported Transfer-Encoding {encoding!r}")
        length = self._content_length()
        if not length:
            return b""
        if length > MAX_BODY_BYTES:
            if length <= _DISCARD_LIMIT:
                self._discard(length)
                raise _TooLarge
            raise _TooLarge
        return self._read_exact(length)

    def _drain_for_error(self) -> None:
        """Read a body we will not use, so the error answer reaches the client."""
        try:
            self._read_body()
        except (_BadFraming, _TooLarge, ValueError):
            pass

    def _too_large_message(self) -> str:
        return f"Request body too large (limit {MAX_BODY_BYTES} bytes)"

    # -- methods

    def _method_not_allowed(self) -> None:
        try:
            self._drain_for_error()
        except (_ClientGone, OSError):
            self.close_connection = True
            return
        message = f"HTTP method {self.command} not allowed: use POST or GET"
        self._send_error_json(405, 18002, message)

    def do_GET(self) -> None:  # noqa: N802 (http.server naming)
        self._serve_api()

    def do_POST(self) -> None:  # noqa: N802
        self._serve_api()

    def do_PUT(self) -> None:  # noqa: N802
        self._method_not_allowed()

    def do_DELETE(self) -> None:  # noqa: N802
        self._method_not_allowed()

    def do_PATCH(self) -> None:  # noqa: N802
        self._method_not_allowed()

    def do_OPTIONS(self) -> None:  # noqa: N802
        self._method_not_allowed()

    def do_HEAD(self) -> None:  # noqa: N802
        self._method_not_allowed()

    def do_TRACE(self) -> None:  # noqa: N802
        self._method_not_allowed()

    def do_CONNECT(self) -> None:  # noqa: N802
        self._method_not_allowed()

    def _serve_api(self) -> None:
        try:
            body = self._read_body()
        except _ClientGone:
            self.close_connection = True
            return
        except _BadFraming as exc:
            self._send_error_json(400, 18000, f"Bad request: {exc}")
            return
        except _TooLarge:
            self._send_error_json(413, 18002, self._too_large_message())
            return

        try:
            # http.server decoded the request line as latin-1: encoding gives the raw bytes.
            params = _parse_form(urlsplit(self.path).query.encode("latin-1"))
            if body:
                if self.headers.get_content_type().endswith("json"):
                    params.update(_parse_json(body))
                else:
                    params.update(_parse_form(body))
        except _Malformed as exc:
            action = self._action_hint()
            self._backend.count(action)
            answer = _Backend.reply_for(action)(18000, f"Request parse error: {exc}")
            self._send_json(200, answer)
            return

        try:
            answer = self._backend.handle(params)
        except Exception:  # a bug in the sandbox, not the client's fault: say so, keep serving
            traceback.print_exc()
            answer = _Backend.reply_for(params.get("Action", ""))(
                150, "Sandbox internal error (traceback on the sandbox's stderr)"
            )
            self._send_json(500, answer, close=True)
            return
        self._send_json(200, answer)

    def handle_one_request(self) -> None:
        try:
            super().handle_one_request()
        except (_ClientGone, ConnectionError, TimeoutError):
            self.close_connection = True


# --------------------------------------------------------------------------------------------
# Running servers


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


class SandboxServer:
    """A running sandbox; serves in a daemon thread until :meth:`close`."""

    def __init__(
        self, config: SandboxConfig | None = None, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        _check_loopback(host)
        self.config = config if config is not None else SandboxConfig()
        _check_config(self.config)
        self._backend = _Backend(self.config)
        self.messages: list[dict[str, Any]] = self._backend.messages
        self.request_counts: collections.Counter[str] = self._backend.request_counts
        self._httpd = _HTTPServer((host, port), self._backend)
        bound_host, bound_port = self._httpd.server_address[:2]
        self.host = str(bound_host)
        self.port = int(bound_port)
        self.base_url = f"http://{_url_host(self.host)}:{self.port}"
        self._closed = False
        self._close_lock = threading.Lock()
        self._thread = threading.Thread(
            target=self._httpd.serve_until_stopped,
            name=f"usms-sandbox-{self.port}",
            daemon=True,
        )
        self._thread.start()

    def close(self) -> None:
        """Stop serving, drop open connections and join the thread; safe to call twice."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        self._httpd.stop()
        self._thread.join()
        self._httpd.server_close()
        self._httpd.close_connections()

    def __enter__(self) -> SandboxServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "serving"
        return f"<SandboxServer {self.base_url} {state}, {len(self.messages)} messages>"


def start_sandbox(
    config: SandboxConfig | None = None, host: str = "127.0.0.1", port: int = 0
) -> SandboxServer:
    """Start a sandbox in a background thread; it is listening when this returns.

    ``port=0`` picks a free port (see ``server.base_url``). Raises ``ValueError`` for a
    non-loopback host or an invalid config, ``OSError`` when the port cannot be bound.
    """
    return SandboxServer(config, host, port)


class _Terminate(Exception):
    """Raised by the SIGTERM handler to leave the wait loop of serve_forever."""


def _raise_terminate(signum: int, frame: FrameType | None) -> None:
    raise _Terminate


def _banner(server: SandboxServer) -> list[str]:
    config = server.config
    exports = [
        ("UCLOUD_API_BASE_URL", server.base_url),
        ("UCLOUD_PUBLIC_KEY", config.public_key),
        ("UCLOUD_PRIVATE_KEY", config.private_key),
        ("UCLOUD_PROJECT_ID", config.project_id),
        ("USMS_TEMPLATE_ID", DEFAULT_TEMPLATE_ID),
        ("USMS_SIG_CONTENT", DEFAULT_SIGNATURE),
    ]
    lines = [
        f"# USMS sandbox listening on {server.base_url} (Ctrl-C to stop)",
        f"# {len(config.templates)} template(s), {len(config.signatures)} signature(s); "
        f"receipts after {config.receipt_delay:g} s",
        "# Point usms at it:",
    ]
    lines.extend(f"export {name}={shlex.quote(value)}" for name, value in exports)
    return lines


def serve_forever(
    config: SandboxConfig | None = None,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    out: TextIO | None = None,
) -> int:
    """Run a sandbox in the foreground (``usms sandbox``) until Ctrl-C or SIGTERM; return 0.

    The banner (base URL, then ``export`` lines for the shell, other lines commented with
    ``#``) goes to ``out`` (default stdout). Raises like :func:`start_sandbox` before serving.
    """
    stream = out if out is not None else sys.stdout
    server = start_sandbox(config, host, port)
    previous: Any = None
    in_main_thread = threading.current_thread() is threading.main_thread()
    try:
        if in_main_thread:
            previous = signal.signal(signal.SIGTERM, _raise_terminate)
        for line in _banner(server):
            print(line, file=stream)
        stream.flush()
        while True:
            time.sleep(3600)
    except (KeyboardInterrupt, _Terminate):
        pass
    finally:
        server.close()
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)
    try:
        print(f"# USMS sandbox stopped ({len(server.messages)} message(s) accepted)", file=stream)
        stream.flush()
    except (OSError, ValueError):
        pass
    return 0
