"""Templates and signatures as USMS describes them: review status and purpose in words."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from usms_cli.core.codes import APPROVED, PURPOSE_WORDS, STATUS_WORDS, as_int
from usms_cli.i18n import N_, tr


def describe_lookup(kind: str, data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Label/value pairs for a template or signature answer, with codes in words: English,
    as a script reads them (-q, JSON); a person's view shows ``tr(label)`` and the status in
    words with ``tr(value)`` (labels, statuses and purposes are marked with ``N_``)."""
    status = as_int(data.get("Status"))
    status_text = (
        STATUS_WORDS.get(status, f"unknown ({data.get('Status')})")  # shown_lookup: tr()
        if status is not None
        else N_("unknown")
    )
    if kind == "template":
        purpose = as_int(data.get("Purpose"))
        rows = [
            (N_("Template"), str(data.get("TemplateId") or "")),
            (N_("Name"), str(data.get("TemplateName") or "")),
            (N_("Content"), str(data.get("Template") or "")),
            (
                N_("Purpose"),
                PURPOSE_WORDS.get(purpose, str(data.get("Purpose") or ""))
                if purpose is not None
                else "",
            ),
            (N_("Status"), status_text),
        ]
    else:
        rows = [
            (N_("Signature"), str(data.get("SigContent") or "")),
            (N_("Id"), str(data.get("SigId") or "")),
            (N_("Status"), status_text),
        ]
    reason = str(data.get("ErrDesc") or "")
    if reason:
        rows.append((N_("Reason"), reason))
    return rows


def shown_lookup(kind: str, data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """:func:`describe_lookup` for a person: labels, status and purpose in this run's language
    (the ids, names, text and the review's reason as USMS has them)."""
    words = {N_("Status"), N_("Purpose")}
    status = as_int(data.get("Status"))
    rows = []
    for label, value in describe_lookup(kind, data):
        if label == "Status" and status is not None and status not in STATUS_WORDS:
            value = tr("unknown ({status})", status=data.get("Status"))
        elif label in words:
            value = tr(value) if value else value
        rows.append((tr(label), value))
    return rows


def approved(data: Mapping[str, Any]) -> bool:
    return as_int(data.get("Status")) == APPROVED
