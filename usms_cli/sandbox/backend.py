"""The USMS actions themselves, without HTTP: the gateway's checks (keys, signature, action),
one handler per action chosen through :data:`ACTIONS`, the sessions and their receipts, and
the side outputs (record file, live display)."""

from __future__ import annotations

import base64
import collections
import json
import random
import sys
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from usms_cli.core import signing
from usms_cli.sandbox.config import (
    BATCH_PARTIAL_RETCODE,
    STATUS_APPROVED,
    SandboxConfig,
    Template,
)
from usms_cli.sandbox.rules import (
    DIGITS,
    MAX_BATCH_TARGETS,
    MAX_PHONE_NUMBERS,
    MAX_SESSION_NOS,
    MAX_USER_ID_CHARS,
    canonical_phone,
    cost_count,
    failure,
    indexed,
    is_domestic,
    new_message,
    phone_parts,
    render,
    target_problem,
    tasks_problem,
    template_problem,
    variables,
)

SEND_OK_MESSAGE = "提交发送成功"
FAIL_RATE_MESSAGE = "Service error, nothing was submitted (sandbox fail_rate)"

Reply = Callable[..., dict[str, Any]]
"""``reply(RetCode, Message, **fields)``: an answer to one action."""


def reply_for(action: str) -> Reply:
    """The answer builder for ``action`` (``Action`` is ``<action>Response``)."""

    def reply(code: int, message: str, **extra: Any) -> dict[str, Any]:
        return {"Action": f"{action}Response", "RetCode": code, "Message": message, **extra}

    return reply


@dataclass
class Session:
    sent_monotonic: float
    sent_time: float
    messages: list[dict[str, Any]]
    failed: list[bool]


class Backend:
    """State and request handling of one sandbox; :meth:`handle` maps parameters to an answer."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.messages: list[dict[str, Any]] = []
        self.request_counts: collections.Counter[str] = collections.Counter()
        self.started = int(time.time())
        self.sessions: dict[str, Session] = {}
        self.lock = threading.Lock()
        self._random = random.Random(config.seed)
        self._record_lock = threading.Lock()
        self._record_warned = False
        self._console: Any = None
        self._console_lock = threading.Lock()

    def count(self, action: str) -> None:
        with self.lock:
            self.request_counts[action] += 1

    def handle(self, params: Mapping[str, str]) -> dict[str, Any]:
        """Count, authorise and answer one request (its decoded parameters)."""
        action = params.get("Action", "")
        self.count(action)
        answer = self._authorise_and_dispatch(action, params)
        sending = action in ("SendUSMSMessage", "SendBatchUSMSMessage")
        if sending and answer["RetCode"] != 0 and self.config.display:
            self._show_refusal(action, answer)
        return answer

    def _authorise_and_dispatch(self, action: str, params: Mapping[str, str]) -> dict[str, Any]:
        reply = reply_for(action)
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
        handler = ACTIONS.get(action)
        if handler is None:
            return reply(161, "Action does not exist")
        return handler(self, params, reply)

    # -- shared by the handlers

    def signature_problem(self, sig_content: str) -> str | None:
        """Why the API refuses this signature (RetCode 18016), or None."""
        if not sig_content:
            return "Missing SigContent: a signature is required"
        sig = self.config.signatures.get(sig_content)
        if sig is None:
            return f"Signature {sig_content!r} does not exist"
        if sig.status != STATUS_APPROVED:
            return f"Signature {sig_content!r} is not approved (status {sig.status})"
        return None

    def unlucky(self) -> bool:
        """True when this valid send is refused with 18004 (``fail_rate``)."""
        if self.config.fail_rate <= 0:
            return False
        with self.lock:
            return self._random.random() < self.config.fail_rate

    def store(self, session_no: str, now: float, messages: list[dict[str, Any]]) -> None:
        """Keep accepted messages: receipts, ``messages``, the record file, the display."""
        config = self.config
        fail_canonical = {canonical_phone(number) for number in config.fail_numbers}
        failed = [
            bool(fail_canonical)
            and (
                message["phone"] in config.fail_numbers
                or canonical_phone(message["phone"]) in fail_canonical
            )
            for message in messages
        ]
        with self.lock:
            self.sessions[session_no] = Session(time.monotonic(), now, messages, failed)
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
# SendUSMSMessage


@dataclass
class _SendRequest:
    phones: list[str]
    parts_of: list[tuple[str, str] | None]
    template: Template
    template_params: list[str]
    sig_content: str
    user_id: str
    extend_code: str


def _read_send(backend: Backend, params: Mapping[str, str]) -> _SendRequest | tuple[int, str]:
    """The checked request, or ``(RetCode, message)`` for the first thing the API refuses."""
    phones = indexed(params, "PhoneNumbers")
    if not phones:
        return 18001, "Missing parameter: PhoneNumbers.N (at least one phone number)"
    template_id = params.get("TemplateId", "")
    if not template_id:
        return 18001, "Missing parameter: TemplateId"
    if len(phones) > MAX_PHONE_NUMBERS:
        return (
            18019,
            f"Too many phone numbers: {len(phones)} (at most {MAX_PHONE_NUMBERS} per request)",
        )
    parts_of = [phone_parts(phone) for phone in phones]
    invalid = [phone for phone, parts in zip(phones, parts_of, strict=True) if parts is None]
    if invalid:
        shown = ", ".join(repr(phone) for phone in invalid[:10])
        more = f" and {len(invalid) - 10} more" if len(invalid) > 10 else ""
        return 18014, f"Invalid phone numbers: {shown}{more}"
    template = backend.config.templates.get(template_id)
    problem = template_problem(template, template_id)
    if problem is not None or template is None:
        return 18017, problem or ""
    template_params = indexed(params, "TemplateParams")
    wanted = len(variables(template.text))
    if len(template_params) != wanted:
        return (
            18018,
            f"Template params do not match template {template_id}: it has "
            f"{wanted} variable(s), {len(template_params)} TemplateParams given",
        )
    sig_content = params.get("SigContent", "")
    problem = backend.signature_problem(sig_content)
    if problem is not None:
        return 18016, problem
    user_id = params.get("UserId", "")
    if len(user_id) > MAX_USER_ID_CHARS:
        return 18002, f"UserId is longer than {MAX_USER_ID_CHARS} characters"
    extend_code = params.get("ExtendCode", "")
    if extend_code and not DIGITS.fullmatch(extend_code):
        return 18002, "ExtendCode must contain digits only"
    return _SendRequest(
        phones, parts_of, template, template_params, sig_content, user_id, extend_code
    )


def send(backend: Backend, params: Mapping[str, str], reply: Reply) -> dict[str, Any]:
    """SendUSMSMessage: one template and its params to up to 1000 numbers."""
    request = _read_send(backend, params)
    if isinstance(request, tuple):
        return reply(*request)
    if backend.unlucky():
        return reply(18004, FAIL_RATE_MESSAGE)
    session_no = str(uuid.uuid4())
    now = time.time()
    template_id = request.template.template_id
    body = render(request.template.text, request.template_params)
    # A tuple keeps the message dicts out of the cyclic GC's way (large batches).
    values = tuple(request.template_params)
    messages = [
        new_message(session_no, now, phone, parts, request.sig_content, template_id, values, body)
        for phone, parts in zip(request.phones, request.parts_of, strict=True)
    ]
    if request.user_id or request.extend_code:
        for item in messages:
            item["user_id"] = request.user_id
            item["extend_code"] = request.extend_code
    backend.store(session_no, now, messages)
    answer = reply(0, SEND_OK_MESSAGE, SessionNo=session_no)
    if request.user_id:
        answer["UserId"] = request.user_id
    return answer


# --------------------------------------------------------------------------------------------
# SendBatchUSMSMessage


def _read_tasks(backend: Backend, params: Mapping[str, str]) -> list[Any] | tuple[int, str]:
    """The decoded, well-formed TaskContent, or ``(RetCode, message)``."""
    raw = params.get("TaskContent", "")
    if not raw:
        return 18001, "Missing parameter: TaskContent"
    try:
        tasks = json.loads(base64.b64decode(raw, validate=True).decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):  # binascii.Error: ValueError
        return 18000, "TaskContent is not base64 of a UTF-8 JSON document"
    problem = tasks_problem(tasks)
    if problem is not None:
        return problem[0], f"TaskContent: {problem[1]}"
    count = sum(len(task["Target"]) for task in tasks)
    if count > MAX_BATCH_TARGETS:
        return 18002, f"Too many targets: {count} (at most {MAX_BATCH_TARGETS} per request)"
    if backend.unlucky():
        return 18004, FAIL_RATE_MESSAGE
    assert isinstance(tasks, list)
    return tasks


def _task_messages(
    backend: Backend, task: Mapping[str, Any], session_no: str, now: float, refuse: set[str]
) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    """The accepted messages of one task, and its FailContent entry if a target was refused."""
    template_id, sig_content = task["TemplateId"], task["SigContent"]
    template = backend.config.templates.get(template_id)
    task_reason = template_problem(template, template_id) or backend.signature_problem(sig_content)
    messages: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    for target in task["Target"]:
        phone = target["Phone"]
        parts = phone_parts(phone)
        reason = task_reason or target_problem(target, parts, template)
        if reason is None and canonical_phone(phone) in refuse:
            reason = "phone in the black list"
        if reason is not None or template is None:
            failures.append(failure(target, reason or "refused"))
            continue
        values = tuple(target.get("TemplateParams") or ())
        body = render(template.text, list(values))
        item = new_message(session_no, now, phone, parts, sig_content, template_id, values, body)
        item["user_id"] = target.get("UserId", "")
        item["extend_code"] = target.get("ExtendCode", "")
        messages.append(item)
    if not failures:
        return messages, None
    return messages, {
        "TemplateId": template_id,
        "SigContent": sig_content,
        "FailureDetails": task_reason or "",
        "Target": failures,
    }


def send_batch(backend: Backend, params: Mapping[str, str], reply: Reply) -> dict[str, Any]:
    """SendBatchUSMSMessage: per-target template params; refused targets are listed in
    FailContent, the others accepted under one SessionNo."""
    tasks = _read_tasks(backend, params)
    if isinstance(tasks, tuple):
        return reply(*tasks)
    session_no = str(uuid.uuid4())
    now = time.time()
    refuse = {canonical_phone(number) for number in backend.config.refuse_numbers}
    messages: list[dict[str, Any]] = []
    fail_content: list[dict[str, Any]] = []
    for task in tasks:
        accepted, failed = _task_messages(backend, task, session_no, now, refuse)
        messages.extend(accepted)
        if failed is not None:
            fail_content.append(failed)
    extra: dict[str, Any] = {
        "ReqUuid": str(uuid.uuid4()),
        "SuccessCount": len(messages),
        "FailContent": fail_content,
    }
    if messages:
        backend.store(session_no, now, messages)
        extra["SessionNo"] = session_no
    if not fail_content:
        return reply(0, SEND_OK_MESSAGE, **extra)
    if messages:
        return reply(backend.config.batch_partial_ret_code, "部分短信发送失败", **extra)
    return reply(BATCH_PARTIAL_RETCODE, "短信发送失败", **extra)


# --------------------------------------------------------------------------------------------
# GetUSMSSendReceipt, QueryUSMSTemplate, QueryUSMSSignature


def _receipt(item: Mapping[str, Any], failed: bool, receipt_time: int) -> dict[str, Any]:
    return {
        "Phone": item["phone"],
        "CostCount": cost_count(item["text"], domestic=is_domestic(phone_parts(item["phone"]))),
        "ReceiptResult": "Fail" if failed else "Success",
        "ReceiptCode": "UNDELIVRD" if failed else "DELIVRD",
        "ReceiptDesc": "用户接收失败" if failed else "用户接收成功",
        "ReceiptTime": receipt_time,
        "UserId": item["user_id"],
    }


def receipts(backend: Backend, params: Mapping[str, str], reply: Reply) -> dict[str, Any]:
    """GetUSMSSendReceipt: a session's receipts once ``receipt_delay`` has passed."""
    session_nos = indexed(params, "SessionNoSet")
    if not session_nos:
        return reply(18001, "Missing parameter: SessionNoSet.N")
    if len(session_nos) > MAX_SESSION_NOS:
        return reply(
            18002,
            f"Too many SessionNos: {len(session_nos)} (at most {MAX_SESSION_NOS} per request)",
        )
    delay = backend.config.receipt_delay
    now = time.monotonic()
    data: list[dict[str, Any]] = []
    for session_no in dict.fromkeys(session_nos):
        with backend.lock:
            session = backend.sessions.get(session_no)
        receipt_set: list[dict[str, Any]] = []
        if session is not None and now - session.sent_monotonic >= delay:
            receipt_time = int(session.sent_time + delay)
            receipt_set = [
                _receipt(item, failed, receipt_time)
                for item, failed in zip(session.messages, session.failed, strict=True)
            ]
        data.append({"SessionNo": session_no, "ReceiptSet": receipt_set})
    return reply(0, "Success", Data=data)


def query_template(backend: Backend, params: Mapping[str, str], reply: Reply) -> dict[str, Any]:
    """QueryUSMSTemplate: one template by id, whatever its status."""
    template_id = params.get("TemplateId", "")
    if not template_id:
        return reply(18001, "Missing parameter: TemplateId")
    template = backend.config.templates.get(template_id)
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
        "CreateTime": backend.started,
        "Instruction": "",
    }
    return reply(0, "Success", Data=data)


def query_signature(backend: Backend, params: Mapping[str, str], reply: Reply) -> dict[str, Any]:
    """QueryUSMSSignature: one signature by id and/or content."""
    sig_id = params.get("SigId", "")
    content = params.get("SigContent", "")
    if not sig_id and not content:
        return reply(18001, "Missing parameter: SigId or SigContent")
    for sig in backend.config.signatures.values():
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


Handler = Callable[[Backend, Mapping[str, str], Reply], dict[str, Any]]

ACTIONS: dict[str, Handler] = {
    "SendUSMSMessage": send,
    "SendBatchUSMSMessage": send_batch,
    "GetUSMSSendReceipt": receipts,
    "QueryUSMSTemplate": query_template,
    "QueryUSMSSignature": query_signature,
}
"""The actions the sandbox knows: a new one is one entry here and one handler above."""
