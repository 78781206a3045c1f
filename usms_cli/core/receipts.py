"""Delivery receipts and look-up answers: pure parsing and classification, no I/O."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from usms_cli.core.codes import as_int
from usms_cli.core.errors import ExitCode, InputError
from usms_cli.core.text import LazyPattern, Translated
from usms_cli.i18n import N_, tr

Result = Literal["delivered", "failed", "unknown", "pending"]

# ReceiptResult as the API writes it (English or Chinese) -> our word.
_RESULTS: dict[str, Result] = {
    "success": "delivered",
    "发送成功": "delivered",
    "fail": "failed",
    "failed": "failed",
    "submitfail": "failed",
    "发送失败": "failed",
    "unknow": "unknown",
    "unknown": "unknown",
    "状态未知": "unknown",
}

# Each result in words for a person (the words above are what a script reads).
RESULT_WORDS: Mapping[str, str] = Translated(
    {
        "delivered": N_("delivered"),
        "failed": N_("failed"),
        "unknown": N_("unknown"),
        "pending": N_("pending"),
    }
)

FINAL: frozenset[Result] = frozenset({"delivered", "failed"})


# What a SessionNo looks like: groups of letters and digits joined by hyphens
# (5a3c9e1b-7d42-4f7e-9c1a-2b8d4e6f0a13). Anything else is a typo or an unexpanded variable.
SESSION_NO_FORM = LazyPattern(r"[0-9A-Za-z]+(?:-[0-9A-Za-z]+)+")
MAX_SESSION_NO = 128


def split_session_nos(values: Iterable[str]) -> list[str]:
    """SessionNos from arguments that may each hold several (``$(usms send -q …)`` gives one
    per line), unique, in order; an InputError naming the first that is not one."""
    found: list[str] = []
    for value in values:
        for word in value.split():
            if len(word) > MAX_SESSION_NO or not SESSION_NO_FORM.fullmatch(word):
                shown = word if len(word) <= 40 else word[:40] + "…"
                raise InputError(
                    tr(
                        "{value!r} is not a SessionNo (they look like "
                        "5a3c9e1b-7d42-4f7e-9c1a-2b8d4e6f0a13)",
                        value=shown,
                    ),
                    hint=tr("pass the SessionNo(s) usms send printed; '-' reads them from stdin"),
                )
            found.append(word)
    return list(dict.fromkeys(found))


def classify(receipt_result: Any) -> Result:
    text = str(receipt_result or "").strip().lower()
    return _RESULTS.get(text, "unknown")


@dataclass(frozen=True)
class Receipt:
    session_no: str
    phone: str
    result: Result
    raw_result: str = ""
    code: str = ""
    description: str = ""
    time: int | None = None
    cost: int | None = None
    user_id: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "SessionNo": self.session_no,
            "Phone": self.phone,
            "result": self.result,
            "ReceiptResult": self.raw_result,
            "ReceiptCode": self.code,
            "ReceiptDesc": self.description,
            "ReceiptTime": self.time,
            "CostCount": self.cost,
            "UserId": self.user_id,
        }


def parse_receipts(body: Mapping[str, Any]) -> dict[str, list[Receipt]]:
    """``SessionNo -> receipts`` from a GetUSMSSendReceipt answer; tolerant of odd shapes."""
    sessions: dict[str, list[Receipt]] = {}
    data = body.get("Data")
    if not isinstance(data, list):
        return sessions
    for item in data:
        if not isinstance(item, Mapping):
            continue
        session_no = str(item.get("SessionNo") or "")
        receipts = sessions.setdefault(session_no, [])
        receipt_set = item.get("ReceiptSet")
        if not isinstance(receipt_set, list):
            continue
        for entry in receipt_set:
            if not isinstance(entry, Mapping):
                continue
            raw = str(entry.get("ReceiptResult") or "")
            receipts.append(
                Receipt(
                    session_no=session_no,
                    phone=str(entry.get("Phone") or ""),
                    result=classify(raw),
                    raw_result=raw,
                    code=str(entry.get("ReceiptCode") or ""),
                    description=str(entry.get("ReceiptDesc") or ""),
                    time=as_int(entry.get("ReceiptTime")),
                    cost=as_int(entry.get("CostCount")),
                    user_id=str(entry.get("UserId") or ""),
                )
            )
    return sessions


@dataclass
class ReceiptState:
    """What is known so far about a set of sessions.

    The API lists only the phones that have reported, so the phones that have not can be
    counted only when usms knows whom the sessions went to: ``expected`` (session -> phones,
    from the send itself or the history), ``phones`` (``--phones``, any session) or
    ``expect`` (``--expect N``, all sessions together). Without any of them, ``counted`` is
    False and a summary must say that silent phones are not counted."""

    session_nos: list[str]
    expected: Mapping[str, Sequence[str]] = field(default_factory=dict)  # session -> phones sent
    receipts: dict[str, dict[str, Receipt]] = field(default_factory=dict)  # session -> phone ->
    phones: Sequence[str] = ()  # --phones: phones sent to, in any of the sessions
    expect: int | None = None  # --expect: how many phones the sessions were sent to

    def update(self, sessions: Mapping[str, Iterable[Receipt]]) -> None:
        for session_no, receipts in sessions.items():
            known = self.receipts.setdefault(session_no, {})
            for receipt in receipts:
                known[receipt.phone] = receipt

    @property
    def counted(self) -> bool:
        """Whether phones that have not reported are counted (as pending)."""
        if self.phones or self.expect is not None:
            return True
        return all(self.expected.get(sn) for sn in self.session_nos)

    def rows(self) -> list[Receipt]:
        """One row per phone: its receipt, or ``pending`` for a known phone with none yet."""
        rows: list[Receipt] = []
        for session_no in self.session_nos:
            known = self.receipts.get(session_no, {})
            expected = list(self.expected.get(session_no, ()))
            for phone in expected:
                rows.append(_match(known, phone) or Receipt(session_no, phone, "pending"))
            matched = {r.phone for r in rows if r.session_no == session_no}
            rows.extend(r for phone, r in known.items() if phone not in matched)
        if self.phones:
            reported = {r.phone: r for r in rows}
            for phone in self.phones:
                if _match(reported, phone) is None:
                    rows.append(Receipt("", phone, "pending"))
        return rows

    def silent_sessions(self) -> list[str]:
        """Sessions with no receipt at all and no known phones."""
        return [
            sn for sn in self.session_nos if not self.receipts.get(sn) and not self.expected.get(sn)
        ]

    def counts(self) -> dict[str, int]:
        totals = {"delivered": 0, "failed": 0, "unknown": 0, "pending": 0}
        rows = self.rows()
        for row in rows:
            totals[row.result] += 1
        if self.expect is not None:
            totals["pending"] += max(0, self.expect - len(rows))
        return totals

    def done(self) -> bool:
        counts = self.counts()
        if counts["pending"] or counts["unknown"]:
            return False
        return not self.silent_sessions()

    def exit_code(self) -> ExitCode:
        counts = self.counts()
        if counts["failed"]:
            return ExitCode.REJECTED
        if counts["unknown"] or counts["pending"] or self.silent_sessions():
            return ExitCode.UNKNOWN
        return ExitCode.OK


def _match(known: Mapping[str, Receipt], phone: str) -> Receipt | None:
    """The API may echo ``(86)138…`` or ``86138…`` for ``138…``: match on the national part."""
    if phone in known:
        return known[phone]
    bare = phone.split(")")[-1]
    for other, receipt in known.items():
        other_bare = other.split(")")[-1]
        if other_bare == bare or other_bare.endswith(bare) and len(other_bare) - len(bare) <= 4:
            return receipt
    return None


@dataclass(frozen=True)
class PollPlan:
    """When to ask again. Real receipts take minutes (UCloud: ask again 5–10 minutes after
    sending), so polling starts at ``interval`` and backs off by 1.5× up to ``max_interval``."""

    interval: float = 5.0
    max_interval: float = 60.0
    factor: float = 1.5

    def delays(self) -> Iterable[float]:
        delay = self.interval
        while True:
            yield delay
            delay = min(self.max_interval, delay * self.factor)
