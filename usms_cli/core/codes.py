"""What USMS numbers mean, in one place: RetCodes (which stop a batch, which are throttling,
which are a partial acceptance), hints, review statuses and template purposes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# RetCodes that will fail every remaining request the same way: stop instead of repeating them.
STOP_BATCH = frozenset(
    {
        160,
        161,
        170,
        171,
        172,
        173,
        174,
        290,
        291,
        292,
        293,
        294,
        295,
        299,
        18013,
        18016,
        18017,
        18018,
    }
)


HINTS: dict[int, str] = {
    153: "the API is throttling requests; wait a little and send again",
    170: "the request had no Signature: this is a bug in usms-cli, please report it",
    171: "check UCLOUD_PRIVATE_KEY: it must be the private key that belongs to UCLOUD_PUBLIC_KEY",
    172: "check UCLOUD_PUBLIC_KEY: the API does not know this key",
    173: "the UCloud account is restricted; see the console",
    292: "check --project-id / UCLOUD_PROJECT_ID",
    290: "check --project-id / UCLOUD_PROJECT_ID: the key has no access to that project",
    294: "this machine's IP address is not on the API key's allow-list",
    299: "the key lacks permission for USMS (IAM)",
    18013: "the account or project has no SMS balance left",
    18014: "some numbers were refused as invalid",
    18016: "check -s/--sig-content: it must be an approved signature, written without 【】",
    18017: "check -t/--template-id: the template must exist and be approved",
    18018: "give one -p/--param per variable {1}, {2}, … of the template, in order",
    18019: "more than 1000 numbers in one request: this is a bug in usms-cli, please report it",
    18023: "a parameter contains a keyword the carriers block",
    18033: "a parameter value breaks the template variable rules (length or characters)",
}


THROTTLED_RETCODE = 153


PARTIAL_RETCODE = 18046


STATUS_WORDS = {
    0: "pending review",
    1: "under review",
    2: "approved",
    3: "rejected",
    4: "disabled",
}


PURPOSE_WORDS = {1: "verification code", 2: "notification", 3: "marketing"}


def as_int(value: Any) -> int | None:
    """``value`` as an int, or None (JSON may hold Infinity, which int() cannot take)."""
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return None


APPROVED = 2  # the Status of an approved template or signature
MARKETING = 3  # the Purpose of a marketing template (08:00-20:00 China time only)


# What `usms config check` says when the API refuses its read-only call: (what, hint). The
# hints name where each setting came from ({public}, {private}, {project}).
_PROJECT_WRONG = (
    "The keys work, but the project is wrong or not accessible",
    "check the project id (from {project})",
)
_NO_USMS = (
    "The keys have no permission to use USMS",
    "grant the key's user USMS access (IAM) in the console",
)
CREDENTIAL_REFUSALS: Mapping[int, tuple[str, str]] = {
    171: (
        "The private key does not match the public key",
        "check the private key (from {private}): it must be the one that belongs to the "
        "public key (from {public})",
    ),
    172: (
        "The public key is not known to UCloud",
        "check the public key (from {public}); copy both keys again from the console (API keys)",
    ),
    173: ("The UCloud account is restricted", "see the UCloud console"),
    290: _PROJECT_WRONG,
    291: _NO_USMS,
    292: _PROJECT_WRONG,
    294: (
        "This machine's IP address is not allowed to use these keys",
        "add it to the API key's IP allow-list in the console",
    ),
    299: _NO_USMS,
}


PULL_NOT_ENABLED_HINT = (
    "PullUSMSReport is off unless UCloud support enables it for the account: ask them to, or "
    "have the reports pushed to you instead (usms listen)"
)
"""The hint for a refused PullUSMSReport (the RetCode for "not enabled" is not documented,
so it is given for every refusal that has no more specific hint)."""


# Where a RetCode's hint must name something else than a send's -t/-s/-p (issue 13 #10): a
# hint names what the user can change in the command they ran.
CONTEXT_HINTS: Mapping[str, Mapping[int, str]] = {
    "csv": {
        18016: "check -s/--sig-content (or the CSV's signature): it must be an approved "
        "signature, written without 【】",
        18018: "give one CSV column per variable {1}, {2}, … of the template "
        "(--param-columns A,B names them, in order)",
    },
    "template": {
        18017: "no such template in this project: check the id (and --project-id) in the "
        "console's template list",
    },
    "pull": {161: PULL_NOT_ENABLED_HINT, 299: PULL_NOT_ENABLED_HINT},
    "signature": {
        18016: "no such signature in this project: check the text (without 【】) or the --id "
        "in the console's signature list",
    },
}


def hint_for(ret_code: int | None, context: str = "send") -> str | None:
    """The hint for a refusal with ``ret_code`` in ``context`` (send, csv, template,
    signature, receipt)."""
    if ret_code is None:
        return None
    specific = CONTEXT_HINTS.get(context, {})
    found = specific.get(ret_code) or HINTS.get(ret_code)
    return PULL_NOT_ENABLED_HINT if found is None and context == "pull" else found
