"""The documented shapes of settings and tags, which hosts may carry plain http, and how a
refused value may be repeated in a message: pure functions, no I/O.

Bounds (the API notes, /work/shared/usms-api.md): a signature is 2–12 characters (Part 2
§4.3); a UserId at most 32 characters without single quotes or emoji (§3.1); an ExtendCode is
digits (§3.1; at most 12 here); a TemplateId is an id like ``UTA1234`` (§3.1) and a ProjectId
one like ``org-test`` (§1.3). Ids and keys get generous length caps so that a 10 MB value from
a ``.env`` file is refused instead of sent. UCloud's VPC endpoint speaks only http (Part 3 §3.5).
"""

from __future__ import annotations

import ipaddress

from usms_cli.core.text import LazyPattern
from usms_cli.i18n import tr

ECHO_LIMIT = 40  # characters of a refused value that a message may repeat

SIG_MIN = 2
SIG_MAX = 12
MAX_USER_ID = 32
MAX_EXTEND_CODE = 12
MAX_TEMPLATE_ID = 64
MAX_PROJECT_ID = 64
MAX_KEY = 256
MAX_BASE_URL = 2048
MAX_PROFILE_NAME = 100

VPC_HOST = "api.service.ucloud.cn"  # http only, inside a UCloud VPC

_EXTEND_CODE = LazyPattern(rf"[0-9]{{1,{MAX_EXTEND_CODE}}}")
_TEMPLATE_ID = LazyPattern(rf"[A-Za-z0-9_-]{{1,{MAX_TEMPLATE_ID}}}")
_PROJECT_ID = LazyPattern(rf"org-[A-Za-z0-9_-]{{1,{MAX_PROJECT_ID - 4}}}")


def clip(text: str, limit: int = ECHO_LIMIT) -> str:
    """At most ``limit`` characters of ``text``, and "…" when something was cut."""
    return text if len(text) <= limit else text[:limit] + "…"


def shown(text: str) -> str:
    """A value as a message may quote it: cut short, quoted, control characters escaped."""
    return repr(clip(text))


def redact_url(url: str) -> str:
    """``url`` with its user-info and every query and fragment value replaced by ``***``.

    Works on the raw text, so it also hides what a URL parser would misread: in
    ``https://user:pa/ss@host/`` everything up to the last ``@`` before the path's query is
    taken as user-info."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    rest, hash_mark, fragment = rest.partition("#")
    rest, question, query = rest.partition("?")
    if "@" in rest:
        rest = "***@" + rest.rsplit("@", 1)[1]
    if question:
        parts = (p.partition("=") for p in query.split("&"))
        rest += "?" + "&".join(f"{name}=***" if eq else "***" for name, eq, _ in parts)
    if hash_mark:
        rest += "#***" if fragment else "#"
    return f"{scheme}{sep}{rest}"


def is_loopback_host(host: str) -> bool:
    """A literal loopback address, or exactly ``localhost`` (which must still resolve to a
    loopback address when connecting). ``localhost.`` is an ordinary DNS name: not loopback."""
    if host.lower() == "localhost":
        return True
    return is_loopback_address(host)


def is_loopback_address(text: str) -> bool:
    try:
        return ipaddress.ip_address(text.strip("[]")).is_loopback
    except ValueError:
        return False


def is_vpc_endpoint(scheme: str, host: str, port: int | None) -> bool:
    """``http://api.service.ucloud.cn`` (port 80): the one remote host allowed plain http."""
    return scheme.lower() == "http" and host.lower() == VPC_HOST and port in (None, 80)


# ---- setting shapes: each returns why the value does not fit, or None ------------------------


def signature_problem(value: str) -> str | None:
    if not SIG_MIN <= len(value) <= SIG_MAX:
        return tr(
            "must be {low}–{high} characters, not {length:,}",
            low=SIG_MIN,
            high=SIG_MAX,
            length=len(value),
        )
    if not value.isprintable():
        return tr("must not contain control characters")
    return None


def template_id_problem(value: str) -> str | None:
    if not _TEMPLATE_ID.fullmatch(value.strip()):
        return tr(
            "must be an id like UTA1234 (letters, digits, '-' or '_'; at most {limit} characters)",
            limit=MAX_TEMPLATE_ID,
        )
    return None


def project_id_problem(value: str) -> str | None:
    if not _PROJECT_ID.fullmatch(value):
        return tr(
            "must look like org-abc123 ('org-', then letters, digits, '-' or '_'; at most "
            "{limit} characters)",
            limit=MAX_PROJECT_ID,
        )
    return None


def key_problem(value: str) -> str | None:
    """Keys have no documented shape; only what cannot be a key is refused."""
    if len(value) > MAX_KEY:
        return tr(
            "is {length:,} characters long; a UCloud key is at most {limit}",
            length=len(value),
            limit=MAX_KEY,
        )
    if not value.isprintable() or any(ch.isspace() for ch in value):
        return tr("contains spaces or control characters")
    return None


def user_id_problem(value: str) -> str | None:
    """Why the API would refuse ``value`` as a UserId, or None."""
    if len(value) > MAX_USER_ID:
        return tr(
            "is {length:,} characters; at most {limit} allowed",
            length=len(value),
            limit=MAX_USER_ID,
        )
    if "'" in value or any(ord(ch) > 0xFFFF for ch in value):
        return tr("must not contain single quotes or emoji")
    return None


def extend_code_problem(value: str) -> str | None:
    if not _EXTEND_CODE.fullmatch(value):
        return tr("must be digits, at most {limit}", limit=MAX_EXTEND_CODE)
    return None


def profile_name_problem(value: str) -> str | None:
    if len(value) > MAX_PROFILE_NAME:
        return tr(
            "is {length:,} characters long; at most {limit}",
            length=len(value),
            limit=MAX_PROFILE_NAME,
        )
    if not value.isprintable():
        return tr("contains control characters")
    return None
