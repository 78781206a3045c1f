"""The send history as the use cases see it: opening it for a send (or not), the repeat guard
and the per-number frequency warnings before a send, receipts stored as they are fetched, and
the ``usms history`` listings and pruning."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from usms_cli.core.errors import ExitCode, InputError
from usms_cli.i18n import tr

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from usms_cli.app.env import Env
    from usms_cli.app.job import Job
    from usms_cli.app.request import SendRequest
    from usms_cli.core.history_rules import FrequencyProblem, Limits, Repeat
    from usms_cli.core.receipts import Receipt
    from usms_cli.core.results import RequestOutcome
    from usms_cli.engine.history import History
    from usms_cli.engine.history_safe import SafeHistory
    from usms_cli.output.console import Output

OFF = ("off", "0", "false", "no", "none")


def for_send(console: Output, env: Env, request: SendRequest) -> SafeHistory:
    """The history a send records into: off with --no-history, USMS_HISTORY=off or a dry run;
    a --sandbox send is recorded only when USMS_HISTORY names a file (asked for)."""
    from usms_cli.engine.history import history_path
    from usms_cli.engine.history_safe import SafeHistory

    explicit = env.environ.get("USMS_HISTORY", "").strip()
    off = request.no_history or request.dry_run or explicit.lower() in OFF
    if request.sandbox and not explicit:
        off = True
    path = None if off else history_path(env.environ)
    return SafeHistory.open(path, console.warn)


def limits(env: Env) -> Limits:
    """The frequency thresholds: UCloud's defaults, or ``USMS_LIMITS`` (``name=value,…``)."""
    from usms_cli.core.history_rules import DEFAULT_LIMITS, limits_from

    raw = env.environ.get("USMS_LIMITS", "").strip()
    if not raw:
        return DEFAULT_LIMITS
    pairs = dict(item.partition("=")[::2] for item in raw.split(",") if item.strip())
    return limits_from({key.strip(): value.strip() for key, value in pairs.items()})


@dataclass
class GuardResult:
    skipped: list[Repeat] = field(default_factory=list)  # --skip-repeats: not sent
    warnings: list[FrequencyProblem] = field(default_factory=list)


def guard(
    console: Output, env: Env, history: SafeHistory, job: Job, request: SendRequest
) -> GuardResult:
    """Before sending: the same template, signature and params accepted for a number in the
    last minute is a repeat (exit 2, unless --again or --skip-repeats); a send that would pass
    UCloud's per-number limits is warned about (exit 2 with --strict-limits). A --journal
    resume is not checked: the journal already knows what it sent."""
    from usms_cli.core.history_rules import find_repeats, frequency_problems

    result = GuardResult()
    if not history.active or (request.journal is not None and request.journal.exists()):
        return result
    message = job.message
    rules = limits(env)
    now = env.now().timestamp()
    numbers = job.recipients.numbers
    planned = _planned(history, job, request)
    recent = history.recent_sends(numbers, since=now - rules.lookback_s)
    if not recent:
        return result
    repeats = [] if request.again else find_repeats(recent, planned, now, rules)
    if repeats and not request.skip_repeats:
        newest = min(r.seconds_ago for r in repeats)
        ago = "{phone}: {seconds:.0f} s ago"
        raise InputError(
            tr(
                "{n:,} of {total:,} numbers were sent this same message (template "
                "{template_id}, same params) {seconds:.0f} s ago; nothing was sent: the carrier "
                "would block or bill the repeat",
                n=len(repeats),
                total=len(numbers),
                template_id=message.template_id,
                seconds=newest,
            ),
            hint=tr("--again sends anyway; --skip-repeats sends to the others only"),
            details=[ago.format(phone=r.phone, seconds=r.seconds_ago) for r in repeats[:10]],
            shown_details=[
                tr(
                    "{phone}: {seconds:.0f} s ago",
                    phone=console.masker.phone(r.phone),
                    seconds=r.seconds_ago,
                )
                for r in repeats[:10]
            ],
        )
    result.skipped = repeats
    result.warnings = frequency_problems(recent, planned, now, rules)
    if result.warnings:
        _frequency(console, env, request, result.warnings)
    return result


def looks_like_a_code(params: Iterable[str]) -> bool:
    """Whether a message is probably a verification code: its only param is 4–8 digits. (The
    template's purpose would say for sure, but costs a look-up on every send.)"""
    values = list(params)
    return len(values) == 1 and values[0].isdigit() and 4 <= len(values[0]) <= 8


def _planned(history: SafeHistory, job: Job, request: SendRequest) -> Any:
    from usms_cli.core.history_rules import Planned

    message = job.message
    if job.table is None:
        params_hash = history.params_hash(message.template_id, message.sig_content, message.params)
        code = looks_like_a_code(message.params)
        return Planned(message.template_id, params_hash, verification=code)
    rows = job.table.rows
    per_number = {
        row.phone: history.params_hash(message.template_id, message.sig_content, row.params)
        for row in rows
    }
    code = bool(rows) and all(looks_like_a_code(row.params) for row in rows)
    return Planned(message.template_id, "", code, per_number)


def _frequency(
    console: Output, env: Env, request: SendRequest, problems: list[FrequencyProblem]
) -> None:
    phones = sorted({p.phone for p in problems})
    first = problems[0]
    text = tr(
        "{n:,} number(s) would pass UCloud's per-number limits with this send, e.g. "
        "{phone}: {problem}; the carrier will probably block those messages",
        n=len(phones),
        phone=console.masker.phone(first.phone),
        problem=first.describe(),
    )
    strict = request.strict_limits or env.environ.get("USMS_STRICT_LIMITS", "") in ("1", "true")
    if strict:
        raise InputError(
            tr("{problem}; nothing was sent", problem=text),
            hint=tr("drop those numbers, wait, or send without --strict-limits"),
        )
    console.warn(text)


def store_receipts(console: Output, env: Env, receipts: Iterable[Receipt]) -> None:
    """Receipts fetched by ``usms receipt`` or ``send --wait`` go into the history (if on)."""
    from usms_cli.engine.history import history_path
    from usms_cli.engine.history_safe import SafeHistory

    if env.environ.get("USMS_HISTORY", "").strip().lower() in OFF:
        return
    rows = [r for r in receipts if r.result != "pending" and r.phone]
    if not rows:
        return
    history = SafeHistory.open(history_path(env.environ), console.warn)
    try:
        history.record_receipts(rows)
    finally:
        history.close()


def open_for_reading(env: Env) -> History:
    """The history for ``usms history`` and ``receipt --last``; a clear error when off."""
    from usms_cli.engine.history import History, history_path

    path = history_path(env.environ)
    if path is None:
        raise InputError(tr("the send history is off (USMS_HISTORY=off)"))
    if not path.exists():
        raise InputError(
            tr("no send history yet at {path}", path=path),
            hint=tr("usms records every real send there; send something first"),
        )
    return History.open(path)


def sessions_of_run(env: Env, run_id: int | None) -> dict[str, list[str]]:
    """SessionNo -> phones of the last run (``run_id`` None) or of run ``run_id``."""
    history = open_for_reading(env)
    try:
        found = history.run_sessions(run_id)
    finally:
        history.close()
    if found is None or not found.sessions:
        if run_id is None:
            text = tr("the last run has no accepted request, so no SessionNo to ask about")
        else:
            text = tr(
                "run {run_id} has no accepted request, so no SessionNo to ask about",
                run_id=run_id,
            )
        raise InputError(text)
    return found.sessions


def phones_of_sessions(env: Env, session_nos: Iterable[str]) -> dict[str, list[str]]:
    """The phones each SessionNo went to, for those the history knows (quietly none else)."""
    from usms_cli.engine.history import history_path
    from usms_cli.engine.history_safe import SafeHistory

    if env.environ.get("USMS_HISTORY", "").strip().lower() in OFF:
        return {}
    path = history_path(env.environ)
    if path is None or not path.exists():
        return {}
    history = SafeHistory.open(path, lambda message: None)
    try:
        known = {sn: history.phones_for_session(sn) for sn in session_nos}
    finally:
        history.close()
    return {sn: phones for sn, phones in known.items() if phones}


class Recorder:
    """Records each request of a send in the history, before it is sent and after (the
    sender's ``Recorder`` hook); a CSV batch keeps each number's own params hash."""

    def __init__(
        self, history: SafeHistory, run_id: int | None, per_number: dict[str, str] | None
    ) -> None:
        self.history, self.run_id, self.per_number = history, run_id, per_number

    def _hashes(self, phones: Sequence[str]) -> list[str] | None:
        if self.per_number is None:
            return None
        return [self.per_number.get(phone, "") for phone in phones]

    def before(self, index: int, phones: Sequence[str]) -> None:
        self.history.before_request(self.run_id, index, phones, self._hashes(phones))

    def after(self, outcome: RequestOutcome) -> None:
        result = outcome.result
        if result is None:
            return
        self.history.after_request(
            self.run_id,
            outcome.index,
            outcome.numbers,
            result.status,
            result.ret_code,
            outcome.session_no,
            outcome.refused,
            self._hashes(outcome.numbers),
        )


def start(history: SafeHistory, job: Job) -> Recorder:
    """A run in the history for ``job``, and the recorder its requests go through."""
    message = job.message
    per_number = None
    if job.table is None:
        action = "SendUSMSMessage"
        params_hash: str | None = history.params_hash(
            message.template_id, message.sig_content, message.params
        )
    else:
        action, params_hash = "SendBatchUSMSMessage", None
        per_number = {
            row.phone: history.params_hash(message.template_id, message.sig_content, row.params)
            for row in job.table.rows
        }
    run_id = history.start_run(
        action,
        message.template_id,
        message.sig_content,
        message.project_id,
        params_hash,
        len(job.recipients.numbers),
    )
    return Recorder(history, run_id, per_number)


@dataclass
class Listing:
    """What ``usms history`` shows: runs, or (``phone``) every send to one number."""

    runs: list[Any] = field(default_factory=list)
    sends: list[Any] = field(default_factory=list)
    phone: str | None = None
    pruned: int | None = None
    exit_code: ExitCode = ExitCode.OK


MAX_LIMIT = 10_000


def listing(
    env: Env,
    *,
    phone: str | None = None,
    since: str | None = None,
    template_id: str | None = None,
    limit: int = 20,
) -> Listing:
    """Recent runs (newest first), or everything recorded for ``phone``."""
    from usms_cli.core.history_rules import parse_age
    from usms_cli.core.phones import InvalidPhone, normalize

    if not 1 <= limit <= MAX_LIMIT:
        raise InputError(tr("--limit must be between 1 and {limit:,}", limit=MAX_LIMIT))
    start = None if since is None else env.now().timestamp() - parse_age(since).total_seconds()
    history = open_for_reading(env)
    try:
        if phone is None:
            return Listing(runs=history.runs(since=start, template_id=template_id, limit=limit))
        try:
            wire = normalize(phone)
        except InvalidPhone as exc:
            raise InputError(tr("--phone: {problem}", problem=exc)) from None
        sends = [s for s in history.by_phone(wire, limit=limit) if start is None or s.time >= start]
        return Listing(sends=sends, phone=wire)
    finally:
        history.close()


def prune(env: Env, older_than: str) -> Listing:
    """Forget the runs older than ``older_than`` (``90d``, ``12h``)."""
    from usms_cli.core.history_rules import parse_age

    age = parse_age(older_than)
    history = open_for_reading(env)
    try:
        return Listing(pruned=history.prune(age))
    finally:
        history.close()
