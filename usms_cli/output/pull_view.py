"""How ``usms receipt --pull`` looks: the pulled reports as ``usms receipt`` shows receipts,
a line saying how many came in how many calls, or one JSON object (the receipt object plus
``pulled``, ``calls``, ``more_waiting`` and ``error``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from usms_cli.core.text import plural
from usms_cli.output.render import receipts_json, render_receipts

if TYPE_CHECKING:
    from usms_cli.output.console import Output


def render_pull(output: Output, result: Any, max_calls: int) -> None:
    """``result`` is an ``app.receipt.PullResult``."""
    code = result.exit_code
    if output.json_mode:
        payload = receipts_json(result.state, False)
        payload.update(
            ok=code == 0,
            exit_code=int(code),
            pulled=result.pulled,
            calls=result.calls,
            more_waiting=result.more_waiting,
        )
        if result.error is not None:
            payload["error"] = result.error
        output.json(payload)
        return
    render_receipts(output, result.state, waited=False, timed_out=False)
    if not output.quiet:
        output.err.line(
            f"Pulled {plural(result.pulled, 'report')} in {plural(result.calls, 'call')} "
            "(each report is given once: they are in the send history now)."
        )
    if result.more_waiting:
        output.warn(
            f"stopped after {max_calls} calls ({max_calls * 200:,} reports at most per run); "
            "more may be waiting: run usms receipt --pull again"
        )
    if result.error is not None:
        output.error(
            f"a pull failed after {plural(result.pulled, 'report')} had been received: "
            f"{result.error}",
            hint="the reports above are kept; run usms receipt --pull again for the rest",
        )
