"""Templates and signatures as USMS describes them: review status and purpose in words."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from usms_cli.core.codes import APPROVED, PURPOSE_WORDS, STATUS_WORDS, as_int


def describe_lookup(kind: str, data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Label/value pairs for a template or signature answer, with codes in words."""
    status = as_int(data.get("Status"))
    status_text = (
        STATUS_WORDS.get(status, f"unknown ({data.get('Status')})")
        if status is not None
        else "unknown"
    )
    if kind == "template":
        purpose = as_int(data.get("Purpose"))
        rows = [
            ("Template", str(data.get("TemplateId") or "")),
            ("Name", str(data.get("TemplateName") or "")),
            ("Content", str(data.get("Template") or "")),
            (
                "Purpose",
                PURPOSE_WORDS.get(purpose, str(data.get("Purpose") or ""))
                if purpose is not None
                else "",
            ),
            ("Status", status_text),
        ]
    else:
        rows = [
            ("Signature", str(data.get("SigContent") or "")),
            ("Id", str(data.get("SigId") or "")),
            ("Status", status_text),
        ]
    reason = str(data.get("ErrDesc") or "")
    if reason:
        rows.append(("Reason", reason))
    return rows


def approved(data: Mapping[str, Any]) -> bool:
    return as_int(data.get("Status")) == APPROVED
