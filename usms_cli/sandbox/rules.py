"""The API's rules as the sandbox re-implements them, pure: indexed parameters, phone numbers,
template variables, length and billing, batch task and target checks."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from usms_cli.sandbox.config import STATUS_APPROVED, Template

MAX_PHONE_NUMBERS = 1000
MAX_BATCH_TARGETS = 200
MAX_SESSION_NOS = 100
MAX_USER_ID_CHARS = 32

_INDEX = re.compile(r"[0-9]{1,9}")
_VARIABLE = re.compile(r"\{([0-9]{1,9})\}")
_MAINLAND = re.compile(r"1[0-9]{10}")
_PHONE = re.compile(r"(?:0086|86)?(1[0-9]{10})|\(([0-9]{1,4})\)([0-9]{4,14})")
DIGITS = re.compile(r"[0-9]+")

# GSM 03.38: the default alphabet in code order, 32 to a row (0x1B is the escape into the
# extension table, not a character), then the extension table, two septets each.
_GSM_DEFAULT = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ"
    " !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENSION = frozenset("\f^{}\\[~]|€")


def indexed(params: Mapping[str, str], name: str) -> list[str]:
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


def variables(text: str) -> list[int]:
    """The distinct ``{N}`` variable numbers of a template, ascending."""
    return sorted({int(number) for number in _VARIABLE.findall(text)})


def render(text: str, params: list[str]) -> str:
    slots = dict(zip(variables(text), params, strict=False))
    return _VARIABLE.sub(lambda match: slots.get(int(match.group(1)), match.group(0)), text)


def phone_parts(phone: str) -> tuple[str, str] | None:
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


def is_domestic(parts: tuple[str, str] | None) -> bool:
    """A mainland China number: signed ``【Sig】`` and always billed 70/67."""
    return parts is not None and parts[0] == "86"


def canonical_phone(phone: str) -> str:
    parts = phone_parts(phone)
    return phone if parts is None else f"({parts[0]}){parts[1]}"


def new_message(
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
    prefix = f"【{sig_content}】" if is_domestic(parts) else f"[{sig_content}]"
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


def cost_count(text: str, *, domestic: bool) -> int:
    """Billed SMS (the receipts' CostCount) for ``text`` as sent, signature included.

    Every character counts 1, and one SMS holds 70, then 67 per SMS; an international
    message in the GSM 7-bit alphabet (the API docs' "pure English") holds 160 septets, then
    153 per SMS, an extension character taking two (escape + character).
    """
    if not domestic:
        septets = _septets(text)
        if septets is not None:
            return 1 if septets <= 160 else math.ceil(septets / 153)
    return 1 if len(text) <= 70 else math.ceil(len(text) / 67)


def _septets(text: str) -> int | None:
    """GSM 7-bit septets of ``text``, or None when it needs UCS-2."""
    septets = 0
    for char in text:
        if char in _GSM_DEFAULT:
            septets += 1
        elif char in _GSM_EXTENSION:
            septets += 2
        else:
            return None
    return septets


def tasks_problem(tasks: Any) -> tuple[int, str] | None:
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


def template_problem(template: Template | None, template_id: str) -> str | None:
    """Why the API refuses this template (RetCode 18017), or None."""
    if template is None:
        return f"Template {template_id} does not exist"
    if template.status != STATUS_APPROVED:
        return f"Template {template_id} is not approved (status {template.status})"
    return None


def target_problem(
    target: Mapping[str, Any], parts: tuple[str, str] | None, template: Template | None
) -> str | None:
    """Why the API refuses one target of a batch, or None."""
    if parts is None:
        return "invalid phone number"
    values = target.get("TemplateParams")
    count = 0 if template is None else len(variables(template.text))
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
    if not isinstance(extend_code, str) or (extend_code and not DIGITS.fullmatch(extend_code)):
        return "ExtendCode must contain digits only"
    return None


def failure(target: Mapping[str, Any], reason: str) -> dict[str, Any]:
    """A refused target as FailContent lists it (FailPhoneDetail)."""
    return {
        "Phone": target.get("Phone", ""),
        "TemplateParams": target.get("TemplateParams") or [],
        "ExtendCode": target.get("ExtendCode", ""),
        "UserId": target.get("UserId", ""),
        "FailureDetails": reason,
    }


# --------------------------------------------------------------------------------------------
# Templates and signatures as the API and its reviewers judge them

MAX_TEMPLATE_CHARS = 500
MAX_UPDATED_TEMPLATE_CHARS = 600
MAX_TEMPLATE_NAME = 32
MAX_TEMPLATE_REMARK = 128
MAX_FILE_BYTES = 4 * 1024 * 1024
SIG_TYPES = range(6)
SIG_PURPOSES = (0, 1)
RETIRED_SIG_TYPES = {1: "app", 2: "website", 3: "official account or mini-program"}


def template_fields_problem(
    name: str | None, text: str | None, remark: str, limit: int
) -> tuple[int, str] | None:
    """``(RetCode, message)`` when Create/UpdateUSMSTemplate's fields are refused outright."""
    if text is not None and not text:
        return 18001, "Missing parameter: Template"
    if text is not None and len(text) > limit:
        return 18002, f"Template is longer than {limit} characters"
    if name is not None and not name:
        return 18001, "Missing parameter: TemplateName"
    if name is not None and len(name) > MAX_TEMPLATE_NAME:
        return 18002, f"TemplateName is longer than {MAX_TEMPLATE_NAME} characters"
    if len(remark) > MAX_TEMPLATE_REMARK:
        return 18002, f"Remark is longer than {MAX_TEMPLATE_REMARK} characters"
    return None


def template_verdict(text: str, purpose: int, international: bool, unsubscribe: str) -> str:
    """Why the review rejects a template (its ErrDesc), or "" when it approves it."""
    if _VARIABLE.search(text) and not any(ch.isalnum() for ch in _VARIABLE.sub("", text)):
        return "模板不能仅包含变量 (a template may not consist of variables only)"
    if purpose == 3 and not international and not unsubscribe.strip():
        return "营销短信需包含退订方式，如【拒收请回复R】 (marketing needs an opt-out)"
    numbers = variables(text)
    if numbers and numbers != list(range(1, len(numbers) + 1)):
        return "变量需从{1}开始连续编号 (variables must be {1}, {2}, … without gaps)"
    return ""


def signature_fields_problem(content: str) -> tuple[int, str] | None:
    if not content:
        return 18001, "Missing parameter: SigContent"
    if not 2 <= len(content) <= 12:
        return 18002, "SigContent must be 2 to 12 characters"
    if any(ch in content for ch in "【】[]"):
        return 18002, "SigContent is written without 【】 or []"
    return None


def file_problem(value: str, name: str) -> tuple[int, str] | None:
    """A File/ProxyFile: base64 (optionally after ``type;base64,``) of at most 4 MB."""
    import base64
    import binascii

    encoded = value.split(",", 1)[1] if ";base64," in value[:100] else value
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return 18002, f"{name} is not base64"
    if len(data) > MAX_FILE_BYTES:
        return 18002, f"{name} is larger than 4 MB"
    return None


def signature_verdict(sig_type: int, purpose: int, has_proxy_file: bool) -> str:
    if sig_type in RETIRED_SIG_TYPES:
        return (
            f"自2026-05-01起不再受理{RETIRED_SIG_TYPES[sig_type]}类签名 "
            "(this signature type is no longer accepted)"
        )
    if purpose == 1 and not has_proxy_file:
        return "他用签名需提供授权委托书 (ProxyFile) (a third-party signature needs a ProxyFile)"
    return ""


# --------------------------------------------------------------------------------------------
# Statistics

_BREVITY = {
    "86": "CN",
    "1": "US",
    "7": "RU",
    "33": "FR",
    "44": "GB",
    "49": "DE",
    "55": "BR",
    "60": "MY",
    "61": "AU",
    "62": "ID",
    "63": "PH",
    "65": "SG",
    "66": "TH",
    "81": "JP",
    "82": "KR",
    "84": "VN",
    "91": "IN",
    "852": "HK",
    "853": "MO",
    "886": "TW",
}


def brevity_code(parts: tuple[str, str] | None) -> str:
    """The country of a number as statistics name it (``CN``; ``+cc`` when not in the table)."""
    if parts is None:
        return "??"
    return _BREVITY.get(parts[0], f"+{parts[0]}")


def blocked_word(values: list[str], words: set[str]) -> str | None:
    """The first blocked word found in ``values``, or None."""
    for word in words:
        if any(word in value for value in values):
            return word
    return None
