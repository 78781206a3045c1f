"""Pushes from UCloud (status reports and replies) and PullUSMSReport items: pure parsing.

UCloud POSTs JSON to the URL support configured for the account (usms-docs
``api_docs/ret_message/retStatus.md`` and ``upMes.md``)::

    {"MsgType": 2, "Data": [{"SessionNo", "Phone", "CostCount", "ReceiptTime",
                             "ReceiptResult", "ReceiptCode", "ReceiptDesc", "UserId"}, ...]}
    {"MsgType": 0, "Data": [{"ExtendCode", "UserId", "Phone", "ReplyContent", "ReplyTime"}, ...]}

and expects ``{"code": 0, "message": "ok"}``; any other answer makes it retry every second,
three times. Each ``Data`` item becomes one :class:`PushEvent` with a stable ``key`` computed
from its documented fields, so the same report pushed again (or pulled with PullUSMSReport)
is recognised. A body usms cannot read raises :class:`PushRejected`, and nothing else.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from usms_cli.core.privacy import Masker
from usms_cli.core.receipts import RESULT_WORDS, Receipt, Result, classify
from usms_cli.i18n import tr

MSG_REPLY = 0
MSG_STATUS = 2
MAX_PUSH_BYTES = 64 * 1024
"""Largest push body accepted (64 KiB: about 200 status reports); larger ones are refused."""

Kind = Literal["receipt", "reply"]

# Fields of each Data item, as UCloud spells them: name -> int field?
_RECEIPT_FIELDS = {
    "SessionNo": False,
    "Phone": False,
    "CostCount": True,
    "ReceiptTime": True,
    "ReceiptResult": False,
    "ReceiptCode": False,
    "ReceiptDesc": False,
    "UserId": False,
}
_REPLY_FIELDS = {
    "ExtendCode": False,
    "UserId": False,
    "Phone": False,
    "ReplyContent": False,
    "ReplyTime": True,
}
_REQUIRED: dict[Kind, tuple[str, ...]] = {"receipt": ("SessionNo", "Phone"), "reply": ("Phone",)}

DEFAULT_OPT_OUT_WORDS: tuple[str, ...] = (
    "R",
    "T",
    "TD",
    "N",
    "退订",
    "回T",
    "回TD",
    "回R",
    "回N",
    "T退订",
    "TD退订",
    "回T退订",
    "退订T",
    "取消",
    "取消订阅",
    "拒收",
    "STOP",
    "UNSUBSCRIBE",
)
"""Replies that mean "stop sending to me" (compared after :func:`normalise_reply`): the
letters carriers print in "拒收请回复R" / "回T退订" / "回N退订", their Chinese words, and
STOP/UNSUBSCRIBE for international numbers. ``usms listen --opt-out-words`` replaces them."""


class PushRejected(ValueError):
    """The body is not a push usms understands: it is answered with an error, never recorded."""


@dataclass(frozen=True)
class PushEvent:
    """One status report or one reply, as received (text fields are ``""`` when absent)."""

    kind: Kind
    key: str
    phone: str
    user_id: str = ""
    session_no: str = ""
    result: Result | None = None  # receipts: delivered / failed / unknown
    receipt_result: str = ""
    receipt_code: str = ""
    receipt_desc: str = ""
    receipt_time: int | None = None
    cost_count: int | None = None
    extend_code: str = ""
    reply_content: str = ""
    reply_time: int | None = None
    opt_out: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)  # undocumented fields, verbatim

    def as_receipt(self) -> Receipt:
        """A status report as a delivery receipt (what GetUSMSSendReceipt would say)."""
        return Receipt(
            session_no=self.session_no,
            phone=self.phone,
            result=self.result or "unknown",
            raw_result=self.receipt_result,
            code=self.receipt_code,
            description=self.receipt_desc,
            time=self.receipt_time,
            cost=self.cost_count,
            user_id=self.user_id,
        )

    def as_json(self) -> dict[str, Any]:
        """The event as written to ``--out``: API field names, plus ``type``/``key``/``result``."""
        item: dict[str, Any] = {"type": self.kind, "key": self.key}
        if self.kind == "receipt":
            item.update(
                {
                    "SessionNo": self.session_no,
                    "Phone": self.phone,
                    "result": self.result,
                    "ReceiptResult": self.receipt_result,
                    "ReceiptCode": self.receipt_code,
                    "ReceiptDesc": self.receipt_desc,
                    "ReceiptTime": self.receipt_time,
                    "CostCount": self.cost_count,
                    "UserId": self.user_id,
                }
            )
        else:
            item.update(
                {
                    "Phone": self.phone,
                    "ReplyContent": self.reply_content,
                    "ReplyTime": self.reply_time,
                    "ExtendCode": self.extend_code,
                    "UserId": self.user_id,
                    "opt_out": self.opt_out,
                }
            )
        if self.extra:
            item["extra"] = dict(self.extra)
        return item


# --------------------------------------------------------------------------------------------
# Opt-out replies


def normalise_reply(text: str) -> str:
    """``" 回Ｔ。"`` → ``"回t"``: NFKC, case-folded, without spaces, punctuation and controls."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in folded if unicodedata.category(ch)[:2] not in _DROPPED)


_DROPPED = frozenset(
    {"Pc", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "Zs", "Zl", "Zp", "Cc", "Cf", "Sm", "Sk"}
)


def opt_out_words(words: Iterable[str]) -> frozenset[str]:
    """The normalised form of each configured keyword (empty ones dropped)."""
    return frozenset(w for w in (normalise_reply(word) for word in words) if w)


DEFAULT_OPT_OUT = opt_out_words(DEFAULT_OPT_OUT_WORDS)


def is_opt_out(text: str, words: frozenset[str] = DEFAULT_OPT_OUT) -> bool:
    """Whether a whole reply is an opt-out keyword (case-insensitive, trimmed, punctuation and
    full-width forms tolerated): ``"t"``, ``"TD。"``, ``"【退订】"`` yes; ``"请别退订"`` no."""
    normalised = normalise_reply(text)
    return bool(normalised) and normalised in words


# --------------------------------------------------------------------------------------------
# Parsing


def parse_push(body: bytes, opt_out: frozenset[str] = DEFAULT_OPT_OUT) -> list[PushEvent]:
    """The events of one push body; raises :class:`PushRejected` for anything else.

    An empty ``Data`` list is a valid push with no events.
    """
    if len(body) > MAX_PUSH_BYTES:
        raise PushRejected(f"body over {MAX_PUSH_BYTES // 1024} KiB")
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise PushRejected("body is not UTF-8") from None
    try:
        document = json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        raise PushRejected("body is not JSON") from None
    if not isinstance(document, dict):
        raise PushRejected("body is not a JSON object")
    msg_type = _as_int(document.get("MsgType"))
    if msg_type == MSG_STATUS:
        kind: Kind = "receipt"
    elif msg_type == MSG_REPLY:
        kind = "reply"
    else:
        raise PushRejected(f"MsgType {_brief(document.get('MsgType'))} is not 0 or 2")
    data = document.get("Data")
    if not isinstance(data, list):
        raise PushRejected("Data is not a list")
    return [_event(kind, item, f"Data[{index}]", opt_out) for index, item in enumerate(data)]


def parse_pull_report(answer: Mapping[str, Any]) -> list[PushEvent]:
    """The status reports in a PullUSMSReport answer (``ReportSet``): the same fields, and the
    same keys, as pushed reports. Raises :class:`PushRejected` for items it cannot read."""
    report_set = answer.get("ReportSet")
    if report_set is None:
        return []
    if not isinstance(report_set, list):
        raise PushRejected("ReportSet is not a list")
    return [
        _event("receipt", item, f"ReportSet[{index}]", DEFAULT_OPT_OUT)
        for index, item in enumerate(report_set)
    ]


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _brief(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 20 else text[:19] + "…"


def _as_int(value: Any) -> int | None:
    """An int given as a JSON number or as a string of digits; ``None`` otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    if isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        return int(value.strip())
    return None


_DIGITS = re.compile(r"-?[0-9]{1,18}")


def _fields(kind: Kind, item: Any, where: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The documented fields, typed (text as str, numbers as int), and the other ones."""
    if not isinstance(item, dict):
        raise PushRejected(f"{where} is not an object")
    spec = _RECEIPT_FIELDS if kind == "receipt" else _REPLY_FIELDS
    known: dict[str, Any] = {}
    for name, numeric in spec.items():
        value = item.get(name)
        if value is None:
            known[name] = None if numeric else ""
        elif numeric:
            number = _as_int(value)
            if number is None:
                raise PushRejected(f"{where}.{name} is not a whole number")
            known[name] = number
        elif isinstance(value, str):
            known[name] = value
        elif isinstance(value, int) and not isinstance(value, bool):
            known[name] = str(value)  # a phone number or extend code sent as a number
        else:
            raise PushRejected(f"{where}.{name} is not text")
    for name in _REQUIRED[kind]:
        if not known[name]:
            raise PushRejected(f"{where} has no {name}")
    extra = {name: value for name, value in item.items() if name not in spec}
    return known, extra


def event_key(kind: Kind, fields: Mapping[str, Any]) -> str:
    """A stable id for one report or reply: a hash of its kind and documented fields.

    A retried push carries the same fields, so it gets the same key; a PullUSMSReport item
    gets the key the same report would have had as a push.
    """
    canonical = json.dumps([kind, sorted(fields.items())], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:32]


def _event(kind: Kind, item: Any, where: str, opt_out: frozenset[str]) -> PushEvent:
    known, extra = _fields(kind, item, where)
    key = event_key(kind, known)
    if kind == "receipt":
        return PushEvent(
            kind="receipt",
            key=key,
            phone=known["Phone"],
            user_id=known["UserId"],
            session_no=known["SessionNo"],
            result=classify(known["ReceiptResult"]),
            receipt_result=known["ReceiptResult"],
            receipt_code=known["ReceiptCode"],
            receipt_desc=known["ReceiptDesc"],
            receipt_time=known["ReceiptTime"],
            cost_count=known["CostCount"],
            extra=extra,
        )
    return PushEvent(
        kind="reply",
        key=key,
        phone=known["Phone"],
        user_id=known["UserId"],
        extend_code=known["ExtendCode"],
        reply_content=known["ReplyContent"],
        reply_time=known["ReplyTime"],
        opt_out=is_opt_out(known["ReplyContent"], opt_out),
        extra=extra,
    )


# --------------------------------------------------------------------------------------------
# Human output


def printable(text: str) -> str:
    """Text from the network made safe for a terminal: control characters shown as ``\\xNN``."""
    return "".join(
        ch if unicodedata.category(ch) not in ("Cc", "Cf") else ascii(ch)[1:-1] for ch in text
    )


def describe(event: PushEvent, masker: Masker) -> str:
    """One line for a person: the number masked, and the reply text too unless ``show_pii``."""
    phone = masker.phone(event.phone)
    if event.kind == "receipt":
        detail = " ".join(p for p in (event.receipt_code, event.receipt_desc) if p)
        line = tr(
            "receipt {phone} {result}",
            phone=phone,
            result=RESULT_WORDS.get(str(event.result), str(event.result)),
        )
        if detail:
            line += f" ({printable(detail)})"
        line += tr(" session {session_no}", session_no=printable(event.session_no))
        if event.user_id:
            line += tr(" user-id {user_id}", user_id=printable(event.user_id))
        return line
    if masker.show_pii:
        content = json.dumps(event.reply_content, ensure_ascii=False)
    else:
        content = tr("[{count} characters]", count=len(event.reply_content))
    line = tr("reply   {phone} {content}", phone=phone, content=printable(content))
    if event.opt_out:
        line += tr(" opt-out")
    return line
