"""Pure rules over the send history: the params hash, the repeat guard, UCloud's per-number
frequency limits, and age strings such as ``90d``.

No I/O: the store (``engine/history.py``) fetches the recent sends of the numbers about to be
sent (:class:`PastSend` rows) and these functions decide.

**Params hash.** The history never stores template params (they are often verification codes),
only ``params_hash``: an HMAC-SHA256 of template, signature and params keyed by a random salt
kept in the history database, cut to 128 bits. It tells "same content" from "different
content", which is all the repeat guard and the "same content" limits need. The salt means a
hash cannot be looked up in a precomputed table, and hashes from two machines cannot be
compared. It does NOT make a short code secret from someone who holds the file: with the file
(and so the salt) a 6-digit code is found by trying a million HMACs, about a second. That is
accepted because the file is private (0600, like the journal, which holds params in clear),
and a verification code is worthless minutes after it was sent.

**Repeat guard.** Sending a number the same content (template + signature + params) that it
was *accepted* for less than ``repeat_window_s`` (60 s) ago is a repeat: almost always a
retried script or a double click.

**Frequency limits** (:class:`Limits`): UCloud's defaults per number (usms-api.md Part 3
§3.2). A verification-code template: at most 1 per 30 s, 3 per hour and 10 per 24 h for the
same number and template, whatever the params. Any other template: the same content at most
once per 60 s and 10 times per 24 h. Earlier sends count when their outcome was ``accepted``
or ``unknown`` (an unknown request may well have reached the phone); ``rejected`` and
``not_sent`` do not. A send ``t`` seconds ago is inside a window of ``w`` seconds when
``t < w``. A limit of N is exceeded by the planned send when N earlier sends are inside its
window (the planned one would be number N + 1).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from datetime import timedelta
from typing import NamedTuple

from usms_cli.core.errors import ConfigError, InputError
from usms_cli.core.text import LazyPattern
from usms_cli.i18n import tr

HASH_HEX_DIGITS = 32  # 128 bits: plenty to tell contents apart, half the storage of 256
COUNTED = frozenset({"accepted", "unknown"})  # outcomes that may have reached the phone
MAX_AGE_DAYS = 36500  # ages beyond 100 years are typing mistakes

HOUR = 3600
DAY = 86400


def params_hash(
    template_id: str, sig_content: str | None, params: Sequence[str], *, salt: bytes
) -> str:
    """The salted hash (32 hex digits) that stands for "this content" in the history."""
    material = json.dumps(
        [template_id, sig_content or "", list(params)], ensure_ascii=False, separators=(",", ":")
    )
    digest = hmac.new(salt, material.encode("utf-8"), hashlib.sha256).hexdigest()
    return digest[:HASH_HEX_DIGITS]


@dataclass(frozen=True)
class Limits:
    """Per-number thresholds. Defaults are UCloud's (see the module docstring); a count of 0
    or a window of 0 turns that check off. Override with :func:`limits_from`."""

    repeat_window_s: int = 60  # same content accepted this recently: a repeat
    code_gap_s: int = 30  # verification code, same template: at most 1 per this many seconds
    code_per_hour: int = 3  # verification code, same template: at most this many per hour
    code_per_day: int = 10  # verification code, same template: at most this many per 24 h
    other_gap_s: int = 60  # other template, same content: at most 1 per this many seconds
    other_per_day: int = 10  # other template, same content: at most this many per 24 h

    def rules(self, verification: bool) -> list[tuple[str, int, int]]:
        """``(name, allowed, window seconds)`` of each frequency check that applies and is on."""
        if verification:
            table = [
                ("code_gap_s", 1 if self.code_gap_s else 0, self.code_gap_s),
                ("code_per_hour", self.code_per_hour, HOUR),
                ("code_per_day", self.code_per_day, DAY),
            ]
        else:
            table = [
                ("other_gap_s", 1 if self.other_gap_s else 0, self.other_gap_s),
                ("other_per_day", self.other_per_day, DAY),
            ]
        return [(name, allowed, window) for name, allowed, window in table if allowed and window]

    @property
    def lookback_s(self) -> int:
        """How far back the history must be read to apply every check (``since = now - this``)."""
        windows = [self.repeat_window_s]
        for verification in (True, False):
            windows.extend(window for _, _, window in self.rules(verification))
        return max(windows)


DEFAULT_LIMITS = Limits()

_AGE = LazyPattern(r"\s*([0-9]{1,12})\s*([smhdwSMHDW])\s*")
_COUNT = LazyPattern(r"\s*[0-9]{1,12}\s*")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": HOUR, "d": DAY, "w": 7 * DAY}


def parse_age(text: str) -> timedelta:
    """``"90d"`` → 90 days. Units: s, m (minutes), h, d, w. Raises :class:`InputError`."""
    match = _AGE.fullmatch(text)
    if match is None:
        raise InputError(
            tr("not an age: {text!r}", text=text),
            hint=tr("give a whole number and a unit: 30m, 12h, 2d, 90d (s, m, h, d or w)"),
        )
    seconds = int(match.group(1)) * _UNIT_SECONDS[match.group(2).lower()]
    if seconds <= 0:
        raise InputError(tr("an age must be more than zero, got {text!r}", text=text))
    if seconds > MAX_AGE_DAYS * DAY:
        raise InputError(
            tr("an age of at most {days} days, please; got {text!r}", days=MAX_AGE_DAYS, text=text)
        )
    return timedelta(seconds=seconds)


def limits_from(mapping: Mapping[str, object], base: Limits = DEFAULT_LIMITS) -> Limits:
    """``base`` with the thresholds in ``mapping`` replaced (keys are :class:`Limits` field
    names, ``-`` may stand for ``_``). Counts are whole numbers >= 0; windows (``*_s``) are
    seconds or an age such as ``"2m"``. Raises :class:`ConfigError` naming the bad key."""
    names = {f.name for f in fields(Limits)}
    changes: dict[str, int] = {}
    for raw_key, value in mapping.items():
        key = str(raw_key).strip().replace("-", "_")
        if key not in names:
            raise ConfigError(
                tr("unknown history limit {key!r}", key=raw_key),
                hint=tr("known limits: {names}", names=", ".join(sorted(names))),
            )
        changes[key] = _limit_value(key, value)
    return replace(base, **changes)


def _limit_value(key: str, value: object) -> int:
    if isinstance(value, bool):
        raise ConfigError(
            tr("history limit {key}: give a number, not {value!r}", key=key, value=value)
        )
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _COUNT.fullmatch(value):
        number = int(value.strip())
    elif isinstance(value, str) and key.endswith("_s"):
        try:
            number = int(parse_age(value).total_seconds())
        except InputError:
            raise ConfigError(
                tr(
                    "history limit {key}: not a number of seconds or an age: {value!r}",
                    key=key,
                    value=value,
                )
            ) from None
    else:
        raise ConfigError(
            tr("history limit {key}: give a whole number >= 0, not {value!r}", key=key, value=value)
        )
    if number < 0 or number > MAX_AGE_DAYS * DAY:
        raise ConfigError(tr("history limit {key}: out of range: {value!r}", key=key, value=value))
    return number


class PastSend(NamedTuple):
    """One number of one earlier request, as the store returns it for the checks (a tuple:
    a guard before a big batch may read hundreds of thousands)."""

    phone: str
    time: float  # Unix seconds, when the request was about to be sent
    template_id: str
    params_hash: str | None
    status: str  # accepted | unknown | rejected | not_sent


@dataclass(frozen=True)
class Planned:
    """The send about to happen. ``per_number`` holds each phone's hash when every number
    gets its own params (a CSV batch); otherwise ``params_hash`` applies to all."""

    template_id: str
    params_hash: str
    verification: bool = False  # a verification-code template (Purpose 1)
    per_number: Mapping[str, str] | None = None

    def hash_for(self, phone: str) -> str:
        if self.per_number is not None:
            return self.per_number.get(phone, self.params_hash)
        return self.params_hash


@dataclass(frozen=True)
class Repeat:
    """``phone`` was accepted the same content ``seconds_ago`` seconds ago."""

    phone: str
    seconds_ago: float


@dataclass(frozen=True)
class FrequencyProblem:
    """The planned send would make ``count + 1`` messages to ``phone`` inside ``window_s``,
    more than ``allowed`` (the :class:`Limits` field ``limit``)."""

    phone: str
    limit: str
    allowed: int
    window_s: int
    count: int

    def describe(self) -> str:
        """E.g. "3 verification codes with this template in the last hour (limit 3)"."""
        fields = {"count": self.count, "window": _window_words(self.window_s)}
        if self.limit.startswith("code"):
            return tr(
                "{count} verification code(s) with this template in the last {window} "
                "(limit {allowed})",
                allowed=self.allowed,
                **fields,
            )
        return tr(
            "{count} message(s) with this content in the last {window} (limit {allowed})",
            allowed=self.allowed,
            **fields,
        )


def _window_words(seconds: int) -> str:
    if seconds == HOUR:
        return tr("hour")
    if seconds == DAY:
        return tr("24 hours")
    if seconds % DAY == 0:
        return tr("{n} days", n=seconds // DAY)
    if seconds % HOUR == 0:
        return tr("{n} hours", n=seconds // HOUR)
    if seconds % 60 == 0 and seconds >= 120:
        return tr("{n} minutes", n=seconds // 60)
    return tr("{n} s", n=seconds)


def find_repeats(
    recent: Iterable[PastSend], planned: Planned, now: float, limits: Limits = DEFAULT_LIMITS
) -> list[Repeat]:
    """Numbers accepted the planned content less than ``repeat_window_s`` ago, one entry each
    (the latest send), sorted by phone."""
    window = limits.repeat_window_s
    latest: dict[str, float] = {}
    if not window:
        return []
    for send in recent:
        if send.status != "accepted" or send.template_id != planned.template_id:
            continue
        if send.params_hash != planned.hash_for(send.phone):
            continue
        age = max(0.0, now - send.time)  # a send "in the future" (clock stepped back) is recent
        if age < window:
            latest[send.phone] = min(latest.get(send.phone, age), age)
    return [Repeat(phone, latest[phone]) for phone in sorted(latest)]


def frequency_problems(
    recent: Iterable[PastSend], planned: Planned, now: float, limits: Limits = DEFAULT_LIMITS
) -> list[FrequencyProblem]:
    """Every (phone, limit) the planned send would exceed, with the earlier count inside the
    window; sorted by phone, then in :meth:`Limits.rules` order."""
    rules = limits.rules(planned.verification)
    if not rules:
        return []
    ages: dict[str, list[float]] = {}
    for send in recent:
        if send.status not in COUNTED or send.template_id != planned.template_id:
            continue
        if not planned.verification and send.params_hash != planned.hash_for(send.phone):
            continue
        ages.setdefault(send.phone, []).append(max(0.0, now - send.time))
    problems: list[FrequencyProblem] = []
    for phone in sorted(ages):
        for name, allowed, window in rules:
            count = sum(1 for age in ages[phone] if age < window)
            if count >= allowed:
                problems.append(FrequencyProblem(phone, name, allowed, window, count))
    return problems


# -- what the store answers (engine/history.py) ----------------------------------------------


@dataclass(frozen=True)
class RunSummary:
    """One run for ``usms history``; ``exit_code`` None means it never finished (killed)."""

    id: int
    started: float
    finished: float | None
    action: str
    template_id: str
    sig_content: str | None
    project_id: str | None
    planned: int
    exit_code: int | None
    accepted: int  # numbers, by outcome
    rejected: int
    unknown: int
    not_sent: int

    @property
    def counts(self) -> dict[str, int]:
        return {
            "accepted": self.accepted,
            "rejected": self.rejected,
            "unknown": self.unknown,
            "not_sent": self.not_sent,
        }

    @property
    def recorded(self) -> int:
        return self.accepted + self.rejected + self.unknown + self.not_sent


@dataclass(frozen=True)
class PhoneSend:
    """One send to one phone, newest first in ``History.by_phone``."""

    run_id: int
    request: int
    time: float
    action: str
    template_id: str
    sig_content: str | None
    project_id: str | None
    status: str
    ret_code: int | None
    session_no: str | None
    reason: str | None  # why the API refused this number by name
    receipt: str | None  # delivered | failed | unknown, once a receipt was recorded
    receipt_code: str | None
    receipt_time: int | None
    cost: int | None


@dataclass(frozen=True)
class RunSessions:
    """The SessionNos of one run and the phones accepted under each, in request order."""

    run_id: int
    started: float
    sessions: dict[str, list[str]] = field(default_factory=dict)
