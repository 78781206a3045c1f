"""What USMS numbers mean, in one place: RetCodes (which stop a batch, which are throttling,
which are a partial acceptance), hints, review statuses and template purposes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from usms_cli.core.text import Translated
from usms_cli.i18n import N_, tr

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


# What to do about a refusal, by RetCode: read in this run's language (``HINTS.english`` as
# written); ``hint_for`` also knows the hints that depend on the command.
HINTS: Mapping[int, str] = Translated(
    {
        153: N_("the API is throttling requests; wait a little and send again"),
        170: N_("the request had no Signature: this is a bug in usms-cli, please report it"),
        171: N_(
            "check UCLOUD_PRIVATE_KEY: it must be the private key that belongs to UCLOUD_PUBLIC_KEY"
        ),
        172: N_("check UCLOUD_PUBLIC_KEY: the API does not know this key"),
        173: N_("the UCloud account is restricted; see the console"),
        292: N_("check --project-id / UCLOUD_PROJECT_ID"),
        290: N_("check --project-id / UCLOUD_PROJECT_ID: the key has no access to that project"),
        294: N_("this machine's IP address is not on the API key's allow-list"),
        299: N_("the key lacks permission for USMS (IAM)"),
        18013: N_("the account or project has no SMS balance left"),
        18014: N_("some numbers were refused as invalid"),
        18016: N_("check -s/--sig-content: it must be an approved signature, written without 【】"),
        18017: N_("check -t/--template-id: the template must exist and be approved"),
        18018: N_("give one -p/--param per variable {1}, {2}, … of the template, in order"),
        18019: N_(
            "more than 1000 numbers in one request: this is a bug in usms-cli, please report it"
        ),
        18023: N_("a parameter contains a keyword the carriers block"),
        18033: N_("a parameter value breaks the template variable rules (length or characters)"),
    }
)


THROTTLED_RETCODE = 153


PARTIAL_RETCODE = 18046


# Review statuses and template purposes in words. Also what a script reads (JSON, -q, the
# apply file's status) and compared by code: English here; ``status_text``/``purpose_text``
# give them in this run's language for a person.
STATUS_WORDS = {
    0: N_("pending review"),
    1: N_("under review"),
    2: N_("approved"),
    3: N_("rejected"),
    4: N_("disabled"),
}


PURPOSE_WORDS = {1: N_("verification code"), 2: N_("notification"), 3: N_("marketing")}


def status_text(status: int | None, default: str = N_("unknown")) -> str:
    """A review status in words for a person (``default`` when it is not known)."""
    return tr(STATUS_WORDS.get(status, default) if status is not None else default)


def purpose_text(purpose: int | None) -> str:
    """A template purpose in words for a person ("" when it is not known)."""
    word = PURPOSE_WORDS.get(purpose) if purpose is not None else None
    return tr(word) if word else ""


def as_int(value: Any) -> int | None:
    """``value`` as an int, or None (JSON may hold Infinity, which int() cannot take)."""
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return None


APPROVED = 2  # the Status of an approved template or signature
MARKETING = 3  # the Purpose of a marketing template (08:00-20:00 China time only)


# What `usms config check` says when the API refuses its read-only call: (what, hint), read
# in this run's language. The hints name where each setting came from ({public}, {private},
# {project}).
_PROJECT_WRONG = (
    N_("The keys work, but the project is wrong or not accessible"),
    N_("check the project id (from {project})"),
)
_NO_USMS = (
    N_("The keys have no permission to use USMS"),
    N_("grant the key's user USMS access (IAM) in the console"),
)
CREDENTIAL_REFUSALS: Mapping[int, tuple[str, str]] = Translated(
    {
        171: (
            N_("The private key does not match the public key"),
            N_(
                "check the private key (from {private}): it must be the one that belongs to "
                "the public key (from {public})"
            ),
        ),
        172: (
            N_("The public key is not known to UCloud"),
            N_(
                "check the public key (from {public}); copy both keys again from the console "
                "(API keys)"
            ),
        ),
        173: (N_("The UCloud account is restricted"), N_("see the UCloud console")),
        290: _PROJECT_WRONG,
        291: _NO_USMS,
        292: _PROJECT_WRONG,
        294: (
            N_("This machine's IP address is not allowed to use these keys"),
            N_("add it to the API key's IP allow-list in the console"),
        ),
        299: _NO_USMS,
    }
)


PULL_NOT_ENABLED_HINT = N_(
    "PullUSMSReport is off unless UCloud support enables it for the account: ask them to, or "
    "have the reports pushed to you instead (usms listen)"
)
"""The hint for a refused PullUSMSReport (the RetCode for "not enabled" is not documented,
so it is given for every refusal that has no more specific hint)."""


# Where a RetCode's hint must name something else than a send's -t/-s/-p (issue 13 #10): a
# hint names what the user can change in the command they ran.
CONTEXT_HINTS: Mapping[str, Mapping[int, str]] = {
    "csv": Translated(
        {
            18016: N_(
                "check -s/--sig-content (or the CSV's signature): it must be an approved "
                "signature, written without 【】"
            ),
            18018: N_(
                "give one CSV column per variable {1}, {2}, … of the template "
                "(--param-columns A,B names them, in order)"
            ),
        }
    ),
    "template": Translated(
        {
            18017: N_(
                "no such template in this project: check the id (and --project-id) in the "
                "console's template list"
            ),
        }
    ),
    "pull": Translated({161: PULL_NOT_ENABLED_HINT, 299: PULL_NOT_ENABLED_HINT}),
    "signature": Translated(
        {
            18016: N_(
                "no such signature in this project: check the text (without 【】) or the --id "
                "in the console's signature list"
            ),
        }
    ),
}


def hint_for(ret_code: int | None, context: str = "send") -> str | None:
    """The hint for a refusal with ``ret_code`` in ``context`` (send, csv, template,
    signature, receipt), in this run's language."""
    if ret_code is None:
        return None
    specific = CONTEXT_HINTS.get(context, {})
    found = specific.get(ret_code) or HINTS.get(ret_code)
    return tr(PULL_NOT_ENABLED_HINT) if found is None and context == "pull" else found
