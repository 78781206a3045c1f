"""The sandbox's books: the receipts of its sessions (GetUSMSSendReceipt), send statistics
counted from them
(GetUSMSSendStatistics, GetUSMSTemplateSendStatistics, paged like the real ones) and the
blacklist (BatchCreateUSMSBlacklistPhone), which the send actions then honour."""

from __future__ import annotations

import base64
import datetime
import json
import re
import time
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from usms_cli.sandbox.rules import (
    MAX_SESSION_NOS,
    brevity_code,
    cost_count,
    indexed,
    is_domestic,
    phone_parts,
)

if TYPE_CHECKING:
    from usms_cli.sandbox.backend import Backend, Outcome, Reply

CHINA = datetime.timezone(datetime.timedelta(hours=8))
MAX_BLACKLIST = 1000
MAX_BLACKLIST_REMARK = 256
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_DIGITS = re.compile(r"[0-9]{5,20}")


def blacklist_key(phone: str) -> str | None:
    """A number as international digits (``86138…``), for matching whatever way it is
    written: ``(cc)number``, ``ccnumber``, ``+ccnumber``, or a bare mainland mobile."""
    text = phone.strip()
    parts = phone_parts(text)
    if parts is not None:
        return parts[0] + parts[1]
    digits = text[1:] if text.startswith("+") else text
    if not _DIGITS.fullmatch(digits):
        return None
    return digits


# --------------------------------------------------------------------------------------------
# BatchCreateUSMSBlacklistPhone


def _entries(raw: str) -> list[Any] | tuple[int, str]:
    try:
        entries = json.loads(base64.b64decode(raw, validate=True).decode("utf-8"))
    except (ValueError, UnicodeDecodeError, RecursionError):
        return 18000, "BlackList is not base64 of a UTF-8 JSON document"
    if not isinstance(entries, list) or not entries:
        return 18002, "BlackList must be a non-empty JSON array"
    if len(entries) > MAX_BLACKLIST:
        return 18002, f"BlackList has {len(entries)} entries; at most {MAX_BLACKLIST}"
    return entries


def add_blacklist(backend: Backend, params: Mapping[str, str], reply: Reply) -> dict[str, Any]:
    if params.get("IsGlobal", "").lower() not in ("true", "false"):
        return reply(18001, "Missing parameter: IsGlobal (true or false)")
    raw = params.get("BlackList", "")
    if not raw:
        return reply(18001, "Missing parameter: BlackList")
    entries = _entries(raw)
    if isinstance(entries, tuple):
        return reply(*entries)
    added: list[str] = []
    failed: list[str] = []
    for entry in entries:
        phone = entry.get("Phone") if isinstance(entry, dict) else None
        purpose = entry.get("Purpose", 0) if isinstance(entry, dict) else None
        remark = entry.get("Remark", "") if isinstance(entry, dict) else ""
        key = blacklist_key(phone) if isinstance(phone, str) else None
        valid_purpose = type(purpose) is int and purpose in (0, 1, 2, 3)
        if key is None or not valid_purpose or not isinstance(remark, str):
            failed.append(str(phone) if isinstance(phone, str | int) else "")
            continue
        if len(remark) > MAX_BLACKLIST_REMARK:
            failed.append(str(phone))
            continue
        assert isinstance(purpose, int) and isinstance(phone, str)
        with backend.lock:
            backend.blacklist.setdefault(key, set()).add(purpose)
        added.append(phone)
    return reply(0, "Success", ReqUuid=str(uuid.uuid4()), SuccessList=added, FailedList=failed)


# --------------------------------------------------------------------------------------------
# GetUSMSSendStatistics, GetUSMSTemplateSendStatistics


def _query(params: Mapping[str, str]) -> dict[str, Any] | tuple[int, str]:
    """The statistics question, checked; ``(RetCode, message)`` for the first problem."""
    for key in ("Domestic", "StartDate", "EndDate", "Page", "NumPerPage", "OrderBy", "OrderType"):
        if params.get(key, "") == "":
            return 18001, f"Missing parameter: {key}"
    if params["Domestic"] not in ("0", "1"):
        return 18002, "Domestic must be 0 (international) or 1 (domestic)"
    for key in ("StartDate", "EndDate"):
        if not _DATE.fullmatch(params[key]):
            return 18002, f"{key} must be YYYY-MM-DD"
    if not params["Page"].isdigit() or not params["NumPerPage"].isdigit():
        return 18002, "Page and NumPerPage must be whole numbers"
    if int(params["NumPerPage"]) < 1:
        return 18002, "NumPerPage must be at least 1"
    if params["OrderBy"] not in ("SendDate", "BrevityCode"):
        return 18002, "OrderBy must be SendDate or BrevityCode"
    if params["OrderType"] not in ("asc", "desc"):
        return 18002, "OrderType must be asc or desc"
    purpose = params.get("Purpose", "")
    if purpose and purpose not in ("1", "2", "3"):
        return 18002, "Purpose must be 1, 2 or 3"
    countries = params.get("BrevityCode", "")
    return {
        "domestic": params["Domestic"] == "1",
        "start": params["StartDate"],
        "end": params["EndDate"],
        "page": int(params["Page"]),
        "per_page": int(params["NumPerPage"]),
        "order_by": params["OrderBy"],
        "descending": params["OrderType"] == "desc",
        "purpose": int(purpose) if purpose else None,
        "countries": set(countries.upper().split("-")) if countries else None,
        "template_id": params.get("TemplateId") or None,
    }


_FIELDS = (
    "Count",
    "CostCount",
    "SuccessCount",
    "SuccessCostCount",
    "FailedCount",
    "FailedCostCount",
    "UnknownCount",
    "UnknownCostCount",
    "SubmitFailedCount",
    "SubmitFailedCostCount",
)


def _rows(backend: Backend, question: Mapping[str, Any], per_template: bool) -> list[Any]:
    """One row per (day, country[, template]) of the sessions that match the question."""
    now = time.monotonic()
    with backend.lock:
        sessions = list(backend.sessions.values())
    templates = backend.config.templates
    rows: dict[tuple[str, ...], dict[str, Any]] = {}
    for session in sessions:
        day = datetime.datetime.fromtimestamp(session.sent_time, CHINA).date().isoformat()
        if not question["start"] <= day <= question["end"]:
            continue
        final = now - session.sent_monotonic >= backend.config.receipt_delay
        for message, (kind, _, _) in zip(session.messages, session.outcomes, strict=True):
            parts = phone_parts(message["phone"])
            domestic = is_domestic(parts)
            country = brevity_code(parts)
            template_id = message["template_id"]
            known = templates.get(template_id)
            if domestic != question["domestic"]:
                continue
            if question["countries"] is not None and country not in question["countries"]:
                continue
            if question["purpose"] is not None and (
                known is None or known.purpose != question["purpose"]
            ):
                continue
            if question["template_id"] is not None and template_id != question["template_id"]:
                continue
            key = (day, country, template_id) if per_template else (day, country)
            row = rows.setdefault(key, _new_row(day, country, template_id, per_template))
            cost = cost_count(message["text"], domestic=domestic)
            outcome = (
                {"ok": "Success", "fail": "Failed"}.get(kind, "Unknown") if final else "Unknown"
            )
            row["Count"] += 1
            row["CostCount"] += cost
            row[f"{outcome}Count"] += 1
            row[f"{outcome}CostCount"] += cost
    for row in rows.values():
        row["SuccessRate"] = round(100.0 * row["SuccessCount"] / row["Count"], 2)
    return list(rows.values())


def _new_row(day: str, country: str, template_id: str, per_template: bool) -> dict[str, Any]:
    row: dict[str, Any] = {"SendDate": day, "BrevityCode": country, "UserId": ""}
    row.update(dict.fromkeys(_FIELDS, 0))
    if per_template:
        row["TemplateId"] = template_id
    return row


def _totals(rows: list[dict[str, Any]]) -> dict[str, int]:
    names = {
        "SendCount": "Count",
        "SendCostCount": "CostCount",
        "SuccessCount": "SuccessCount",
        "SuccessCostCount": "SuccessCostCount",
        "FailCount": "FailedCount",
        "FailCostCount": "FailedCostCount",
        "UnknownCount": "UnknownCount",
        "UnknownCostCount": "UnknownCostCount",
        "SubmitFailCount": "SubmitFailedCount",
        "SubmitFailCostCount": "SubmitFailedCostCount",
    }
    return {total: sum(row[field] for row in rows) for total, field in names.items()}


def _statistics(
    backend: Backend, params: Mapping[str, str], reply: Reply, per_template: bool
) -> dict[str, Any]:
    question = _query(params)
    if isinstance(question, tuple):
        return reply(*question)
    rows = _rows(backend, question, per_template)
    sort_key = question["order_by"]
    rows.sort(
        key=lambda r: (r[sort_key], r["SendDate"], r["BrevityCode"], r.get("TemplateId", "")),
        reverse=question["descending"],
    )
    first = question["page"] * question["per_page"]
    page = rows[first : first + question["per_page"]]
    return reply(0, "Success", Total=len(rows), StatisticsData=_totals(rows), Data=page)


def send_statistics(backend: Backend, params: Mapping[str, str], reply: Reply) -> dict[str, Any]:
    return _statistics(backend, params, reply, per_template=False)


def template_statistics(
    backend: Backend, params: Mapping[str, str], reply: Reply
) -> dict[str, Any]:
    return _statistics(backend, params, reply, per_template=True)


# --------------------------------------------------------------------------------------------
# GetUSMSSendReceipt


def _receipt(item: Mapping[str, Any], outcome: Outcome, words: Mapping[str, str], at: int) -> Any:
    kind, code, description = outcome
    return {
        "Phone": item["phone"],
        "CostCount": cost_count(item["text"], domestic=is_domestic(phone_parts(item["phone"]))),
        "ReceiptResult": words[kind],
        "ReceiptCode": code,
        "ReceiptDesc": description,
        "ReceiptTime": at,
        "UserId": item["user_id"],
    }


def receipts(backend: Backend, params: Mapping[str, str], reply: Reply) -> dict[str, Any]:
    """GetUSMSSendReceipt: a session's receipts once ``receipt_delay`` has passed, in the
    words of ``receipt_language`` (Success/Fail/Unknow, or 发送成功/发送失败/状态未知)."""
    from usms_cli.sandbox.backend import RECEIPT_WORDS

    session_nos = indexed(params, "SessionNoSet")
    if not session_nos:
        return reply(18001, "Missing parameter: SessionNoSet.N")
    if len(session_nos) > MAX_SESSION_NOS:
        return reply(
            18002,
            f"Too many SessionNos: {len(session_nos)} (at most {MAX_SESSION_NOS} per request)",
        )
    delay = backend.config.receipt_delay
    words = RECEIPT_WORDS[backend.config.receipt_language]
    now = time.monotonic()
    data: list[dict[str, Any]] = []
    for session_no in dict.fromkeys(session_nos):
        with backend.lock:
            session = backend.sessions.get(session_no)
        receipt_set: list[dict[str, Any]] = []
        if session is not None and now - session.sent_monotonic >= delay:
            at = int(session.sent_time + delay)
            receipt_set = [
                _receipt(item, outcome, words, at)
                for item, outcome in zip(session.messages, session.outcomes, strict=True)
            ]
        data.append({"SessionNo": session_no, "ReceiptSet": receipt_set})
    return reply(0, "Success", Data=data)
