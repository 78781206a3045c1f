"""Building USMS requests: pure functions, no I/O.

``build_send`` turns one chunk of recipients plus the message settings into the exact
parameters of a SendUSMSMessage call; ``signing.signed_params`` then adds PublicKey and Signature.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from usms_cli.core.errors import InputError
from usms_cli.core.phones import is_international
from usms_cli.core.shapes import extend_code_problem, shown, user_id_problem
from usms_cli.core.text import LazyPattern
from usms_cli.i18n import tr

MAX_NUMBERS_PER_SEND = 1000
MAX_TARGETS_PER_BATCH = 200  # SendBatchUSMSMessage
MAX_SESSIONS_PER_RECEIPT = 100

T = TypeVar("T")


@dataclass(frozen=True)
class Message:
    """What is sent to every recipient: template, signature, params and optional tags."""

    template_id: str
    sig_content: str | None
    params: tuple[str, ...] = ()
    extend_code: str | None = None
    user_id: str | None = None
    project_id: str | None = None


def check_message(message: Message, numbers: Sequence[str]) -> None:
    """Raise :class:`InputError` for anything the API would refuse that we can tell up front."""
    if not message.template_id or not message.template_id.strip():
        raise InputError(tr("no template: give -t/--template-id or set USMS_TEMPLATE_ID"))
    if not message.sig_content and not all(is_international(n) for n in numbers):
        raise InputError(
            tr("no signature: mainland China numbers need -s/--sig-content (or USMS_SIG_CONTENT)")
        )
    if message.sig_content and ("【" in message.sig_content or "】" in message.sig_content):
        raise InputError(tr("the signature is given without 【】: the service adds them"))
    if message.extend_code is not None:
        problem = extend_code_problem(message.extend_code)
        if problem:
            # An extension code is not personal data: show it as typed (no digit masking).
            text = tr(
                "--extend-code {problem}; got {value}",
                problem=problem,
                value=shown(message.extend_code),
            )
            raise InputError(text, verbatim=True)
    if message.user_id is not None:
        problem = user_id_problem(message.user_id)
        if problem:
            raise InputError(f"--user-id {problem}")


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """Consecutive slices of at most ``size`` items, in order."""
    if size < 1:
        raise ValueError("size must be positive")
    for start in range(0, len(items), size):
        yield items[start : start + size]


def build_send(message: Message, numbers: Sequence[str]) -> dict[str, Any]:
    """Parameters of one SendUSMSMessage request (before PublicKey/Signature)."""
    params: dict[str, Any] = {"Action": "SendUSMSMessage"}
    if message.project_id:
        params["ProjectId"] = message.project_id
    params["PhoneNumbers"] = list(numbers)
    if message.sig_content:
        params["SigContent"] = message.sig_content
    params["TemplateId"] = message.template_id
    if message.params:
        params["TemplateParams"] = list(message.params)
    if message.extend_code:
        params["ExtendCode"] = message.extend_code
    if message.user_id:
        params["UserId"] = message.user_id
    return params


def build_receipt_query(session_nos: Sequence[str], project_id: str | None) -> dict[str, Any]:
    params: dict[str, Any] = {"Action": "GetUSMSSendReceipt"}
    if project_id:
        params["ProjectId"] = project_id
    params["SessionNoSet"] = list(session_nos)
    return params


PULL_LIMIT = 200  # PullUSMSReport: reports per call, at most (default 100)


def build_pull_query(project_id: str | None, limit: int = PULL_LIMIT) -> dict[str, Any]:
    """PullUSMSReport: up to ``limit`` status reports, each returned once (then deleted)."""
    params: dict[str, Any] = {"Action": "PullUSMSReport"}
    if project_id:
        params["ProjectId"] = project_id
    params["Limit"] = limit
    return params


def build_template_query(template_id: str, project_id: str | None) -> dict[str, Any]:
    params: dict[str, Any] = {"Action": "QueryUSMSTemplate"}
    if project_id:
        params["ProjectId"] = project_id
    params["TemplateId"] = template_id
    return params


def build_signature_query(
    sig_content: str | None, sig_id: str | None, project_id: str | None
) -> dict[str, Any]:
    params: dict[str, Any] = {"Action": "QueryUSMSSignature"}
    if project_id:
        params["ProjectId"] = project_id
    if sig_id:
        params["SigId"] = sig_id
    if sig_content:
        params["SigContent"] = sig_content
    return params


_FORM_SAFE = LazyPattern(r"[A-Za-z0-9._~-]*")


def encode_form(flat: dict[str, str]) -> bytes:
    """``application/x-www-form-urlencoded`` body, UTF-8; same result as urlencode, but the
    common case (digits, ids) is copied without per-character quoting."""
    from urllib.parse import quote_plus

    safe = _FORM_SAFE.fullmatch
    parts = [
        f"{k if safe(k) else quote_plus(k)}={v if safe(v) else quote_plus(v)}"
        for k, v in flat.items()
    ]
    return "&".join(parts).encode("ascii")


REDACTED = "<redacted>"


def redact(flat: dict[str, str], *, mask_pii: bool = False) -> dict[str, str]:
    """A copy safe to print: Signature hidden, PublicKey shortened; with ``mask_pii`` the
    phone numbers masked, the template params replaced and a TaskContent withheld."""
    shown = dict(flat)
    if mask_pii:
        from usms_cli.core.privacy import MASKED_PARAM, mask_phone

        for key, value in shown.items():
            if key.startswith("PhoneNumbers."):
                shown[key] = mask_phone(value)
            elif key.startswith("TemplateParams."):
                shown[key] = MASKED_PARAM
            elif key in ("TaskContent", "BlackList"):
                shown[key] = f"<{len(value):,} characters of base64, masked; --show-pii shows it>"
    for key in ("File", "ProxyFile"):  # a qualification file: megabytes of base64
        if key in shown and len(shown[key]) > 64:
            shown[key] = f"<{len(shown[key]):,} characters of base64>"
    if "Signature" in shown:
        shown["Signature"] = REDACTED
    if "PublicKey" in shown:
        shown["PublicKey"] = mask_key(shown["PublicKey"])
    return shown


def mask_key(key: str) -> str:
    """Enough of a public key to recognise it, not enough to use it."""
    if len(key) <= 8:
        return "****"
    return f"{key[:4]}…{key[-4:]}"
