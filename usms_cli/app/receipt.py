"""Delivery receipts (GetUSMSSendReceipt): fetch once, or poll with back-off until every phone
has a final result or time runs out. ``usms receipt`` and ``usms send --wait`` both use it."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from usms_cli.app.common import ApiFailure, Connection, api_client, query, require_credentials
from usms_cli.app.common import resolve as resolve_settings
from usms_cli.app.request import check_wait
from usms_cli.core.errors import ExitCode, InputError
from usms_cli.i18n import N_, tr

if TYPE_CHECKING:
    from usms_cli.app.env import Env
    from usms_cli.core.receipts import Receipt, ReceiptState
    from usms_cli.engine.client import Client
    from usms_cli.engine.settings import Settings
    from usms_cli.output.console import Output


@dataclass(frozen=True)
class Wait:
    """Whether to poll, and how: first pause ``interval``, backing off up to a minute."""

    enabled: bool = False
    timeout: float = 600.0
    interval: float = 5.0


@dataclass
class ReceiptResult:
    state: ReceiptState
    waited: bool
    timed_out: bool

    @property
    def exit_code(self) -> ExitCode:
        return self.state.exit_code()


@dataclass(frozen=True)
class Expected:
    """Whom the sessions went to, when the caller knows (``--phones``, ``--expect``)."""

    phones: tuple[str, ...] = ()
    count: int | None = None


def receipts(
    console: Output,
    env: Env,
    connection: Connection,
    session_nos: Sequence[str],
    wait: Wait,
    expected: Expected | None = None,
) -> ReceiptResult:
    """``usms receipt``: the receipts of ``session_nos`` (each argument may hold several,
    separated by white space; ``-`` reads them from stdin). The phones each session went to
    come from the send history when it knows them; what is fetched is stored there."""
    from usms_cli.app import history
    from usms_cli.core.receipts import split_session_nos

    words = [env.stdin.read() if value == "-" else value for value in session_nos]
    unique = split_session_nos(words)
    if not unique:
        raise InputError(tr("no SessionNo given: usms receipt SESSION_NO... (or --last)"))
    return _fetch(
        console, env, connection, unique, wait, expected, history.phones_of_sessions(env, unique)
    )


def last_run(
    console: Output, env: Env, connection: Connection, run_id: int | None, wait: Wait
) -> ReceiptResult:
    """``usms receipt --last`` / ``--run ID``: the receipts of a run in the send history."""
    from usms_cli.app import history

    sessions = history.sessions_of_run(env, run_id)
    return _fetch(console, env, connection, list(sessions), wait, None, sessions)


def _fetch(
    console: Output,
    env: Env,
    connection: Connection,
    session_nos: Sequence[str],
    wait: Wait,
    expected: Expected | None,
    sent_to: Mapping[str, Sequence[str]],
) -> ReceiptResult:
    from usms_cli.app import history

    check_wait(wait.timeout, wait.interval, "--wait-timeout", "--wait-interval")
    if expected is not None and expected.count is not None and expected.count < 1:
        raise InputError(tr("--expect must be a number of phones ≥ 1"))
    settings = resolve_settings(connection, env, console)
    require_credentials(settings)
    client = api_client(console, settings, connection.verbose)
    try:
        result = poll(console, client, settings, session_nos, wait, sent_to, expected)
    finally:
        client.close()
    history.store_receipts(console, env, result.state.rows())
    return result


def read_phones(value: str) -> tuple[str, ...]:
    """``--phones``: a file of numbers (as ``send -f`` reads it), or a list in the argument."""
    import os

    from usms_cli.core.phones import collect
    from usms_cli.engine.inputs import gather

    is_file = os.path.isfile(value)
    recipients = collect(gather([] if is_file else [value], [value] if is_file else []))
    if recipients.invalid_count or not recipients.numbers:
        raise InputError(
            tr(
                "--phones {value!r}: give valid phone numbers, or a file of them",
                value=value[:40],
            )
        )
    return tuple(recipients.numbers)


def poll(
    console: Output,
    client: Client,
    settings: Settings,
    session_nos: Sequence[str],
    wait: Wait,
    sent_to: Mapping[str, Sequence[str]] | None = None,
    expected: Expected | None = None,
) -> ReceiptResult:
    """Fetch once, or (``wait.enabled``) poll until every known phone is final or time is up.
    ``sent_to`` maps each SessionNo to the phones it was sent to, when known."""
    from usms_cli.core.api import MAX_SESSIONS_PER_RECEIPT, build_receipt_query, chunks
    from usms_cli.core.receipts import PollPlan, ReceiptState, parse_receipts

    expected = expected or Expected()
    state = ReceiptState(list(session_nos), sent_to or {}, phones=expected.phones)
    state.expect = expected.count
    deadline = time.monotonic() + wait.timeout
    plan = PollPlan(interval=wait.interval, max_interval=max(wait.interval, 60.0))
    delays = iter(plan.delays())
    with console.status_line() as status:
        while True:
            for chunk in chunks(list(session_nos), MAX_SESSIONS_PER_RECEIPT):
                params = build_receipt_query(chunk, settings.project_id)
                try:
                    body = query(client, params, settings, N_("the receipt query"))
                except ApiFailure as failure:
                    if not wait.enabled or failure.exit_code == ExitCode.REJECTED:
                        raise
                    console.warn(tr("{problem}; will ask again", problem=failure.message))
                    continue
                state.update(parse_receipts(body))
            if not wait.enabled or state.done():
                return ReceiptResult(state, wait.enabled, timed_out=False)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return ReceiptResult(state, True, timed_out=True)
            pause = min(next(delays), remaining)
            counts = state.counts()
            status(
                tr(
                    "Waiting for receipts: {delivered} delivered, {failed} failed, "
                    "{pending} not final · next check in {pause:.0f}s · {remaining:.0f}s left",
                    delivered=counts["delivered"],
                    failed=counts["failed"],
                    pending=counts["pending"] + counts["unknown"],
                    pause=pause,
                    remaining=remaining,
                )
            )
            time.sleep(pause)


MAX_PULL_CALLS = 50
"""``usms receipt --pull`` stops after this many PullUSMSReport calls (50 x 200 = 10,000
reports) even if more are waiting: a run again fetches the rest."""


@dataclass
class PullResult(ReceiptResult):
    """``usms receipt --pull``: the reports pulled, in how many calls, and whether it stopped
    early (the bound, or a failed call after some reports were already taken)."""

    pulled: int = 0
    calls: int = 0
    more_waiting: bool = False
    error: str | None = None

    @property
    def exit_code(self) -> ExitCode:
        code = self.state.exit_code()
        if self.error is not None and code == ExitCode.OK:
            return ExitCode.UNKNOWN
        return code


def pull(
    console: Output, env: Env, connection: Connection, max_calls: int = MAX_PULL_CALLS
) -> PullResult:
    """PullUSMSReport, 200 reports per call, until an empty ReportSet (or ``max_calls``).
    The API deletes what it returns, so every report received is kept: stored in the send
    history like a pushed one, and returned, even when a later call fails."""
    from usms_cli.app import history
    from usms_cli.core.api import build_pull_query
    from usms_cli.core.pushes import PushRejected, parse_pull_report
    from usms_cli.core.receipts import ReceiptState
    from usms_cli.core.results import refusal
    from usms_cli.core.signing import signed_params

    settings = resolve_settings(connection, env, console)
    keys = require_credentials(settings)
    client = api_client(console, settings, connection.verbose)
    received: list[Receipt] = []
    result = PullResult(ReceiptState([]), waited=False, timed_out=False)
    try:
        while result.calls < max_calls:
            answer = client.call(signed_params(build_pull_query(settings.project_id), *keys))
            result.calls += 1
            if answer.status == "rejected" and not received:
                text, hint = refusal(answer, "PullUSMSReport", "pull")
                failure = ApiFailure(text, hint=hint)
                failure.exit_code = ExitCode.REJECTED
                raise failure
            if answer.status != "accepted" and not received:  # nothing taken yet: fail as usual
                raise ApiFailure.from_result(answer, "PullUSMSReport")
            if answer.status != "accepted" or answer.body is None:
                result.error = answer.error or refusal(answer, "PullUSMSReport", "pull")[0]
                break
            try:
                events = parse_pull_report(answer.body)
            except PushRejected as exc:
                result.error = f"PullUSMSReport answered something usms cannot read ({exc})"
                break
            if not events:
                break
            received.extend(event.as_receipt() for event in events)
        else:
            result.more_waiting = True
    finally:
        client.close()
    _fill(result, received)
    history.store_receipts(console, env, received)
    return result


def _fill(result: PullResult, received: Sequence[Receipt]) -> None:
    """Every report pulled, by session; a session's phones are those that reported."""
    sessions: dict[str, list[Receipt]] = {}
    for receipt in received:
        sessions.setdefault(receipt.session_no, []).append(receipt)
    result.state.session_nos = list(sessions)
    result.state.expected = {sn: [r.phone for r in rows] for sn, rows in sessions.items()}
    result.state.update(sessions)
    result.pulled = len(received)
