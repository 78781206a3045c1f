"""The blacklist (BatchCreateUSMSBlacklistPhone): the purposes, the BlackList parameter (base64
of a JSON array, at most 1000 numbers per request), and a tolerant reading of the answer that
matches the numbers it names back to the numbers sent. Pure."""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from usms_cli.core.errors import InputError
from usms_cli.i18n import tr

MAX_PER_REQUEST = 1000
MAX_REMARK = 256
PURPOSES: Mapping[str, int] = {"all": 0, "code": 1, "notice": 2, "marketing": 3}

_NOT_DIGIT = re.compile(r"[^0-9]")


def parse_purpose(value: str) -> int:
    text = value.strip().lower()
    if text in PURPOSES:
        return PURPOSES[text]
    raise InputError(
        tr(
            "{flag} must be one of {choices}, got {value!r}",
            flag="--purpose",
            choices=", ".join(PURPOSES),
            value=value,
        )
    )


def check_remark(remark: str | None) -> None:
    if remark is not None and len(remark) > MAX_REMARK:
        raise InputError(
            tr(
                "--remark is {length} characters; at most {limit} allowed",
                length=len(remark),
                limit=MAX_REMARK,
            )
        )


def build_request(
    numbers: Sequence[str],
    purpose: int,
    remark: str | None,
    is_global: bool,
    project_id: str | None,
) -> dict[str, Any]:
    """One request for up to 1000 numbers (wire form: ``138…`` or ``(cc)…``)."""
    if len(numbers) > MAX_PER_REQUEST:
        raise ValueError(f"at most {MAX_PER_REQUEST} numbers per request")
    entries: list[dict[str, Any]] = []
    for number in numbers:
        entry: dict[str, Any] = {"Phone": number, "Purpose": purpose}
        if remark:
            entry["Remark"] = remark
        entries.append(entry)
    document = json.dumps(entries, ensure_ascii=False, separators=(",", ":"))
    params: dict[str, Any] = {"Action": "BatchCreateUSMSBlacklistPhone"}
    if project_id:
        params["ProjectId"] = project_id
    params["IsGlobal"] = is_global
    params["BlackList"] = base64.b64encode(document.encode("utf-8")).decode("ascii")
    return params


def _digits(number: str) -> str:
    """The national digits, so that ``(86)138…``, ``86138…`` and ``+86 138…`` meet ``138…``."""
    digits = _NOT_DIGIT.sub("", number)
    if len(digits) == 13 and digits.startswith("86"):
        return digits[2:]
    return digits


@dataclass
class BlacklistOutcome:
    """What one accepted request says about its numbers (in the order they were sent)."""

    added: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    unconfirmed: list[str] = field(default_factory=list)  # named in neither list


def _phones(value: Any) -> list[str]:
    if not isinstance(value, list):
        return []
    found: list[str] = []
    for item in value:
        if isinstance(item, Mapping):
            item = item.get("Phone")
        if isinstance(item, str | int) and not isinstance(item, bool):
            found.append(str(item))
    return found


def read_answer(body: Any, sent: Sequence[str]) -> BlacklistOutcome:
    """Sort ``sent`` by the answer's SuccessList and FailedList (strings, or objects with a
    Phone); numbers in neither are unconfirmed. Any JSON is accepted; nothing raises."""
    outcome = BlacklistOutcome()
    body = body if isinstance(body, Mapping) else {}
    added = {_digits(p) for p in _phones(body.get("SuccessList"))}
    failed = {_digits(p) for p in _phones(body.get("FailedList"))}
    for number in sent:
        key = _digits(number)
        if key in failed:
            outcome.failed.append(number)
        elif key in added:
            outcome.added.append(number)
        else:
            outcome.unconfirmed.append(number)
    return outcome
