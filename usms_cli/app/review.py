"""What the template and signature use cases share: one call that changes something (create,
update, delete), the question before a delete, and waiting for a review to end."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from usms_cli.app.common import ApiFailure, api_client, query
from usms_cli.core.errors import ExitCode, InputError
from usms_cli.core.outcomes import ReviewResult
from usms_cli.i18n import tr, tr_n

if TYPE_CHECKING:
    from usms_cli.app.env import Env
    from usms_cli.engine.settings import Settings
    from usms_cli.output.console import Output


def submit(
    console: Output, settings: Settings, params: Mapping[str, Any], what: str, verbose: bool
) -> dict[str, Any]:
    """One call; its answer, or an ApiFailure (1 refused, 4 unreachable, 5 unknown). Whether a
    lost answer is asked again comes from the action table: never for a Create. ``what`` is an
    ``N_`` constant."""
    client = api_client(console, settings, verbose)
    try:
        return query(client, params, settings, what)
    finally:
        client.close()


def confirm_delete(console: Output, env: Env, kind: str, ids: Sequence[str], yes: bool) -> None:
    """Ask in a terminal before deleting; without one, only ``--yes`` deletes."""
    if yes:
        return
    shown = f"{', '.join(ids[:5])}{', …' if len(ids) > 5 else ''}"
    count = len(ids)
    if kind == "signature":
        what = tr_n(
            "{n:,} signature ({ids})", "{n:,} signatures ({ids})", count, n=count, ids=shown
        )
    else:
        what = tr_n("{n:,} template ({ids})", "{n:,} templates ({ids})", count, n=count, ids=shown)
    if not env.interactive():
        raise InputError(
            tr(
                "deleting {what} needs a confirmation, and there is no terminal to ask; "
                "nothing was deleted",
                what=what,
            ),
            hint=tr("pass --yes to delete without asking"),
        )
    console.err.line(tr("usms: delete {what}? This cannot be undone. [y/N] ", what=what))
    answer = env.stdin.readline().strip().lower()
    if answer not in ("y", "yes"):
        raise InputError(tr("nothing was deleted: the deletion was not confirmed"))


@dataclass(frozen=True)
class Patience:
    """How long to wait for a review, and how often to look (backing off like receipts)."""

    timeout: float = 600.0
    interval: float = 5.0


def wait_review(
    console: Output,
    kind: str,
    fetch: Callable[[], dict[str, Any]],
    patience: Patience,
    sleep: Callable[[float], None] = time.sleep,
) -> ReviewResult:
    """Look until approved or rejected, or ``patience.timeout`` passes (then exit 5). A look
    that fails for a transport reason is tried again; a refusal ends the wait."""
    from usms_cli.app.request import check_wait
    from usms_cli.core.receipts import PollPlan

    check_wait(patience.timeout, patience.interval, "--timeout", "--interval")
    deadline = time.monotonic() + patience.timeout
    delays = iter(PollPlan(patience.interval, max(patience.interval, 60.0)).delays())
    data: dict[str, Any] | None = None
    failed: ApiFailure | None = None
    with console.status_line() as status:
        while True:
            try:
                data = fetch()
            except ApiFailure as failure:
                if failure.exit_code == ExitCode.REJECTED:
                    raise
                failed = failure
                console.warn(tr("{problem}; will look again", problem=failure.message))
            if data is not None:
                result = ReviewResult(kind, data, waited=True)
                if result.state != "pending":
                    return result
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                if data is None and failed is not None:
                    raise failed
                assert data is not None
                return ReviewResult(kind, data, waited=True, timed_out=True)
            pause = min(next(delays), remaining)
            if kind == "signature":
                status(
                    tr("Waiting for the signature review · next look in {pause:.0f}s", pause=pause)
                )
            else:
                status(
                    tr("Waiting for the template review · next look in {pause:.0f}s", pause=pause)
                )
            sleep(pause)
