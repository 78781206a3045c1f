"""What one HTTP answer means: the classified ApiResult (with whether it may be retried), and
how -v shows a request and an answer. No sockets here: the client reads, this module judges."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from usms_cli.core.api import redact
from usms_cli.core.codes import THROTTLED_RETCODE
from usms_cli.core.privacy import mask_answer, mask_digits
from usms_cli.core.results import ApiResult, Status
from usms_cli.core.text import printable
from usms_cli.engine.phrases import Phrase
from usms_cli.i18n import N_

if TYPE_CHECKING:
    import requests


def retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError):
            return None
    return max(0.0, seconds)


def judge(
    response: requests.Response, raw: bytes | None, request_id: str | None, *, idempotent: bool
) -> tuple[ApiResult, float | None, bool]:
    """What an answer that was read whole means: (result, Retry-After, may retry)."""
    status = response.status_code

    def made(
        kind: Status,
        ret_code: int | None = None,
        message: str | None = None,
        body: dict[str, Any] | None = None,
        error: Phrase | None = None,
    ) -> ApiResult:
        return ApiResult(
            kind,
            ret_code,
            message,
            body,
            request_id=request_id,
            http_status=status,
            error=error,
        )

    if status == 429:
        result = made("not_sent", error=Phrase(N_("throttled by the API (HTTP 429)")))
        result.throttled = True
        return result, retry_after(response.headers.get("Retry-After")), True
    if 300 <= status < 400:
        where = printable(response.headers.get("Location", "?"), 200)
        error = Phrase(
            N_("the API answered with a redirect (HTTP {status} to {where}); not followed"),
            status=status,
            where=where,
        )
        return made("unknown", error=error), None, False
    if raw is None:
        return (
            made("unknown", error=Phrase(N_("the answer was larger than 4 MiB"))),
            None,
            idempotent,
        )
    body = parse_body(raw)
    if body is None:
        if not raw.strip():
            error = Phrase(N_("HTTP {status} with an empty answer"), status=status)
        else:
            error = Phrase(N_("HTTP {status} with an answer that is not USMS JSON"), status=status)
        return made("unknown", error=error), None, idempotent
    ret_code = retcode_of(body.get("RetCode"))
    text = body.get("Message")
    message = text if isinstance(text, str) else None
    if ret_code is None:
        error = Phrase(N_("HTTP {status}: answer without a RetCode"), status=status)
        return made("unknown", body=body, error=error), None, idempotent
    if ret_code == 0:
        if 200 <= status < 300:
            return made("accepted", ret_code, message, body), None, False
        error = Phrase(N_("HTTP {status} with RetCode 0: contradictory answer"), status=status)
        return made("unknown", ret_code, message, body, error=error), None, idempotent
    if ret_code == THROTTLED_RETCODE:
        result = made(
            "not_sent", ret_code, message, body, error=Phrase(N_("throttled (RetCode 153)"))
        )
        result.throttled = True
        return result, retry_after(response.headers.get("Retry-After")), True
    return made("rejected", ret_code, message, body), None, False


def form_lines(form: Mapping[str, str], mask_pii: bool) -> list[str]:
    """The form as -v shows it: one line per field, but the PhoneNumbers.N fields summed up
    in one line (count, first, last) instead of a line per number."""
    from usms_cli.core.privacy import mask_phone

    shown = redact(dict(form), mask_pii=False)
    phones = [value for key, value in shown.items() if key.startswith("PhoneNumbers.")]
    lines = []
    for key, value in redact(dict(form), mask_pii=mask_pii).items():
        if key.startswith("PhoneNumbers."):
            continue
        lines.append(f">   {key}={value}")
    if phones:
        first, last = (mask_phone(p) if mask_pii else p for p in (phones[0], phones[-1]))
        span = first if len(phones) == 1 else f"{first} … {last}"
        lines.insert(0, f">   PhoneNumbers: {len(phones):,} ({span})")
    return lines


def masked_preview(text: str) -> str:
    """An answer as the -v log shows it: phone numbers and params masked."""
    try:
        document = json.loads(text)
    except ValueError:
        return mask_digits(text)
    return json.dumps(mask_answer(document), ensure_ascii=False)


def parse_body(raw: bytes) -> dict[str, Any] | None:
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    return body if isinstance(body, dict) else None


def retcode_of(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None
