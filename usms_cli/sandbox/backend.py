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
from usms_cli.i18n import tr
from usms_cli.sandbox import pushes
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
    MAX_USER_ID_CHARS,
    blocked_word,
    canonical_phone,
    failure,
    indexed,
    new_message,
    phone_parts,
    render,
    target_problem,
    tasks_problem,
    template_problem,
    variables,
)

SEND_OK_MESSAGE = "提交发送成功"
BALANCE_MESSAGE = "账户或项目短信余额不足 (insufficient SMS balance; sandbox --balance)"
BLOCKED_MESSAGE = "内容含有运营商屏蔽关键字 (a carrier-blocked keyword: {word!r})"
BLACKLISTED = "phone in the black list"

# ReceiptResult words, by receipt_language: delivered, failed, unknown (sic: "Unknow").
RECEIPT_WORDS = {
    "en": {"ok": "Success", "fail": "Fail", "unknown": "Unknow"},
    "zh": {"ok": "发送成功", "fail": "发送失败", "unknown": "状态未知"},
}
# Receipt codes and descriptions (usms-docs receipt_code.md); --fail-number PHONE=CODE picks
# the code of a failing number.
RECEIPT_CODES = {
    "DELIVRD": "用户接收成功",
    "UNDELIVRD": "用户接收失败",
    "MLBLACK": "手机号在黑名单中",
    "-99": "一分钟内重复发送被拦截",
    "-131": "验证码30秒内重复发送被拦截",
    "YX:9432": "验证码每分钟限发1条",
    "YX:9433": "验证码每小时限发3条",
    "YX:9434": "验证码每天限发6条",
    "YX:9420": "夜间禁止群发",
    "YX:9422": "内容含有屏蔽词",
}
Outcome = tuple[str, str, str]
"""How one accepted message ends: (``ok``/``fail``/``unknown``, ReceiptCode, ReceiptDesc)."""
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
    outcomes: list[Outcome]


class Backend:
    """State and request handling of one sandbox; :meth:`handle` maps parameters to an answer."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.messages: list[dict[str, Any]] = []
        self.request_counts: collections.Counter[str] = collections.Counter()
        self.started = int(time.time())
        self.sessions: dict[str, Session] = {}
        self.blacklist: dict[str, set[int]] = {}  # international digits -> purposes (0: all)
        self.lock = threading.Lock()
        self._random = random.Random(config.seed)
        self._record_lock = threading.Lock()
        self._record_warned = False
        self._console: Any = None
        self._console_lock = threading.Lock()
        self.pushes: Any = None  # sandbox.pushes.PushState, once --push-to or --pull needs it

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
        with self.lock:
            sig.settle(time.monotonic())
        if sig.status != STATUS_APPROVED:
            return f"Signature {sig_content!r} is not approved (status {sig.status})"
        return None

    def template(self, template_id: str) -> Template | None:
        """The template, its review settled as of now."""
        template = self.config.templates.get(template_id)
        if template is not None:
            with self.lock:
                template.settle(time.monotonic())
        return template

    def blacklisted(self, phone: str, purpose: int) -> bool:
        from usms_cli.sandbox.ledger import blacklist_key

        purposes = self.blacklist.get(blacklist_key(phone) or "", set())
        return 0 in purposes or purpose in purposes

    def charge(self, count: int) -> bool:
        """Take ``count`` messages off the balance; False (nothing taken) when it is short."""
        with self.lock:
            if self.config.balance is None:
                return True
            if count > self.config.balance:
                return False
            self.config.balance -= count
            return True

    def outcome(self, phone: str, purpose: int) -> Outcome:
        config = self.config
        if self.blacklisted(phone, purpose):
            return "fail", "MLBLACK", RECEIPT_CODES["MLBLACK"]
        canonical = canonical_phone(phone)
        fail = {canonical_phone(n): n for n in config.fail_numbers}
        if phone in config.fail_numbers or canonical in fail:
            code = config.fail_codes.get(fail.get(canonical, phone), "UNDELIVRD")
            return "fail", code, RECEIPT_CODES.get(code, "用户接收失败")
        unknown = {canonical_phone(n) for n in config.unknown_numbers}
        if phone in config.unknown_numbers or canonical in unknown:
            return "unknown", "", "状态未知"
        return "ok", "DELIVRD", RECEIPT_CODES["DELIVRD"]

    def unlucky(self) -> bool:
        """True when this valid send is refused with 18004 (``fail_rate``)."""
        if self.config.fail_rate <= 0:
            return False
        with self.lock:
            return self._random.random() < self.config.fail_rate

    def store(self, session_no: str, now: float, messages: list[dict[str, Any]]) -> None:
        """Keep accepted messages: receipts, ``messages``, the record file, the display. A
        blacklisted number is kept for its receipt (MLBLACK) but receives nothing."""
        config = self.config
        outcomes: list[Outcome]
        if config.fail_numbers or config.unknown_numbers or self.blacklist:
            purposes = {t.template_id: t.purpose for t in config.templates.values()}
            outcomes = [
                self.outcome(m["phone"], purposes.get(m["template_id"], 0)) for m in messages
            ]
        else:  # the usual case, and the one a big batch must not slow down
            outcomes = [("ok", "DELIVRD", RECEIPT_CODES["DELIVRD"])] * len(messages)
        delivered = [m for m, o in zip(messages, outcomes, strict=True) if o[1] != "MLBLACK"]
        with self.lock:
            self.sessions[session_no] = Session(time.monotonic(), now, messages, outcomes)
            self.messages.extend(delivered)
        self._record(delivered)
        pushes.queue_reports(self, session_no, messages, outcomes)
        if config.display:
            self._show(delivered)

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
                    warning = tr("usms sandbox: cannot write {path}: {error}", path=path, error=exc)
                    print(warning, file=sys.stderr)

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
                (tr("(session {session}…)", session=message["session_no"][:8]), "dim"),
            )
            self._console_print(line)

    def _show_refusal(self, action: str, answer: Mapping[str, Any]) -> None:
        from rich.text import Text

        text = tr(
            "{action} refused: {code} {message}",
            action=action,
            code=answer["RetCode"],
            message=answer["Message"],
        )
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
    template = backend.template(template_id)
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
    body = render(request.template.text, request.template_params)
    word = blocked_word([body], backend.config.blocked_words)
    if word is not None:
        return reply(18023, BLOCKED_MESSAGE.format(word=word))
    if backend.unlucky():
        return reply(18004, FAIL_RATE_MESSAGE)
    purpose = request.template.purpose
    deliverable = sum(1 for phone in request.phones if not backend.blacklisted(phone, purpose))
    if not backend.charge(deliverable):
        return reply(18013, BALANCE_MESSAGE)
    session_no = str(uuid.uuid4())
    now = time.time()
    template_id = request.template.template_id
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
    template = backend.template(template_id)
    task_reason = template_problem(template, template_id) or backend.signature_problem(sig_content)
    purpose = 0 if template is None else template.purpose
    messages: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    for target in task["Target"]:
        phone = target["Phone"]
        parts = phone_parts(phone)
        reason = task_reason or target_problem(target, parts, template)
        if reason is None and (
            canonical_phone(phone) in refuse or backend.blacklisted(phone, purpose)
        ):
            reason = BLACKLISTED
        values = tuple(target.get("TemplateParams") or ())
        body = "" if template is None else render(template.text, list(values))
        word = blocked_word([body], backend.config.blocked_words) if reason is None else None
        if word is not None:
            reason = BLOCKED_MESSAGE.format(word=word)
        if reason is not None or template is None:
            failures.append(failure(target, reason or "refused"))
            continue
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
    if messages and not backend.charge(len(messages)):
        return reply(18013, BALANCE_MESSAGE)
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


Handler = Callable[[Backend, Mapping[str, str], Reply], dict[str, Any]]


def _actions() -> dict[str, Handler]:
    from usms_cli.sandbox import ledger, manage

    return {
        "SendUSMSMessage": send,
        "SendBatchUSMSMessage": send_batch,
        "GetUSMSSendReceipt": ledger.receipts,
        "QueryUSMSTemplate": manage.query_template,
        "QueryUSMSSignature": manage.query_signature,
        "CreateUSMSTemplate": manage.create_template,
        "UpdateUSMSTemplate": manage.update_template,
        "DeleteUSMSTemplate": manage.delete_templates,
        "CreateUSMSSignature": manage.create_signature,
        "UpdateUSMSSignature": manage.update_signature,
        "DeleteUSMSSignature": manage.delete_signatures,
        "GetUSMSSendStatistics": ledger.send_statistics,
        "GetUSMSTemplateSendStatistics": ledger.template_statistics,
        "BatchCreateUSMSBlacklistPhone": ledger.add_blacklist,
        "PullUSMSReport": pushes.pull_reports,
    }


ACTIONS: dict[str, Handler] = _actions()
"""The actions the sandbox knows: a new one is one entry here and one handler above."""
