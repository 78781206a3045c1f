"""Words that are data in ``--json`` (status words, kinds, labels) and are translated only
where a person reads them: ``shown(WORDS, key)`` in the human renderers."""

from __future__ import annotations

from collections.abc import Mapping

from usms_cli.core.text import width
from usms_cli.i18n import N_, tr

# A request's or a number's outcome (report counts, history).
OUTCOMES = {
    "accepted": N_("accepted"),
    "rejected": N_("rejected"),
    "refused": N_("refused"),
    "unknown": N_("unknown"),
    "not_sent": N_("not sent"),
}

# A delivery receipt's result.
RECEIPTS = {
    "delivered": N_("delivered"),
    "failed": N_("failed"),
    "unknown": N_("unknown"),
    "pending": N_("pending"),
}

KINDS = {"template": N_("template"), "signature": N_("signature")}

# Labels of a template or signature look-up (core.review.describe_lookup) and its words.
LABELS = {
    "Template": N_("Template"),
    "Name": N_("Name"),
    "Content": N_("Content"),
    "Purpose": N_("Purpose"),
    "Status": N_("Status"),
    "Signature": N_("Signature"),
    "Id": N_("Id"),
    "Reason": N_("Reason"),
}
REVIEW = {
    "pending review": N_("pending review"),
    "under review": N_("under review"),
    "approved": N_("approved"),
    "rejected": N_("rejected"),
    "disabled": N_("disabled"),
    "verification code": N_("verification code"),
    "notification": N_("notification"),
    "marketing": N_("marketing"),
    "not reviewed": N_("not reviewed"),
}

# What `template apply` does with an entry.
ACTIONS = {
    name: name
    for name in (
        N_("not attempted"),
        N_("would create"),
        N_("create"),
        N_("created"),
        N_("not looked up"),
        N_("unchanged"),
        N_("differs"),
        N_("would update"),
        N_("updated"),
        N_("deleted"),
        N_("skipped"),
        N_("delete"),
        N_("would delete"),
    )
}


def shown(words: Mapping[str, str], key: str) -> str:
    """``key`` in this run's language when it is a known word; as it is otherwise."""
    return tr(words[key]) if key in words else key


# Notes `template apply` gives an entry (app.apply_run).
NOTES = {
    name: name
    for name in (
        N_("stopped"),
        N_("no credentials"),
        N_("marked delete = true; nothing to delete"),
        N_("marked delete = true; pass --prune to delete it"),
    )
}


def field(label: str, value: str, column: int = 11) -> str:
    """``label`` padded to ``column`` display columns (at least one space), then ``value``."""
    return label + " " * max(1, column - width(label)) + value
